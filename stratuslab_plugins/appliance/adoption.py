"""Adopting appliances published as plain files into the site's registry.

Classic AppDB lists point ``hv:uri`` at a plain HTTPS (or HTTP) file;
consumers download it and check its size and SHA-512. To register such
an appliance by location like any other, the sync adopts it into a
repository of the site's OCI registry (:func:`adopt`):

* the file is streamed once from its URL into one registry upload
  (:class:`RemoteFile` is the upload's source), its size and SHA-512
  checked against the signed entry on the way: more bytes than endorsed
  stop it at once, and a size or SHA-512 that differ at the end make the
  source fail before the upload is committed, so the registry client
  cancels the upload and nothing is written;
* memory is bounded by the upload's resend window (a few MiB), whatever
  the file's size: nothing is staged on disk;
* a download that breaks resumes with an HTTP ``Range`` request from the
  byte it reached (urllib3's ``Retry`` counts and spaces the attempts),
  and the registry client resumes a broken upload from the registry's
  offset, re-reading the file by ``Range`` when the registry lost the
  session; each byte is hashed once;
* the appliance is then published under the tag ``sha512-<first 64 hex
  digits of its SHA-512>``: the next run (or another VO subscribed to the
  same file) finds it there and fetches nothing. A run killed halfway
  leaves no tag, and the next run fetches the file again.

Example::

    adopted = adopt(client, 'adopted/vo.example.org', appliance,
                    'https://appdb.example.org/images/ubuntu.qcow2',
                    requests.Session())
    adopted.digest, adopted.fetched
"""

import dataclasses
import http.client
import os
import re
import urllib.parse

from oslo_log import log as logging
import requests
import urllib3
from urllib3.util import retry as urllib3_retry

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import repository as repository_mod

LOG = logging.getLogger(__name__)

TAG_PREFIX = 'sha512-'
READ_SIZE = 1024 * 1024
TIMEOUT = 60
RETRIES = 5
_STREAM_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError,
                  http.client.HTTPException, OSError)
_DIGITS_RE = re.compile(r'\A[0-9]{1,20}\Z')


class FetchError(exceptions.ApplianceError):
    """An appliance's file could not be fetched from its URL."""


@dataclasses.dataclass
class Adopted:
    """Where an adopted appliance is, and what adopting it cost.

    :param digest: the blob's OCI digest in the repository.
    :param tag: the tag its manifest is published under.
    :param fetched: bytes received from the URL (0 when it was adopted
        before; more than the size when a broken download resumed).
    """

    digest: str
    tag: str
    fetched: int = 0


def tag_of(appliance):
    """The tag an appliance is adopted under (it names its content)."""
    return TAG_PREFIX + appliance.sha512[:64]


def is_file_url(url):
    """True if ``url`` is a plain HTTP(S) URL a file can be fetched from."""
    try:
        parts = urllib.parse.urlsplit(url or '')
    except ValueError:
        return False
    return parts.scheme in ('https', 'http') and bool(parts.hostname)


def download_session(ca_file=None, retries=RETRIES):
    """A ``requests`` session for fetching files, with no credentials.

    :param ca_file: CA bundle of the file servers; None for the system's.
    """
    session = requests.Session()
    session.verify = ca_file or True
    adapter = requests.adapters.HTTPAdapter(max_retries=urllib3_retry.Retry(
        total=retries, backoff_factor=0.5, raise_on_status=False,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset(['GET'])))
    session.mount('https://', adapter)
    session.mount('http://', adapter)
    return session


