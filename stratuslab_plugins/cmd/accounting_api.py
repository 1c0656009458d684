"""``stratuslab-accounting-api``: the read-only usage API, served.

::

    stratuslab-accounting-api --config-file /etc/stratuslab/api.conf

Serves :mod:`stratuslab_plugins.accounting.api` on ``[accounting_api]
bind_host``:``bind_port`` with the standard library's threaded WSGI
server: enough for a site's dashboard and CLI. For more, serve
``stratuslab_plugins.accounting.api.wsgi:init_application()`` with a
WSGI server.
"""

import socketserver
import sys
from wsgiref import simple_server

from oslo_log import log as logging

from stratuslab_plugins.accounting.api import wsgi
from stratuslab_plugins import cmd
from stratuslab_plugins.cmd import help as cmd_help
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import api as api_conf
from stratuslab_plugins.conf import grid as grid_conf

PROG = 'stratuslab-accounting-api'

LOG = logging.getLogger(__name__)


class _ThreadingServer(socketserver.ThreadingMixIn,
                       simple_server.WSGIServer):
    daemon_threads = True


class _LoggingHandler(simple_server.WSGIRequestHandler):
    # The access log goes to the service's log, not to stderr.
    def log_message(self, format, *args):
        LOG.info('%s %s', self.address_string(), format % args)


def make_server(conf, application):
    """Return a bound (not yet serving) WSGI server for ``application``."""
    return simple_server.make_server(
        conf.accounting_api.bind_host, conf.accounting_api.bind_port,
        application, server_class=_ThreadingServer,
        handler_class=_LoggingHandler)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if cmd_help.wants_help(argv):
        cmd_help.print_help(PROG, cmd.PROJECT, __doc__,
                            (grid_conf, accounting_conf, api_conf), ())
    conf = wsgi.load_config(argv)
    try:
        server = make_server(conf, wsgi.application_for(conf))
    except OSError as exc:
        LOG.error('cannot listen on %s:%s: %s; change [accounting_api] '
                  'bind_host or bind_port', conf.accounting_api.bind_host,
                  conf.accounting_api.bind_port, exc)
        return 2
    LOG.info('usage API on http://%s:%s/v1', *server.server_address[:2])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
