"""``stratuslab-accounting-listener``: Nova notifications into the ledger.

Runs beside the cloud (any host that reaches RabbitMQ and the ledger
database); several may run at once, sharing the load::

    stratuslab-accounting-listener --config-file /etc/stratuslab/usage.conf

See :mod:`stratuslab_plugins.accounting.usage.listener`.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.usage import listener
from stratuslab_plugins.accounting.usage import memory
from stratuslab_plugins.accounting.usage import writer as usage_writer
from stratuslab_plugins import cmd
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import usage as usage_conf

PROG = 'stratuslab-accounting-listener'
LOG = logging.getLogger(__name__)


def load_config(argv, prog, doc=__doc__):
    """Return a ConfigOpts with the usage and accounting options parsed."""
    return cmd.load_config(argv, prog, (usage_conf, accounting_conf),
                           doc=doc)


def ledger_url(conf):
    """Return the usage ledger URL, by default the accounting's."""
    url = conf.accounting_usage.ledger_connection
    if not url:
        try:
            url = conf.accounting.ledger_connection
        except cfg.NoSuchOptError:
            url = None
    if not url:
        raise exceptions.ConfigurationError(
            'no ledger to write usage into: set [accounting_usage] '
            'ledger_connection or [accounting] ledger_connection to a '
            'SQLAlchemy URL.')
    return url


def main(argv=None):
    conf = load_config(sys.argv[1:] if argv is None else argv, PROG)
    # A setting of the process, before its first thread.
    memory.bound_malloc_arenas()
    try:
        ledger = usage_ledger.UsageLedger.from_url(ledger_url(conf))
    except exceptions.AccountingError as exc:
        LOG.error('%s', exc)
        return 2
    writer = None
    if conf.accounting_usage.writer_process:
        writer = usage_writer.Writer(
            ledger.engine.url.render_as_string(hide_password=False))
        ledger.engine.dispose()
    healthy = listener.serve(
        listener.build_listeners(conf, ledger, writer=writer), writer=writer)
    return 0 if healthy else 1


if __name__ == '__main__':
    sys.exit(main())
