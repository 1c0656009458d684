"""Authentication to OCI registries: anonymous, Basic, and Bearer tokens.

Registries answer an unauthenticated request with ``401`` and a
``WWW-Authenticate`` challenge. Distribution with htpasswd asks for Basic;
Harbor, Docker Hub and Zot ask for a Bearer token: the client fetches one
from the challenge's ``realm`` (with its ``service`` and ``scope``,
Basic-authenticated when it has credentials, anonymously otherwise) and
repeats the request with ``Authorization: Bearer``. ``requests`` knows
Basic and Digest but not this flow, and the maintained client that does
(oras) cannot stream large blobs (see ``registry``), so the flow is here,
as a ``requests`` auth handler built like ``requests.auth.HTTPDigestAuth``:
answer the challenge once, cache the result per repository, re-send.
"""

import re
import threading
import urllib.parse

import requests
from requests import auth as requests_auth

_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
_REPOSITORY_PATH_RE = re.compile(r'^/v2/(.+?)/(?:blobs|manifests|tags)/')


def parse_challenge(header):
    """Return ``(scheme, {param: value})`` of a WWW-Authenticate header."""
    scheme, _, rest = (header or '').strip().partition(' ')
    return scheme.lower(), dict(_PARAM_RE.findall(rest))


def scope_key(url):
    """Return the cache key of the token a request to ``url`` needs."""
    path = urllib.parse.urlsplit(url).path
    if path.startswith('/v2/_catalog'):
        return 'registry:catalog'
    match = _REPOSITORY_PATH_RE.match(path)
    return 'repository:' + match.group(1) if match else ''


def _key_of_scope(scope):
    kind, _, rest = (scope or '').partition(':')
    name = rest.rsplit(':', 1)[0]
    return 'registry:catalog' if kind == 'registry' else kind + ':' + name


class RegistryAuth(requests_auth.AuthBase):
    """Answer Basic and Bearer challenges of an OCI registry.

    :param username: user name, or None for anonymous access.
    :param password: password or robot-account secret.
    :param token_session: the ``requests`` session used to fetch tokens
        (the client's, so that it shares TLS settings and retries).
    """

    def __init__(self, username=None, password=None, token_session=None):
        self.username = username
        self.password = password
        self._token_session = token_session
        self._tokens = {}
        self._basic = False
        self._lock = threading.Lock()

    @property
    def _credentials(self):
        if self.username is None:
            return None
        return (self.username, self.password or '')

    def __call__(self, request):
        token = self._tokens.get(scope_key(request.url))
        if token:
            request.headers['Authorization'] = 'Bearer ' + token
        elif self._basic and self._credentials:
            request.prepare_auth(requests_auth.HTTPBasicAuth(
                *self._credentials))
        request.register_hook('response', self._handle_401)
        return request

    def _fetch_token(self, params):
        query = {k: v for k, v in (('service', params.get('service')),
                                   ('scope', params.get('scope'))) if v}
        response = self._token_session.get(
            params['realm'], params=query, auth=self._credentials,
            timeout=60, verify=self._token_session.verify)
        if response.status_code != 200:
            return None
        body = response.json()
        return body.get('token') or body.get('access_token')

    def _answer(self, challenge):
        scheme, params = parse_challenge(challenge)
        if scheme == 'basic':
            if not self._credentials or self._basic:
                return False
            self._basic = True
            return True
        if scheme == 'bearer' and params.get('realm'):
            try:
                token = self._fetch_token(params)
            except (requests.RequestException, ValueError):
                return False
            if token:
                with self._lock:
                    self._tokens[_key_of_scope(params.get('scope'))] = token
                return True
        return False

    def _handle_401(self, response, **kwargs):
        request = response.request
        if (response.status_code != 401
                or getattr(request, 'sl_auth_answered', False)
                or not self._answer(response.headers.get('WWW-Authenticate'))):
            return response
        if request.body is not None and not isinstance(request.body,
                                                       (bytes, str)):
            # A streamed body (an upload) cannot be sent twice; the caller
            # resumes the upload, with the credentials now cached.
            return response
        # Consume the refused response to free its connection, then send
        # the request again with the new credentials.
        response.content
        response.close()
        retry = request.copy()
        retry.headers.pop('Authorization', None)
        self(retry)
        retry.sl_auth_answered = True
        answered = response.connection.send(retry, **kwargs)
        answered.history.append(response)
        answered.request = retry
        return answered
