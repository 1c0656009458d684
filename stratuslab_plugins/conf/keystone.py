"""Keystone credential groups, shared by every piece that calls OpenStack.

The scheduler's VO map (``[grid_keystone]``), the accounting
(``[accounting_keystone]``) and the appliance sync (``[sync_keystone]``)
each read the cloud with their own credentials, so a site gives each the
least privilege it needs. All three groups are keystoneauth1's own
options: the auth plugin's, the session's (TLS, timeout) and the adapter's
(service type, interface, region), registered the same way here.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg


def adapter_opts(defaults=None, only=None):
    """Return keystoneauth1's adapter options.

    :param defaults: option defaults, e.g. ``{'service_type': 'image'}``,
        so operators write only what differs from the usual endpoint.
    :param only: names of the adapter options to keep; all when None.
    """
    opts = ks_loading.get_adapter_conf_options(include_deprecated=False)
    if only is not None:
        opts = [opt for opt in opts if opt.dest in only]
    if defaults:
        cfg.set_defaults(opts, **defaults)
    return opts


def group_opts(defaults=None, only=None):
    """Return the group's options as the sample generator lists them.

    The auth plugin's own options (auth_url, username...) depend on
    ``auth_type`` and are registered when the plugin loads; the group's
    help text shows them.
    """
    return (ks_loading.get_auth_common_conf_options()
            + ks_loading.get_session_conf_options()
            + adapter_opts(defaults, only))


def register_group(conf, group, help, defaults=None, only=None):
    """Register a Keystone credential group on ``conf``."""
    conf.register_group(cfg.OptGroup(group, help=help))
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_session_conf_options(conf, group)
    conf.register_opts(adapter_opts(defaults, only), group=group)


def load_session(conf, group):
    """Return ``(session, auth)`` from a credential group, or ``(None, None)``.

    None when the group sets no ``auth_type``: each caller decides whether
    that is an error (the accounting, the sync) or a choice (the VO map
    then relies on its mapping file alone).
    """
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    if auth is None:
        return None, None
    session = ks_loading.load_session_from_conf_options(conf, group,
                                                        auth=auth)
    return session, auth
