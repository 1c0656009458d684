"""Whom the dashboard shows usage to: the usage API's own policy.

The panels do not keep a rule of their own. They evaluate the API's
oslo.policy rules (:mod:`stratuslab_plugins.accounting.api.policy`),
with the overrides of the same policy file when the site names it in
``STRATUSLAB_ACCOUNTING_POLICY_FILE``, on the signed-in user's roles and
project: the VO usage panel is shown to whom the API shows more than his
own project, the queue section to whom it shows the queue. The API still
filters every row itself with the user's token.
"""

import functools

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from stratuslab_plugins.accounting.api import policy
from stratuslab_plugins.dashboard import settings


@functools.lru_cache(maxsize=4)
def _enforcer(policy_file):
    conf = cfg.ConfigOpts()
    conf([], project='stratuslab', default_config_files=[],
         default_config_dirs=[])
    if policy_file:
        policy_opts.set_defaults(conf, policy_file=policy_file)
    return policy.make_enforcer(conf)


def enforcer():
    """Return the API's policy enforcer with the site's overrides."""
    return _enforcer(settings.get('STRATUSLAB_ACCOUNTING_POLICY_FILE'))


def credentials(request):
    """The signed-in user's policy values, as oslo.context gives the API."""
    user = request.user
    return {'user_id': user.id, 'project_id': user.project_id,
            'domain_id': getattr(user, 'domain_id', None),
            'roles': [role['name'] for role in user.roles]}


def sees_vo_usage(request):
    """True if the usage API shows this user his VO's other projects."""
    return policy.sees_vo_usage(enforcer(), credentials(request))


def reads_queue(request):
    """True if the usage API lets this user read the APEL queue."""
    return enforcer().enforce(policy.QUEUE_READ, {}, credentials(request))
