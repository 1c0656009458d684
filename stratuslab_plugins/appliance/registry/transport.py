"""The HTTP plumbing every registry request goes through.

One ``requests`` session per registry: urllib3's ``Retry`` on a mounted
``HTTPAdapter`` repeats what failed transiently, :mod:`.auth` answers the
registry's challenges, and :meth:`Transport._request` maps every failure
to an ``exceptions.RegistryError`` subclass naming the registry and what
was being done. The concept modules (:mod:`.uploads`, :mod:`.downloads`,
:mod:`.manifests`, :mod:`.listings`) are mixins over this class.
"""

import urllib.parse

from oslo_log import log as logging
import requests
from requests import adapters
from urllib3.util import retry as urllib3_retry

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance.registry import auth
from stratuslab_plugins.appliance.registry import bodies
from stratuslab_plugins.appliance.registry import locations
from stratuslab_plugins.appliance.registry import uploads

LOG = logging.getLogger(__name__)

RETRY_STATUS = (429, 500, 502, 503, 504)
# Methods whose request urllib3 may repeat after a read error or a retry
# status. PATCH (the upload stream) is not among them: after a failure the
# registry may hold part of it, so it is resumed from the offset the
# registry reports (see uploads). Connection errors, where nothing was
# sent, are retried for every method.
IDEMPOTENT_METHODS = frozenset(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])


#: Longest wait a registry's ``Retry-After`` may ask for (urllib3's own
#: default is six hours).
RETRY_AFTER_MAX = 60
#: OCI error entries and characters of each kept for a message.
_ERRORS_SHOWN = 5
_ERROR_TEXT_MAX = 300


def _oci_errors(response, source):
    """The ``errors`` of an OCI error document, read with a cap."""
    try:
        document = bodies.read_json(response, bodies.ERROR_MAX_BYTES,
                                    'an error document', source)
    except exceptions.RegistryError:
        return ''
    errors = document.get('errors') if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return ''
    return '; '.join(
        ('%s: %s' % (e.get('code'), e.get('message')))[:_ERROR_TEXT_MAX]
        for e in errors[:_ERRORS_SHOWN] if isinstance(e, dict))


def _drain_redirect(response, **kwargs):
    """Read little of a redirect's body before requests reads it whole.

    ``requests`` reads each redirect response's body to free its
    connection (``resolve_redirects``); a registry sending an endless one
    would fill memory. This session hook runs first: it reads a bounded
    part and closes the response, and requests then finds nothing left.
    """
    if response.is_redirect:
        bodies.drain(response)
    return response


