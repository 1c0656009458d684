"""A file server for tests: classic AppDB image files over HTTPS.

Classic AppDB lists point ``hv:uri`` at files on a web server (EGI's
VMcaster endpoints). :class:`FileServer` serves ``{name: bytes}`` on
127.0.0.1 over HTTPS, with a certificate from a CA made for the test
(``ca_file``), ``Content-Length`` and HTTP ``Range`` requests as web
servers answer them. To order, it breaks the first download of a file
after some bytes (``break_after``), or ignores ``Range`` (``ranges``).
``requests`` records ``(name, Range header)`` of every GET.
"""

import os
import re
import ssl

import fixtures

from tests.functional.appliance import loopback_http
from tests import pki

_RANGE_RE = re.compile(r'\Abytes=(\d+)-\Z')
PIECE = 64 * 1024


class FileServer(fixtures.Fixture):

    def __init__(self, files, break_after=None, ranges=True):
        super().__init__()
        self.files = files
        self.break_after = dict(break_after or {})
        self.ranges = ranges
        self.requests = []

    def _setUp(self):
        directory = self.useFixture(fixtures.TempDir()).path
        ca = pki.make_ca('File Server Test CA')
        cert, key = pki.issue(ca, '127.0.0.1', dns_name='localhost').write(
            directory, 'server')
        self.ca_file = os.path.join(directory, 'ca.pem')
        with open(self.ca_file, 'wb') as f:
            f.write(ca.cert_pem())
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = loopback_http.serve(self, self._handler(), tls=context)

    def url(self, name):
        return 'https://127.0.0.1:%d/%s' % (self.port, name)

    def _handler(self):
        server = self

        class Handler(loopback_http.QuietHandler):

            def do_GET(self):
                name = self.path.lstrip('/')
                wanted = self.headers.get('Range')
                server.requests.append((name, wanted))
                data = server.files.get(name)
                if data is None:
                    return self.send_error(404)
                start, match = 0, _RANGE_RE.match(wanted or '')
                if match and server.ranges:
                    start = int(match.group(1))
                    if start >= len(data):
                        return self.send_error(416)
                    self.send_response(206)
                    self.send_header('Content-Range', 'bytes %d-%d/%d' % (
                        start, len(data) - 1, len(data)))
                else:
                    self.send_response(200)
                body = memoryview(data)[start:]
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                limit = server.break_after.pop(name, None)
                if limit is not None:
                    # The connection breaks: the client sees it end early.
                    self.wfile.write(body[:limit])
                    self.close_connection = True
                    return
                for offset in range(0, len(body), PIECE):
                    self.wfile.write(body[offset:offset + PIECE])

        return Handler
