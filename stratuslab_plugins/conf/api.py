"""Options of the read-only usage API, ``stratuslab-accounting-api``.

``[accounting_api]`` says where the API listens and how long a period a
caller may ask for. The ledger it reads is the accounting's
(``[accounting] ledger_connection``), the VO map the grid's (``[grid]``),
the token check keystonemiddleware's (``[keystone_authtoken]``) and the
rules oslo.policy's (``[oslo_policy] policy_file``): one fact, one place.

The group is not ``[api]``: the API runs beside other services whose
configuration files may already have one.
"""

from oslo_config import cfg

GROUP = 'accounting_api'

api_opts = [
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help="""
Address ``stratuslab-accounting-api`` listens on.

The built-in server is meant for one site's dashboard and CLI; put it
behind the site's TLS-terminating proxy, or serve
``stratuslab_plugins.accounting.api.wsgi:application`` with a WSGI
server (uWSGI, gunicorn, mod_wsgi) for more load.

Possible values:
    * An IP address or host name; ``0.0.0.0`` for every interface.

Related options:
    * ``bind_port``
"""),
    cfg.PortOpt(
        'bind_port',
        default=8779,
        help="""
TCP port ``stratuslab-accounting-api`` listens on.

Register the resulting URL in Keystone's catalog as service type
``accounting`` so that Horizon and ``openstack accounting`` find it.

Possible values:
    * A free TCP port.

Related options:
    * ``bind_host``
"""),
    cfg.IntOpt(
        'max_period_days',
        default=400,
        min=1,
        help="""
Longest period, in days, one usage or records request may cover.

Each request reads the ledger for every instance alive in the period;
this bound keeps one request from scanning years of history. Callers
asking for more get HTTP 400 naming this option.

Possible values:
    * A positive number of days.

Related options:
    * None
"""),
    cfg.IntOpt(
        'max_points',
        default=400,
        min=2,
        help="""
Most time buckets one usage series may have.

A period split into days or months gives one bucket each; a request
whose period and step would give more is refused with HTTP 400, so a
chart stays readable and a request cheap.

Possible values:
    * A number of buckets, at least 2.

Related options:
    * ``max_period_days``
"""),
]


def register_opts(conf):
    conf.register_opts(api_opts, group=GROUP)


def list_opts():
    return [(GROUP, api_opts)]