class Transport:
    """The session, retries and error mapping of one registry client.

    See :class:`~stratuslab_plugins.appliance.registry.RegistryClient`
    for the parameters.
    """

    def __init__(self, url, username=None, password=None, ca_file=None,
                 insecure=False, timeout=60, retries=5, backoff=0.5,
                 chunk_size=uploads.UPLOAD_CHUNK_SIZE, token_realms=()):
        self.url = locations.check_registry_url(url)
        self.chunk_size = int(chunk_size)
        self.timeout = timeout
        self.retry = urllib3_retry.Retry(
            total=retries, connect=retries, read=retries, status=retries,
            other=0, backoff_factor=backoff, status_forcelist=RETRY_STATUS,
            allowed_methods=IDEMPOTENT_METHODS, raise_on_status=False,
            respect_retry_after_header=True, retry_after_max=RETRY_AFTER_MAX)
        self.session = requests.Session()
        # urllib3 retries what fails before an answer (connection and read
        # errors). Answers to retry (429, 5xx) are retried by _request with
        # self.retry: urllib3 would read their whole body first, and an
        # endless one would hold the client forever.
        adapter = adapters.HTTPAdapter(max_retries=self.retry.new(
            status=0, status_forcelist=(), respect_retry_after_header=False))
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)
        self.session.hooks['response'].append(_drain_redirect)
        if insecure:
            LOG.warning('TLS verification of registry %s is disabled by '
                        'request.', self.url)
        self.session.verify = False if insecure else (ca_file or True)
        self.session.auth = auth.RegistryAuth(
            self.url, username, password, token_session=self.session,
            token_realms=token_realms)

    def close(self):
        self.session.close()

    def _url(self, repository, *path):
        identifiers.check_repository(repository)
        return '/'.join((self.url, 'v2', repository) + path)

    def _absolute(self, location):
        return urllib.parse.urljoin(self.url + '/', location)

    def _send_once(self, method, url, what, **kwargs):
        """Send one request (streamed); map transport failures."""
        kwargs.setdefault('timeout', self.timeout)
        # Explicit on every call: requests lets REQUESTS_CA_BUNDLE override
        # a session's verify setting (requests issue #3829).
        kwargs.setdefault('verify', self.session.verify)
        try:
            return self.session.request(method, url, stream=True, **kwargs)
        except requests.exceptions.SSLError as error:
            raise exceptions.RegistryError(
                'TLS verification of registry %s failed while trying to %s: '
                '%s. Give the registry CA with --os-appliance-registry-cacert.'
                % (self.url, what, error), url=url) from None
        except requests.RequestException as error:
            raise exceptions.RegistryUnavailable(
                'Registry %s could not be reached to %s: %s. Check that it '
                'is running and the URL is right.' % (self.url, what, error),
                url=url) from None
        except UnicodeError:
            # requests decodes a redirect's Location as UTF-8 and lets
            # the error out (requests 2.34, sessions.get_redirect_target).
            raise exceptions.RegistryError(
                'Registry %s answered a request to %s with a redirect to a '
                'location that is not UTF-8.' % (self.url, what),
                url=url) from None

    def _request(self, method, url, what, expect=(200,), stream=False,
                 **kwargs):
        """Send one request; map failures to exceptions naming ``what``.

        Every answer is streamed, so that no body is read whole unless a
        caller reads it with a cap (:mod:`.bodies`). With ``stream`` the
        caller reads the body and closes the response; otherwise at most
        a little of it is read and the response is closed: only the
        status and headers remain. Answers worth retrying (429, 5xx) to
        idempotent requests are retried here, spaced by ``self.retry``.
        """
        retry = self.retry.new()
        while True:
            response = self._send_once(method, url, what, **kwargs)
            if (response.status_code not in RETRY_STATUS
                    or method not in IDEMPOTENT_METHODS):
                break
            try:
                retry = retry.increment(method, url, response=response.raw)
            except urllib3_retry.MaxRetryError:
                break
            bodies.drain(response)
            retry.sleep(response.raw)
        if response.status_code in expect:
            if not stream:
                bodies.drain(response)
            return response
        self._raise_for(response, what)

    def _header(self, response, name, what):
        """A header the protocol requires, or a RegistryError naming it."""
        value = response.headers.get(name)
        if not value:
            raise exceptions.RegistryError(
                'Registry %s answered a request to %s without a %s header.'
                % (self.url, what, name), status=response.status_code,
                url=response.url)
        return value

    def _size_header(self, response, what, name='Content-Length'):
        """A non-negative byte count from a header, validated."""
        value = self._header(response, name, what)
        if not (value.isascii() and value.isdigit()) or len(value) > 19 \
                or int(value) > identifiers.MAX_SIZE:
            raise exceptions.RegistryError(
                'Registry %s answered a request to %s with %s %r, not a '
                'size in bytes.' % (self.url, what, name, value[:40]),
                status=response.status_code, url=response.url)
        return int(value)

    def _raise_for(self, response, what):
        status = response.status_code
        detail = (_oci_errors(response, 'Registry %s' % self.url)
                  or (response.reason or '')[:_ERROR_TEXT_MAX])
        message = ('Registry %s refused to %s: HTTP %d %s.'
                   % (self.url, what, status, detail))
        if status in (401, 403):
            raise exceptions.RegistryAuthError(
                message + ' Check the registry user name and password, and '
                'that this account may access the repository.',
                status=status, url=response.url)
        if status == 404:
            raise exceptions.RegistryNotFound(
                message + ' Check the repository, tag or digest.',
                status=status, url=response.url)
        if status in RETRY_STATUS:
            raise exceptions.RegistryUnavailable(
                message + ' The registry is failing; retry later.',
                status=status, url=response.url)
        raise exceptions.RegistryError(message, status=status,
                                       url=response.url)
