"""Who may read what in the usage API: oslo.policy rules.

Defaults, overridable in the policy file (``[oslo_policy] policy_file``):

* ``admin`` (``role:admin``) sees every project and the APEL queue;
* a project member sees the projects of his token (``project_id``);
* a VO manager (``role:vo_manager``) sees every project of his token's
  project's VO. The caller's VO is not in a Keystone token: the API adds
  it to the credentials as ``vo`` from the site's VO map, and the rule
  compares it with the target's ``vo``.

Listings are filtered row by row with :meth:`Authorizer.visible`, so a
caller sees the union of what each rule grants him. Rows whose project
is unknown (an instance whose notifications named none) belong to no one
and are shown only to callers passing ``accounting_api:admin``: a
domain- or system-scoped token has no project either, and oslo.policy
would match the two. The queue, which belongs to no project, needs
``accounting_api:queue:read``. Generate a
sample with ``oslopolicy-sample-generator --namespace
stratuslab_accounting_api``.
"""

from oslo_policy import policy

ADMIN = 'accounting_api:admin'
VO_MANAGER = 'accounting_api:vo_manager'
USAGE_READ = 'accounting_api:usage:read'
RECORDS_READ = 'accounting_api:records:read'
QUEUE_READ = 'accounting_api:queue:read'

_MEMBER_OR_MANAGER = ('rule:%s or project_id:%%(project_id)s or rule:%s'
                      % (ADMIN, VO_MANAGER))

RULES = [
    policy.RuleDefault(ADMIN, 'role:admin',
                       description='Site administrators: everything.'),
    policy.RuleDefault(VO_MANAGER, 'role:vo_manager and vo:%(vo)s',
                       description='A VO manager, for the projects of the '
                                   'VO of the project he is scoped to.'),
    policy.DocumentedRuleDefault(
        USAGE_READ, _MEMBER_OR_MANAGER,
        'Read the usage of a project (target: project_id, vo).',
        [{'path': '/v1/usage', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        RECORDS_READ, _MEMBER_OR_MANAGER,
        'Read the instance records of a project and their send state.',
        [{'path': '/v1/records', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        QUEUE_READ, 'rule:%s' % ADMIN,
        'Read the outgoing APEL queue and the last accounting runs.',
        [{'path': '/v1/queue', 'method': 'GET'}]),
]


def list_rules():
    """Entry point ``oslo.policy.policies`` for the sample generator."""
    return RULES


def make_enforcer(conf):
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(RULES)
    return enforcer


# Stand-ins for "the caller's own VO" and "another project of it": the
# rules compare a target's values with the caller's, never read them.
_CALLERS_VO = '(the VO of the caller\'s project)'
_OTHER_PROJECT = '(another project of that VO)'


def sees_vo_usage(enforcer, credentials):
    """True if the API shows this caller usage beyond his own project.

    That is, if ``accounting_api:usage:read`` grants him another project
    of his own VO: site admins and VO managers by default. The Horizon
    panel of VO usage is shown to exactly these callers.

    :param credentials: the token's policy values, without ``vo`` (the
        answer holds for whichever VO his project has).
    """
    return enforcer.enforce(
        USAGE_READ, {'project_id': _OTHER_PROJECT, 'vo': _CALLERS_VO},
        dict(credentials, vo=_CALLERS_VO))


class Authorizer:
    """The policy decisions of one request.

    :param enforcer: from :func:`make_enforcer`.
    :param credentials: the token's policy values (oslo.context's
        ``to_policy_values()``).
    :param vo_for_project: ``project_id -> VO or None``.
    """

    def __init__(self, enforcer, credentials, vo_for_project):
        self.enforcer = enforcer
        self.credentials = dict(credentials)
        vo = vo_for_project(self.credentials.get('project_id'))
        # A token whose project has no VO gets no ``vo`` at all, so that
        # ``vo:%(vo)s`` can never match (oslo.policy compares strings, and
        # str(None) would match a VO-less target).
        if vo is not None:
            self.credentials['vo'] = vo
        self._cache = {}

    def allowed(self, rule, target=None):
        return self.enforcer.enforce(rule, target or {}, self.credentials)

    def visible_for(self, rule):
        """Return ``(project_id, vo) -> bool`` for a listing rule."""
        def visible(project_id, vo):
            key = (rule, project_id, vo)
            if key not in self._cache:
                # oslo.policy compares strings: a project-less token's
                # ``project_id:%(project_id)s`` matches a project-less
                # row. Only admins see what belongs to no project.
                self._cache[key] = (
                    self.allowed(rule, {'project_id': project_id, 'vo': vo})
                    if project_id else self.allowed(ADMIN))
            return self._cache[key]
        return visible