class RemoteFile:
    """The file at a URL, read as the source of a registry upload.

    It checks what it reads against the endorsed ``size`` and ``sha512``
    (module docstring) and raises :class:`IntegrityError` from ``read``
    when they differ; it resumes a broken download from the byte reached
    and re-opens the URL at any byte asked for by ``seek``.

    :param url: the file's URL.
    :param session: the ``requests`` session to fetch with.
    :param retries: resumptions allowed after broken connections.
    """

    def __init__(self, url, size, sha512, session, timeout=TIMEOUT,
                 retries=RETRIES):
        self.url = url
        self.size = size
        self.sha512 = sha512
        self.session = session
        self.timeout = timeout
        self.retry = urllib3_retry.Retry(total=retries, backoff_factor=0.5)
        self.position = 0       # the byte the next read returns
        self.hashed = 0         # bytes hashed so far, each once
        self.fetched = 0        # bytes received, resumptions included
        self.finished = False
        self._hasher = hashing.ContentHasher(('sha512',))
        self._response = None
        self._skip = 0
        self._open(0)

    # -- the file object the upload reads ------------------------------------

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=os.SEEK_SET):
        if whence != os.SEEK_SET or not 0 <= offset <= self.size:
            raise OSError('cannot seek %s to %r' % (self.url, offset))
        if offset != self.position:
            self._open(offset)
        return offset

    def read(self, size=READ_SIZE):
        size = READ_SIZE if size is None or size < 0 else size
        while True:
            try:
                data = self._response.raw.read(size, decode_content=False)
            except _STREAM_ERRORS as error:
                self._resume(error)
                continue
            if data and self._skip:
                data = self._drop_skipped(data)
                if not data:
                    continue
            if data or self.position >= self.size:
                break
            self._resume('the connection ended at byte %d of %d'
                         % (self.position, self.size))
        self.fetched += len(data)
        if self.position + len(data) > self.size:
            raise exceptions.IntegrityError(
                '%s sends more than the %d bytes its entry endorses; it is '
                'not the endorsed file, nothing was written.'
                % (self.url, self.size))
        self._hash(data)
        if not data:
            self._finish()
        return data

    def close(self):
        if self._response is not None:
            self._response.close()
            self._response = None

    # -- plumbing ------------------------------------------------------------

    def _hash(self, data):
        fresh = data[max(0, self.hashed - self.position):]
        if fresh:
            self._hasher.update(bytes(fresh))
            self.hashed += len(fresh)
        self.position += len(data)

    def _drop_skipped(self, data):
        """Drop the bytes before the offset (a server without Range)."""
        dropped = min(len(data), self._skip)
        self.fetched += dropped
        self._skip -= dropped
        return data[dropped:]

    def _finish(self):
        if self.finished:
            return
        self.finished = True
        got = self._hasher.result().sha512
        if got != self.sha512:
            raise exceptions.IntegrityError(
                '%s has SHA-512 %s but its entry endorses %s; it is not the '
                'endorsed file, nothing was written.'
                % (self.url, got, self.sha512))

    def _resume(self, error):
        try:
            self.retry = self.retry.increment(method='GET', url=self.url)
        except urllib3_retry.MaxRetryError:
            raise FetchError(
                'Download of %s stopped at byte %d of %d: %s; nothing was '
                'written, the next run tries again.'
                % (self.url, self.position, self.size, error)) from None
        LOG.info('Download of %s broke at byte %d (%s); resuming.',
                 self.url, self.position, error)
        self.retry.sleep()
        self._open(self.position)

    def _open(self, offset):
        self.close()
        headers = {'Accept-Encoding': 'identity'}
        if offset:
            headers['Range'] = 'bytes=%d-' % offset
        try:
            # verify explicitly: requests lets REQUESTS_CA_BUNDLE override
            # a session's own setting (requests issue #3829).
            response = self.session.get(self.url, stream=True,
                                        timeout=self.timeout,
                                        headers=headers,
                                        verify=self.session.verify)
        except requests.RequestException as error:
            raise FetchError('Cannot fetch %s: %s; nothing was written, '
                             'the next run tries again.'
                             % (self.url, error)) from None
        self._response = response
        self.position = offset
        self._skip = 0
        if response.status_code == 206 and offset:
            self._check_range(response, offset)
        elif response.status_code == 200:
            self._check_length(response)
            self._skip = offset     # no Range support: read past them
        elif response.status_code == 416:
            raise exceptions.IntegrityError(
                '%s ends before byte %d; the endorsed size is %d bytes: it '
                'is not the endorsed file, nothing was written.'
                % (self.url, offset, self.size))
        else:
            self.close()
            raise FetchError('%s answered HTTP %d %s; nothing was written.'
                             % (self.url, response.status_code,
                                response.reason))

    def _check_range(self, response, offset):
        start = response.headers.get('Content-Range', '').split(' ')[-1]
        if not start.startswith('%d-' % offset):
            self.close()
            raise FetchError('%s answered a request from byte %d with range '
                             '%r.' % (self.url, offset, start[:80]))

    def _check_length(self, response):
        length = response.headers.get('Content-Length', '')
        if _DIGITS_RE.match(length) and int(length) != self.size:
            self.close()
            raise exceptions.IntegrityError(
                '%s holds %s bytes but its entry endorses %d; it is not the '
                'endorsed file, nothing was written.'
                % (self.url, length, self.size))


