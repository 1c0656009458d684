"""A Docker-registry token server for tests: the Bearer flow Harbor uses.

Harbor, Docker Hub and Zot answer ``401`` with
``WWW-Authenticate: Bearer realm=...,service=...,scope=...``; the client
fetches a JWT from the realm and retries. Debian's docker-registry does
the registry side of that flow (``auth: token:``), but ships no token
server, so this fixture is one: an HTTP server on 127.0.0.1 that checks
Basic credentials and issues ES256 JWTs (PyJWT) carrying the ``x5c``
certificate the registry verifies against ``rootcertbundle``.
"""

import base64
import http.server
import time
import urllib.parse
import uuid

from cryptography.hazmat.primitives import serialization
import fixtures
import jwt

from tests.functional.appliance import loopback_http
from tests import pki

SERVICE = 'test-registry'
ISSUER = 'test-token-issuer'


class TokenServer(fixtures.Fixture):
    """Issue registry tokens to ``users`` ({name: password}).

    :param host: the host name of the realm URL the registry announces
        (``localhost`` puts the token service off the registry's host).
    """

    def __init__(self, users, host='127.0.0.1'):
        super().__init__()
        self.users = users
        self.host = host
        self.requests = []

    def _setUp(self):
        ca = pki.make_ca('Token Signing CA')
        self.signer = pki.issue(ca, 'token signer')
        self.root_bundle = ca.cert_pem()
        self.origin = 'http://%s:%d' % (self.host, loopback_http.serve(
            self, self._handler()))
        self.realm = self.origin + '/token'

    def _authorized(self, header):
        return loopback_http.basic_user(header, self.users)

    def _token(self, user, scopes):
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(':')
            name, _, actions = rest.rpartition(':')
            access.append({'type': kind, 'name': name,
                           'actions': actions.split(',')})
        now = int(time.time())
        claims = {'iss': ISSUER, 'sub': user, 'aud': SERVICE,
                  'exp': now + 300, 'nbf': now - 10, 'iat': now,
                  'jti': str(uuid.uuid4()), 'access': access}
        der = self.signer.certificate.public_bytes(
            serialization.Encoding.DER)
        return jwt.encode(claims, self.signer.key, algorithm='ES256',
                          headers={'x5c': [base64.b64encode(der).decode()]})

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = urllib.parse.parse_qs(
                    urllib.parse.urlsplit(self.path).query)
                user = server._authorized(self.headers.get('Authorization'))
                server.requests.append((user, query.get('scope', [])))
                if user is None:
                    self.send_response(401)
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                token = server._token(user, query.get('scope', []))
                body = ('{"token": "%s", "expires_in": 300}'
                        % token).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def registry_config(self, bundle_path):
        """The ``auth:`` section of a docker-registry configuration."""
        with open(bundle_path, 'wb') as f:
            f.write(self.root_bundle)
        return {'token': {'realm': self.realm, 'service': SERVICE,
                          'issuer': ISSUER, 'rootcertbundle': bundle_path}}
