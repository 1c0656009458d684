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

Where credentials go (the rule documented beside the options):

* the password (Basic) and the registry's tokens (Bearer) are sent only
  to the registry's own origin (scheme, host and port of its URL): not
  to another origin a ``Location`` or ``Link`` header names, and never
  again after a redirect to another origin, even when that origin
  answers ``401`` with a challenge;
* the password goes to a token realm only when the realm is on the
  registry's host (over HTTPS, or HTTP when the registry itself is
  HTTP) or its origin is one the operator allows (``token_realms``:
  ``[appliance] registry_token_realms``, the Glance store's
  ``appliance_token_realms``, ``--os-appliance-registry-token-realm``);
  another realm is refused with an error naming it and the option;
* an anonymous client fetches anonymous tokens from any HTTP(S) realm:
  it has nothing to give away.
"""

import re
import threading
import urllib.parse

import requests
from requests import auth as requests_auth

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance.registry import bodies
from stratuslab_plugins.appliance.registry import locations

_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
_REPOSITORY_PATH_RE = re.compile(r'^/v2/(.+?)/(?:blobs|manifests|tags)/')
#: A Bearer token as RFC 6750 writes it (``b64token``); JWTs, what
#: Harbor, Docker Hub and Zot hand out, are of that form. Anything else
#: (a line break, non-Latin-1 text) cannot go in a header: http.client
#: would raise ValueError or UnicodeEncodeError when sending it.
_TOKEN_RE = re.compile(r'[A-Za-z0-9\-._~+/]+=*')


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
    """Answer Basic and Bearer challenges of one OCI registry.

    :param registry_url: the registry's base URL; credentials go only to
        its origin (see the module docstring).
    :param username: user name, or None for anonymous access.
    :param password: password or robot-account secret.
    :param token_session: the ``requests`` session used to fetch tokens
        (the client's, so that it shares TLS settings and retries).
    :param token_realms: origins (``https://HOST[:PORT]``) of token
        services off the registry's host that may receive the password.
    """

    def __init__(self, registry_url, username=None, password=None,
                 token_session=None, token_realms=()):
        self.origin = locations.origin_of(registry_url)
        self.username = username
        self.password = password
        self.realm_origins = frozenset(
            locations.check_origin(realm) for realm in token_realms or ())
        self._token_session = token_session
        self._tokens = {}
        self._basic = False
        self._lock = threading.Lock()

    @property
    def _credentials(self):
        if self.username is None:
            return None
        return (self.username, self.password or '')

    def _own(self, url):
        return locations.origin_of(url) == self.origin

    def __call__(self, request):
        if not self._own(request.url):
            # Another origin (a Location or Link header, a realm): it
            # gets nothing of ours, and its challenges are not answered.
            return request
        token = self._tokens.get(scope_key(request.url))
        if token:
            request.headers['Authorization'] = 'Bearer ' + token
        elif self._basic and self._credentials:
            request.prepare_auth(requests_auth.HTTPBasicAuth(
                *self._credentials))
        request.register_hook('response', self._handle_401)
        return request

    def realm_allowed(self, realm):
        """Whether the password may be sent to token realm ``realm``."""
        origin = locations.origin_of(realm)
        if origin is None or self.origin is None:
            return False
        if origin in self.realm_origins:
            return True
        scheme, host, _ = origin
        return host == self.origin[1] and (scheme == 'https'
                                           or self.origin[0] == 'http')

    def _refuse_realm(self, realm):
        origin = locations.origin_of(realm)
        raise exceptions.RegistryAuthError(
            'Registry %s asks for a token from %s, which is neither on the '
            'registry\'s host nor an allowed token realm: its credentials '
            'are not sent there. If that is the registry\'s token service, '
            'allow %s in registry_token_realms ([appliance]), '
            'appliance_token_realms (Glance store) or '
            '--os-appliance-registry-token-realm.'
            % (locations.format_origin(self.origin), realm,
               locations.format_origin(origin) if origin else
               'its origin'), status=401, url=realm)

    def _fetch_token(self, params):
        realm = params['realm']
        query = {k: v for k, v in (('service', params.get('service')),
                                   ('scope', params.get('scope'))) if v}
        response = self._token_session.get(
            realm, params=query, auth=self._credentials, timeout=60,
            verify=self._token_session.verify, stream=True,
            allow_redirects=False)
        if response.status_code != 200:
            bodies.drain(response)
            return None
        body = bodies.read_json(response, bodies.TOKEN_MAX_BYTES,
                                'a token', 'Token service %s' % realm)
        token = (body.get('token') or body.get('access_token')
                 if isinstance(body, dict) else None)
        if token is None or isinstance(token, str) and \
                _TOKEN_RE.fullmatch(token):
            return token
        raise exceptions.RegistryAuthError(
            'Token service %s sent a token that is not a Bearer token (RFC '
            '6750: letters, digits and -._~+/ only); it is not used.'
            % realm, status=response.status_code, url=response.url)

    def _answer(self, challenge):
        scheme, params = parse_challenge(challenge)
        if scheme == 'basic':
            if not self._credentials or self._basic:
                return False
            self._basic = True
            return True
        realm = params.get('realm')
        if scheme != 'bearer' or locations.origin_of(realm) is None:
            return False
        if self._credentials and not self.realm_allowed(realm):
            self._refuse_realm(realm)
        try:
            token = self._fetch_token(params)
        except requests.RequestException:
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
                or not self._own(response.url)):
            return response
        try:
            answered = self._answer(response.headers.get('WWW-Authenticate'))
        except exceptions.RegistryError:
            bodies.drain(response)
            raise
        if not answered:
            return response
        if request.body is not None and not isinstance(request.body,
                                                       (bytes, str)):
            # A streamed body (an upload) cannot be sent twice; the caller
            # resumes the upload, with the credentials now cached.
            return response
        # Free the refused response's connection (reading little of its
        # body), then send the request again with the new credentials.
        bodies.drain(response)
        retry = request.copy()
        retry.headers.pop('Authorization', None)
        self(retry)
        retry.sl_auth_answered = True
        answered = response.connection.send(retry, **kwargs)
        answered.history.append(response)
        answered.request = retry
        return answered
