"""Harbor's answers that matter to a registry project source, for tests.

Harbor (EGI's registry) cannot run on these machines, so this fixture
stands in front of a real docker-registry and behaves as Harbor does
towards an account that is not a Harbor administrator:

* ``/v2/_catalog`` is refused with 401, as Harbor refuses it;
* ``/api/v2.0/projects/PROJECT/repositories`` lists the project's
  repositories (Harbor's JSON: ``[{"name": "PROJECT/REPO", ...}]``,
  paged with ``page`` and ``page_size``) to the Basic credentials given,
  from the real registry's catalog;
* every other ``GET`` or ``HEAD`` under ``/v2/`` (tags, manifests, blobs)
  is passed to the real registry, anonymously, as for a public project.
"""

import http.server
import json
import re
import urllib.parse

import fixtures
import requests

from tests.functional.appliance import loopback_http

_PROJECT_API = re.compile(r'^/api/v2\.0/projects/([^/]+)/repositories$')
#: Headers of the registry's answer passed on to the client.
_PASSED_HEADERS = ('Content-Type', 'Content-Length', 'Docker-Content-Digest',
                   'Link', 'Content-Range', 'Accept-Ranges')


class HarborAPI(fixtures.Fixture):
    """Stand in front of ``registry_url`` for ``users`` ({name: password}).

    ``requests`` records ``(method, path)`` of every request.
    """

    def __init__(self, registry_url, users):
        super().__init__()
        self.registry_url = registry_url
        self.users = users
        self.requests = []

    def _setUp(self):
        self.url = 'http://127.0.0.1:%d' % loopback_http.serve(
            self, self._handler())

    def _authorized(self, header):
        return loopback_http.basic_user(header, self.users) is not None

    def _repositories(self, project, query):
        page = int(query.get('page', ['1'])[0])
        size = int(query.get('page_size', ['10'])[0])
        catalog = requests.get(self.registry_url + '/v2/_catalog',
                               params={'n': 1000}, timeout=30).json()
        names = sorted(name for name in catalog.get('repositories') or ()
                       if name.startswith(project + '/'))
        return [{'name': name, 'project_id': 1}
                for name in names[(page - 1) * size:page * size]]

    def _handler(self):
        harbor = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=b'', headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if not any(name == 'Content-Length' for name, _ in headers):
                    self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(body)

            def _json(self, status, value, headers=()):
                self._answer(status, json.dumps(value).encode(), (
                    ('Content-Type', 'application/json'),) + tuple(headers))

            def _forward(self):
                response = requests.request(
                    self.command, harbor.registry_url + self.path,
                    headers={k: v for k, v in self.headers.items()
                             if k in ('Accept', 'Range')},
                    timeout=60, allow_redirects=False)
                self._answer(response.status_code, response.content, [
                    (name, response.headers[name])
                    for name in _PASSED_HEADERS if name in response.headers])

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                harbor.requests.append((self.command, parts.path))
                match = _PROJECT_API.match(parts.path)
                if parts.path == '/v2/_catalog':
                    self._json(401, {'errors': [{
                        'code': 'UNAUTHORIZED',
                        'message': 'unauthorized to list catalog'}]})
                elif match:
                    if not harbor._authorized(
                            self.headers.get('Authorization')):
                        self._json(401, {'errors': [{
                            'code': 'UNAUTHORIZED', 'message': 'login'}]},
                            [('WWW-Authenticate', 'Basic realm="harbor"')])
                        return
                    self._json(200, harbor._repositories(
                        urllib.parse.unquote(match.group(1)),
                        urllib.parse.parse_qs(parts.query)))
                elif parts.path.startswith('/v2/'):
                    self._forward()
                else:
                    self._json(404, {'errors': [{'code': 'NOT_FOUND',
                                                 'message': 'not found'}]})

            do_HEAD = do_GET

        return Handler