def check_file(url, appliance, session, progress=None):
    """Read the file at ``url`` to its end, checked; return bytes fetched.

    For ``openstack appliance verify --check-content`` on lists whose
    entries are plain files: nothing is kept.

    :raises IntegrityError: size or SHA-512 differ from ``appliance``'s.
    :raises FetchError: the file could not be read.
    """
    source = RemoteFile(url, appliance.size, appliance.sha512, session)
    try:
        for data in iter(source.read, b''):
            if progress:
                progress(len(data))
    finally:
        source.close()
    return source.fetched


def find(client, repository, appliance):
    """Return the digest of the appliance adopted before, or None.

    :raises IntegrityError: when its tag holds other content (someone
        wrote there by hand).
    """
    tag = tag_of(appliance)
    try:
        _, manifest = client.get_manifest(repository, tag)
    except exceptions.RegistryNotFound:
        return None
    found = model.Appliance.from_manifest(manifest)
    if (found.sha512, found.size) != (appliance.sha512, appliance.size):
        raise exceptions.IntegrityError(
            '%s:%s at %s holds %d bytes of SHA-512 %s, not the %d bytes of '
            'appliance %s; delete that tag so that it can be adopted again.'
            % (repository, tag, client.url, found.size, found.sha512,
               appliance.size, appliance.identifier))
    return found.digest


def adopt(client, repository, appliance, url, session, progress=None,
          timeout=TIMEOUT, retries=RETRIES):
    """Copy the file at ``url`` into ``repository``, verified; see above.

    :param client: the :class:`registry.RegistryClient` of the site's
        registry, with credentials that may push to ``repository``.
    :param appliance: the endorsed :class:`model.Appliance` (size and
        SHA-512 are checked).
    :param session: the ``requests`` session to fetch with
        (:func:`download_session`).
    :param progress: called with the byte count of each piece uploaded.
    :returns: the :class:`Adopted` blob.
    :raises IntegrityError, FetchError, RegistryError: nothing published;
        the error's ``fetched`` says how many bytes were received.
    """
    tag = tag_of(appliance)
    digest = find(client, repository, appliance)
    if digest:
        return Adopted(digest, tag)
    source = RemoteFile(url, appliance.size, appliance.sha512, session,
                        timeout=timeout, retries=retries)
    try:
        checksums = client.push_blob(repository, source,
                                     algorithms=('sha256',),
                                     progress=progress, size=appliance.size)
    except exceptions.ApplianceError as error:
        # What the failed attempt cost, for the run's report.
        error.fetched = source.fetched
        raise
    finally:
        source.close()
    adopted = dataclasses.replace(
        appliance, sha256=checksums.sha256,
        locations=[client.blob_url(repository, checksums.digest)])
    name = os.path.basename(urllib.parse.urlsplit(url).path) or None
    repository_mod.ApplianceRepository(client).publish(
        '%s:%s' % (repository, tag), adopted, file_name=name)
    LOG.info('Adopted appliance %s from %s into %s:%s (%d bytes fetched).',
             appliance.identifier, url, repository, tag, source.fetched)
    return Adopted(checksums.digest, tag, source.fetched)
