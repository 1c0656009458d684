"""Where a registry and its blobs are: base URLs, blob URLs, origins.

A registry is named by its origin (``https://HOST[:PORT]``), nothing more:
credentials have their own options, and a path would be ignored by the
OCI API. A blob URL (``https://HOST/v2/REPOSITORY/blobs/sha256:HEX``) is
what our image lists put in ``hv:uri``: any HTTP client downloads it, and
it names the registry, the repository and the content. Origins scope
credentials (:mod:`.auth`), and :class:`AllowedRegistries` says which
registries a service may read at all.
"""

import re
import urllib.parse

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers

_BLOB_URL_RE = re.compile(r'^/v2/(.+)/blobs/(sha256:[a-f0-9]{64})$')


def check_registry_url(url):
    """Return ``url`` without trailing ``/`` if it is an http(s) base URL."""
    parts = urllib.parse.urlsplit(url or '')
    if (parts.scheme not in ('http', 'https') or not parts.netloc
            or parts.path not in ('', '/') or parts.query or parts.fragment
            or '@' in parts.netloc):
        raise exceptions.InvalidInput(
            'Registry URL %r is invalid: give scheme and host only, for '
            'example https://registry.example:5000 (credentials go in '
            'their own options).' % (url,))
    return '%s://%s' % (parts.scheme, parts.netloc)


def parse_blob_url(url):
    """Split a blob URL into ``(registry_url, repository, digest)``.

    Blob URLs (``https://HOST/v2/REPOSITORY/blobs/sha256:HEX``) are what
    our image lists put in ``hv:uri``: any HTTP client can download them,
    and we can find the registry and content they name.
    """
    parts = urllib.parse.urlsplit(url or '')
    match = _BLOB_URL_RE.match(parts.path)
    if parts.scheme not in ('http', 'https') or not match or parts.query:
        raise exceptions.InvalidInput(
            'Location %r is not an OCI blob URL '
            '(https://HOST/v2/REPOSITORY/blobs/sha256:DIGEST).' % (url,))
    repository = identifiers.check_repository(match.group(1))
    return check_registry_url('%s://%s' % (parts.scheme, parts.netloc)), \
        repository, match.group(2)


_DEFAULT_PORTS = {'http': 80, 'https': 443}


def origin_of(url):
    """Return the origin ``(scheme, host, port)`` of a URL, or None.

    Two URLs share an origin when scheme, host (case-insensitive) and
    port (the scheme's default when absent) are equal: the unit to which
    credentials are scoped (RFC 6454).
    """
    try:
        parts = urllib.parse.urlsplit(url or '')
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def format_origin(origin):
    """``scheme://host:port`` of an :func:`origin_of` tuple."""
    scheme, host, port = origin
    return '%s://%s:%d' % (scheme, '[%s]' % host if ':' in host else host,
                           port)


def check_origin(value, what='Token realm origin'):
    """Return the origin of ``value``, an ``http(s)://HOST[:PORT]``."""
    origin = origin_of(value)
    parts = urllib.parse.urlsplit(value or '')
    if (origin is None or parts.path not in ('', '/') or parts.query
            or parts.fragment or '@' in parts.netloc):
        raise exceptions.InvalidInput(
            '%s %r is invalid: give scheme, host and optional port only, '
            'for example https://auth.registry.example.' % (what, value))
    return origin


class AllowedRegistries:
    """The registries a service reads: its own, and those allowed by origin.

    A location names a registry by ``HOST[:PORT]`` only (Glance's
    ``appliance://`` locations); the registry it may be read from is the
    service's own (``own_url``) or one of the ``allowed`` origins, whose
    scheme says how to reach it. Anything else is refused before a
    request leaves, so that whoever may write locations cannot make the
    service fetch from hosts the operator did not name (internal
    addresses included). A location without a port matches an origin on
    its scheme's default port, HTTPS first.

    :param own_url: the service's registry URL, or None.
    :param allowed: origins (``https://HOST[:PORT]``) of other registries.
    :param option: the option listing them, for messages.
    :raises InvalidInput: when an origin is not one.
    """

    def __init__(self, own_url=None, allowed=(), option='allowed registries'):
        self.option = option
        self.own_url = check_registry_url(own_url) if own_url else None
        self._urls = {}
        origins = [check_origin(url, '%s entry' % option)
                   for url in allowed or ()]
        if self.own_url:
            origins.append(origin_of(self.own_url))
        # HTTPS last, so that it wins a port-less location; ours last of
        # all, so that it keeps its own URL.
        origins.sort(key=lambda origin: origin[0] == 'https')
        for origin in origins:
            self._add(origin, format_origin(origin))
        if self.own_url:
            self._add(origin_of(self.own_url), self.own_url)

    def _add(self, origin, url):
        scheme, host, port = origin
        self._urls[(host, port)] = url
        if port == _DEFAULT_PORTS[scheme]:
            self._urls[(host, None)] = url

    @property
    def others(self):
        """Whether registries other than our own are allowed."""
        return any(url != self.own_url for url in self._urls.values())

    def url_for(self, netloc):
        """Return ``(registry URL, is it ours)`` of a location's netloc.

        :raises RegistryNotAllowed: naming the registry and the option.
        """
        key = None
        if isinstance(netloc, str) and not set(netloc) & set('@/?#\\'):
            try:
                parts = urllib.parse.urlsplit('//' + netloc)
                key = ((parts.hostname or '').lower(), parts.port)
            except ValueError:
                pass
        url = self._urls.get(key)
        if url is None:
            raise exceptions.RegistryNotAllowed(
                'Registry %s is not one this service reads appliances from '
                '(%s); add its origin (https://%s) to %s if the site trusts '
                'it.' % (netloc, ', '.join(sorted(set(self._urls.values())))
                         or 'none allowed', netloc, self.option))
        return url, url == self.own_url
