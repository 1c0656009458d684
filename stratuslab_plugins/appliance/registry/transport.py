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


def _oci_errors(response):
    try:
        errors = response.json().get('errors') or []
        return '; '.join('%s: %s' % (e.get('code'), e.get('message'))
                         for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError, requests.RequestException):
        return ''


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
            respect_retry_after_header=True)
        self.session = requests.Session()
        adapter = adapters.HTTPAdapter(max_retries=self.retry)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)
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

    def _request(self, method, url, what, expect=(200,), **kwargs):
        """Send one request; map failures to exceptions naming ``what``."""
        kwargs.setdefault('timeout', self.timeout)
        # Explicit on every call: requests lets REQUESTS_CA_BUNDLE override
        # a session's verify setting (requests issue #3829).
        kwargs.setdefault('verify', self.session.verify)
        try:
            response = self.session.request(method, url, **kwargs)
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
        if response.status_code in expect:
            return response
        self._raise_for(response, what)

    def _raise_for(self, response, what):
        status = response.status_code
        detail = _oci_errors(response) or response.reason
        response.close()
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
