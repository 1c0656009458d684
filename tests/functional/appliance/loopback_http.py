"""What the tests' stand-in HTTP servers share (token_server, harbor_api,
file_server).

Each serves a ``BaseHTTPRequestHandler`` on 127.0.0.1 from a thread for
the duration of its fixture (over TLS when given an ``ssl`` context), and
checks Basic credentials against a ``{user: password}`` dict.
"""

import base64
import http.server
import threading


def serve(fixture, handler, tls=None):
    """Serve ``handler`` until ``fixture`` cleans up; return the port.

    :param tls: an ``ssl.SSLContext`` to serve HTTPS with.
    """
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fixture.addCleanup(server.server_close)
    fixture.addCleanup(server.shutdown)
    return server.server_port


def basic_user(header, users):
    """The user a Basic ``Authorization`` header proves, or None."""
    if not header or not header.startswith('Basic '):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(':')
    return user if user in users and users[user] == password else None


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as real servers), no log lines on stderr."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass
