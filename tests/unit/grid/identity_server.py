"""A minimal identity v3 endpoint on 127.0.0.1 for the VO map tests.

It serves what :func:`stratuslab_plugins.grid.vo_map.fetch_from_keystone`
reads (version discovery and ``GET /v3/projects`` with pagination), over
real HTTP, so keystoneauth1 runs its real code path; stopping it gives
the real connection failure of an unreachable Keystone.
"""

import http.server
import json
import threading

import fixtures


class _Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, *args):
        pass

    def _send(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        server = self.server
        server.requests.append(self.path)
        base = 'http://127.0.0.1:%d' % server.server_port
        version = {'id': 'v3.14', 'status': 'stable',
                   'links': [{'rel': 'self', 'href': base + '/v3/'}]}
        if self.path in ('/', ''):
            self._send({'versions': {'values': [version]}}, status=300)
        elif self.path.rstrip('/') == '/v3':
            self._send({'version': version})
        elif self.path.startswith('/v3/projects'):
            page = int(self.path.partition('page=')[2] or 0)
            pages = server.project_pages
            body = {'projects': pages[page] if pages else [], 'links': {}}
            if page + 1 < len(pages):
                body['links']['next'] = (
                    base + '/v3/projects?page=%d' % (page + 1))
            self._send(body)
        else:
            self._send({'error': {'code': 404}}, status=404)


class IdentityServer(fixtures.Fixture):
    """Serve ``project_pages`` (a list of lists of project dicts)."""

    def __init__(self, *project_pages):
        super().__init__()
        self.project_pages = list(project_pages)

    def _setUp(self):
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     _Handler)
        self.httpd.project_pages = self.project_pages
        self.httpd.requests = []
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_port
        thread = threading.Thread(target=self.httpd.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.stop)

    @property
    def requests(self):
        return self.httpd.requests

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
