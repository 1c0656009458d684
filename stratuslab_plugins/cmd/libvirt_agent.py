"""``stratuslab-accounting-libvirt-agent``: CPU time of a compute host.

Runs on every compute host, beside nova-compute, with the ``[libvirt]``
extra installed::

    stratuslab-accounting-libvirt-agent --config-file agent.conf

See :mod:`stratuslab_plugins.accounting.usage.agent`.
"""

import signal
import sys
import threading

from oslo_log import log as logging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import agent
from stratuslab_plugins.cmd import listener as listener_cmd

PROG = 'stratuslab-accounting-libvirt-agent'
LOG = logging.getLogger(__name__)


def main(argv=None):
    conf = listener_cmd.load_config(
        sys.argv[1:] if argv is None else argv, PROG, doc=__doc__)
    stop_event = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *args: stop_event.set())
    try:
        agent.run(conf, stop_event)
    except exceptions.AccountingError as exc:
        LOG.error('%s', exc)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
