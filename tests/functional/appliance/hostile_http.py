"""A hostile HTTP server for tests: what a registry must never get from us.

A real registry cannot be made to misbehave on demand, so this loopback
server (127.0.0.1, from a thread) plays the other origin or the broken
registry the client meets:

* it records every request it receives with its ``Authorization``
  header (``requests``), so that a test can prove that no credential
  reached it;
* ``answer`` maps a path prefix to what is sent back: a status, headers
  and a body, where ``ENDLESS`` streams zeros in chunked encoding until
  the client hangs up (``sent`` counts the bytes that left), the way a
  broken or hostile registry makes a client's memory grow. "Endless"
  stops at ``ENDLESS_LIMIT`` (far past every cap of the client), so that
  a client without caps ends too, and its test fails instead of hanging.

Paths no prefix matches get ``default``: 401 with a Bearer challenge
whose realm is this server, so that a client willing to answer it would
send it its credentials.
"""

import http.server
import json

import fixtures

from tests.functional.appliance import loopback_http

#: A body that never ends (chunked zeros until the client hangs up).
ENDLESS = object()
ENDLESS_LIMIT = 128 * 1024 * 1024
_PIECE = b'\0' * 65536


class HostileServer(fixtures.Fixture):
    """Record requests; answer them as ``answers`` says.

    :param host: the host name the server's URLs use (``localhost``
        makes another origin than the registry's ``127.0.0.1``).
    :param require_basic: answer requests without ``Authorization``
        with a Basic challenge, as a registry with htpasswd does.
    """

    def __init__(self, host='localhost', require_basic=False):
        super().__init__()
        self.host = host
        self.require_basic = require_basic
        self.requests = []
        self.answers = {}
        self.sent = 0

    def _setUp(self):
        self.url = 'http://%s:%d' % (self.host, loopback_http.serve(
            self, self._handler()))
        self.default = (401, {'WWW-Authenticate': (
            'Bearer realm="%s/token",service="hostile",'
            'scope="repository:vo/ubuntu:pull"' % self.url)}, b'')

    def answer(self, prefix, status, headers=None, body=b''):
        """Answer paths starting with ``prefix`` so.

        :param body: bytes, a JSON-able value, or ``ENDLESS``.
        """
        if not isinstance(body, bytes) and body is not ENDLESS:
            body = json.dumps(body).encode()
        self.answers[prefix] = (status, dict(headers or {}), body)

    def authorizations(self):
        """The ``Authorization`` headers received, None for none."""
        return [auth for _, _, auth in self.requests if auth is not None]

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _pick(self):
                matches = [p for p in server.answers
                           if self.path.startswith(p)]
                if not matches:
                    return server.default
                return server.answers[max(matches, key=len)]

            def _endless(self):
                self.send_header('Transfer-Encoding', 'chunked')
                self.send_header('Connection', 'close')
                self.end_headers()
                try:
                    for _ in range(ENDLESS_LIMIT // len(_PIECE)):
                        self.wfile.write(b'%x\r\n%s\r\n' % (len(_PIECE),
                                                            _PIECE))
                        server.sent += len(_PIECE)
                    self.wfile.write(b'0\r\n\r\n')
                except OSError:
                    return

            def do_GET(self):
                server.requests.append((self.command, self.path,
                                        self.headers.get('Authorization')))
                length = int(self.headers.get('Content-Length') or 0)
                if length:
                    self.rfile.read(length)
                status, headers, body = self._pick()
                if server.require_basic and \
                        not self.headers.get('Authorization'):
                    status, headers, body = 401, {
                        'WWW-Authenticate': 'Basic realm="hostile"'}, b''
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value.replace('{url}',
                                                         server.url))
                if body is ENDLESS:
                    self._endless()
                    return
                if 'Content-Length' not in headers:
                    self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(body)
                    server.sent += len(body)

            do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        return Handler
