"""A streaming client of the OCI distribution API, for multi-GB appliances.

Why not oras: oras-py (0.2.43, checked November 2026) uploads a blob with
``fd.read()`` of the whole file unless asked for chunks, takes a file
*path* and hashes it in a separate pass before uploading (no pipes, two
reads), downloads without HTTP Range resume and without checking the
digest, and leaves the upload session open when a chunk fails. Appliances
are many gigabytes, often piped, so this module is a small client on
``requests``: HTTP retries are urllib3's ``Retry`` on a mounted
``HTTPAdapter``, authentication is in ``registry_auth``, and only what the
OCI protocol itself needs (upload sessions, Range resume) is written here.

What it guarantees:

* ``push_blob`` streams any file object through one upload session as
  one streamed PATCH (memory bounded by the resend window, no temporary
  file), computes every checksum in the same pass, resumes after a broken
  connection from the offset the registry reports, and cancels the
  session on any failure, so a failed push leaves no blob and no
  manifest.
* ``iter_blob`` / ``pull_blob`` stream a blob, resume with ``Range`` after
  a broken connection, and verify size and digest at the end of a full
  read; a mismatch raises :class:`IntegrityError` after the last chunk.
* Every failure is an ``exceptions.RegistryError`` subclass naming the
  registry URL, the repository and what was being done.

Example::

    client = RegistryClient('https://registry.example', username='robot',
                            password='secret', ca_file='/etc/ssl/ca.pem')
    checksums = client.push_blob('egi.vo/ubuntu', open('disk.qcow2', 'rb'))
    client.push_manifest('egi.vo/ubuntu', '22.04', manifest)
    with open('copy.qcow2', 'wb') as out:
        client.pull_blob('egi.vo/ubuntu', checksums.digest, out)
"""

import collections
import hashlib
import http.client
import json
import os
import re
import stat
import urllib.parse

from oslo_log import log as logging
import requests
from requests import adapters
from urllib3.util import retry as urllib3_retry

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance import registry_auth

LOG = logging.getLogger(__name__)

OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX)
EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json'
EMPTY_CONFIG = b'{}'

UPLOAD_CHUNK_SIZE = 16 * 1024 * 1024
PIECE_SIZE = 1024 * 1024
# Zeros a sized upload whose source fell short may send to end its request
# cleanly before the session is cancelled (see _SizedBody).
PAD_LIMIT = 64 * 1024 * 1024
DOWNLOAD_CHUNK_SIZE = 4 * 1024 * 1024
# pull_blob receives into a ring of reused buffers of this size (measured
# fastest with the hashing thread beside it; see _BufferRing).
PULL_BUFFER_SIZE = 1024 * 1024
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
HARBOR_PAGE_SIZE = 100
RETRY_STATUS = (429, 500, 502, 503, 504)
# Methods whose request urllib3 may repeat after a read error or a retry
# status. PATCH (the upload stream) is not among them: after a failure the
# registry may hold part of it, so it is resumed from the offset the
# registry reports (see push_blob). Connection errors, where nothing was
# sent, are retried for every method.
IDEMPOTENT_METHODS = frozenset(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
_BLOB_URL_RE = re.compile(r'^/v2/(.+)/blobs/(sha256:[a-f0-9]{64})$')
_RANGE_RE = re.compile(r'^(?:bytes=)?0-(\d+)$')
_STREAM_ERRORS = (requests.ConnectionError, requests.Timeout,
                  requests.exceptions.ChunkedEncodingError,
                  requests.exceptions.ContentDecodingError)


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


def _oci_errors(response):
    try:
        errors = response.json().get('errors') or []
        return '; '.join('%s: %s' % (e.get('code'), e.get('message'))
                         for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError, requests.RequestException):
        return ''


class _UploadStream:
    """The bytes of one upload, readable again from a recent offset.

    The registry receives the blob as one streamed PATCH (distribution
    handles a stream several times faster than a sequence of chunked
    PATCH requests, each of which re-opens the upload on its side). When
    that request fails, the upload is resent from the offset the registry
    holds (often 0: distribution 2.8 drops a session whose PATCH broke
    halfway, and a new session starts). The last ``window`` bytes read
    are kept for that, and a seekable source is re-read when more is
    needed. Each byte is hashed once, when first read, so the checksums
    stay one pass.

    When the source's size is known (``size``, or a regular file's size
    from ``fstat``), the PATCH carries a ``Content-Length`` instead of
    chunked transfer encoding: urllib3 frames each chunked piece by
    copying it into a new buffer, which cost this process a core-second
    per GiB beside the registry's own work (measured with the store
    benchmark). A source that then ends early, fails, or yields more than
    announced fails the push (see :class:`_SizedBody`) instead of leaving
    the registry waiting for bytes that will not come.

    :param fileobj: the source, any object with ``read(size)``.
    :param hasher: the :class:`hashing.ContentHasher` to feed.
    :param window: bytes kept to resend; memory use is about this much.
    :param progress: called with the byte count of each new piece.
    :param size: bytes the source holds from its current position, when
        the caller knows; None to find out (regular files) or stream with
        chunked encoding.
    """

    def __init__(self, fileobj, hasher, window, progress=None, size=None):
        self.fileobj = fileobj
        self.hasher = hasher
        self.window = max(window, PIECE_SIZE)
        self.progress = progress
        self.read_upto = 0          # bytes read from the source so far
        self.position = 0           # where the source is now
        self.kept = collections.deque()  # (offset, piece), oldest first
        self.kept_bytes = 0
        self.source_error = None
        self.mismatch = None        # why a sized source did not fit
        try:
            self.start = fileobj.tell() if fileobj.seekable() else None
        except (AttributeError, OSError):
            self.start = None
        self.size = size if size is not None else self._file_size()

    def _file_size(self):
        """Bytes left in a regular file source; None for other sources."""
        if self.start is None:
            return None
        try:
            status = os.fstat(self.fileobj.fileno())
        except (AttributeError, OSError, ValueError):
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        return max(0, status.st_size - self.start)

    def _keep(self, offset, piece):
        self.kept.append((offset, piece))
        self.kept_bytes += len(piece)
        while self.kept_bytes - len(self.kept[0][1]) >= self.window:
            self.kept_bytes -= len(self.kept.popleft()[1])

    def rewind(self, offset, url):
        """Make the bytes from ``offset`` on readable again.

        :raises RegistryError: when they are neither kept nor re-readable.
        """
        if offset > self.read_upto:
            raise exceptions.RegistryError(
                'Registry %s reports %d bytes of an upload of which %d were '
                'sent; push again.' % (url, offset, self.read_upto))
        kept_from = self.kept[0][0] if self.kept else self.position
        if kept_from <= offset:
            return
        if self.start is None:
            raise exceptions.RegistryError(
                'Registry %s lost the upload after byte %d, more than the '
                '%d bytes kept to resend, and the source cannot be re-read; '
                'push again.' % (url, offset, self.window))
        self.fileobj.seek(self.start + offset)
        self.position = offset
        self.kept.clear()
        self.kept_bytes = 0

    def _read(self):
        try:
            piece = self.fileobj.read(PIECE_SIZE)
        except Exception as error:
            # End the request body cleanly instead: the registry then
            # answers, and the session can be cancelled with its current
            # state. The caller raises the source's own error.
            self.source_error = error
            return b''
        fresh = piece[max(0, self.read_upto - self.position):]
        if fresh:
            # Hash only bytes never seen (a re-read source repeats).
            self.hasher.update(fresh)
            self.read_upto += len(fresh)
            if self.progress:
                self.progress(len(fresh))
        self._keep(self.position, piece)
        self.position += len(piece)
        return piece

    def pieces_from(self, offset):
        """Yield the upload's bytes from ``offset`` (after ``rewind``)."""
        for start, piece in list(self.kept):
            if start + len(piece) > offset:
                yield piece[max(0, offset - start):]
        for piece in iter(self._read, b''):
            yield piece

    def body_from(self, offset, url):
        """The PATCH body from ``offset``: sized when the size is known."""
        self.rewind(offset, url)
        if self.size is None:
            return self.pieces_from(offset)
        return _SizedBody(self, offset)


class _SourceMismatch(Exception):
    """The upload source fell short of its size by more than PAD_LIMIT.

    Deliberately not an ``OSError``: raised inside the request body, it
    makes urllib3 drop the connection without retrying the request.
    """


class _SizedBody:
    """A PATCH body of known length: requests sends ``Content-Length``.

    Iterating yields the stream's pieces, never more than the announced
    length. A source that yields more is cut at the length; one that ends
    early or fails is padded with zeros up to the length when that is at
    most ``PAD_LIMIT`` bytes, so that the request ends cleanly and the
    session can be cancelled with nothing left behind; in both cases
    ``stream.mismatch`` says what happened and the upload is cancelled.
    A longer shortfall (a 50 GiB upload broken at its start) is not
    padded: :class:`_SourceMismatch` aborts the request, and the files
    of the session the registry was writing may outlive its cancellation
    until the registry purges stale uploads (distribution: a week by
    default); nothing is published either way.
    """

    def __init__(self, stream, offset):
        self.stream = stream
        self.offset = offset
        self.length = stream.size - offset

    def __len__(self):
        return self.length

    def __iter__(self):
        sent = 0
        for piece in self.stream.pieces_from(self.offset):
            if sent + len(piece) > self.length:
                self.stream.mismatch = (
                    'the source gave more than its %d bytes; it changed '
                    'while being pushed.' % self.stream.size)
                yield piece[:self.length - sent]
                return
            sent += len(piece)
            yield piece
        shortfall = self.length - sent
        if not shortfall:
            return
        self.stream.mismatch = (
            'the source ended at byte %d of %d; it changed while being '
            'pushed.' % (self.offset + sent, self.stream.size))
        if shortfall > PAD_LIMIT:
            raise _SourceMismatch(self.stream.mismatch)
        padding = memoryview(bytes(min(shortfall, PIECE_SIZE)))
        while shortfall:
            yield padding[:shortfall]
            shortfall -= len(padding[:shortfall])


class _BufferRing:
    """Receive buffers that ``pull_blob`` reuses instead of allocating.

    A fresh 4 MiB ``bytes`` per chunk costs page faults and a copy; reading
    into a few reused buffers made a verified 1 GiB pull about 9% faster
    (tools/bench/repository.py). A buffer is overwritten ``len(ring)``
    chunks after it was handed out, so every reader of a chunk must be
    done with it by then: the hashing threads hold at most ``depth + 1``
    chunks (``hashing.ContentHasher``) and ``pull_blob`` writes each
    chunk before asking for the next.
    """

    def __init__(self, count, size):
        self._buffers = [bytearray(size) for _ in range(count)]
        self._next = 0

    def take(self):
        buffer = self._buffers[self._next]
        self._next = (self._next + 1) % len(self._buffers)
        return buffer


def _response_chunks(response, chunk_size, ring=None):
    """Yield a streamed response's body; into ``ring``'s buffers if given.

    The buffers are filled from the HTTP response under urllib3's
    (``response.raw._fp``, the standard library's ``HTTPResponse``, whose
    ``readinto`` receives straight into them). Where that is not there,
    or the body is content-encoded, ``iter_content`` is used. Errors of
    the connection come out as ``requests.ConnectionError``, as from
    ``iter_content``, so that the caller resumes the same way.
    """
    body = getattr(response.raw, '_fp', None)
    encoding = response.headers.get('Content-Encoding', 'identity')
    if ring is None or not hasattr(body, 'readinto') or \
            encoding != 'identity':
        yield from response.iter_content(chunk_size)
        return
    while True:
        buffer = ring.take()
        try:
            count = body.readinto(buffer)
        except (http.client.HTTPException, OSError) as error:
            raise requests.ConnectionError(error) from error
        if not count:
            return
        yield memoryview(buffer)[:count]


class RegistryClient:
    """Client of one OCI registry (distribution, Harbor, Zot...).

    :param url: base URL of the registry, ``https://HOST[:PORT]``.
    :param username: user or robot account; None for anonymous access.
    :param password: its password or secret.
    :param ca_file: PEM bundle of the CAs that may sign the registry's
        certificate; None for the system's trust store.
    :param insecure: skip TLS verification. Only by explicit choice: the
        content's digests are still verified, but not who serves it.
    :param timeout: seconds to wait for a connection or a read.
    :param retries: attempts after a transient failure (connection error,
        429, 5xx) for each request, and for each upload chunk.
    :param backoff: urllib3's backoff factor between those attempts.
    :param chunk_size: bytes of upload data kept to resend after a
        broken connection (the resend window); the upload's memory use is
        about this much, whatever the blob's size.
    """

    def __init__(self, url, username=None, password=None, ca_file=None,
                 insecure=False, timeout=60, retries=5, backoff=0.5,
                 chunk_size=UPLOAD_CHUNK_SIZE):
        self.url = check_registry_url(url)
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
        self.session.auth = registry_auth.RegistryAuth(
            username, password, token_session=self.session)

    def close(self):
        self.session.close()

    # -- plumbing -----------------------------------------------------------

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

    # -- blobs: upload ------------------------------------------------------

    def blob_exists(self, repository, digest):
        """Return True if ``repository`` holds blob ``digest``."""
        try:
            self.blob_size(repository, digest)
        except exceptions.RegistryNotFound:
            return False
        return True

    def blob_size(self, repository, digest):
        """Return the size in bytes of a blob, from a HEAD request."""
        identifiers.check_digest(digest)
        response = self._request(
            'HEAD', self._url(repository, 'blobs', digest),
            'give the size of blob %s in %s' % (digest, repository))
        return int(response.headers['Content-Length'])

    def _start_upload(self, repository):
        response = self._request(
            'POST', self._url(repository, 'blobs', 'uploads') + '/',
            'start an upload to %s' % repository, expect=(202,),
            headers={'Content-Length': '0'})
        return self._absolute(response.headers['Location'])

    def _upload_status(self, location, repository):
        """Return ``(bytes the registry holds, next location)``."""
        response = self._request('GET', location,
                                 'report the upload to %s' % repository,
                                 expect=(204,))
        match = _RANGE_RE.match(response.headers.get('Range', ''))
        held = int(match.group(1)) + 1 if match else 0
        return held, self._absolute(response.headers.get('Location',
                                                         location))

    def _patch(self, location, stream, offset, repository):
        """Stream the upload from ``offset`` in one PATCH; return location."""
        response = self._request(
            'PATCH', location, 'accept upload data for %s' % repository,
            expect=(202,), data=stream.body_from(offset, self.url),
            headers={'Content-Type': 'application/octet-stream'})
        return self._absolute(response.headers['Location'])

    def _restart(self, location, repository):
        """Drop a broken session; return ``(0, new session location)``."""
        self.cancel_upload(location, repository)
        return 0, self._start_upload(repository)

    def _resume_point(self, location, repository):
        """Return ``(offset, location)`` to resend from after a failure."""
        try:
            return self._upload_status(location, repository)
        except exceptions.RegistryNotFound:
            # distribution 2.8 cancels a session whose PATCH broke after
            # writing some bytes (its state no longer matches): start a
            # new one.
            return self._restart(location, repository)

    def _send(self, stream, repository):
        """Upload ``stream`` whole; return the session's final location.

        A transient failure (connection lost, 429/5xx, an expired Bearer
        token) resends from the registry's offset, counted and spaced by
        urllib3's Retry; any other failure cancels the session.
        """
        location = self._start_upload(repository)
        retry = self.retry.new()
        offset = 0
        try:
            while True:
                try:
                    location = self._patch(location, stream, offset,
                                           repository)
                    self._check_source(stream, repository)
                    return location
                except _SourceMismatch:
                    self._check_source(stream, repository)
                    raise
                except exceptions.RegistryError as error:
                    if stream.source_error is not None:
                        raise stream.source_error from None
                    if not isinstance(error, (
                            exceptions.RegistryUnavailable,
                            exceptions.RegistryAuthError,
                            exceptions.RegistryNotFound)):
                        raise
                    try:
                        retry = retry.increment(method='PATCH', url=location)
                    except urllib3_retry.MaxRetryError:
                        raise error from None
                    retry.sleep()
                    if isinstance(error, exceptions.RegistryNotFound):
                        # The session is gone (distribution drops one whose
                        # size moved under a broken request): start over.
                        offset, location = self._restart(location,
                                                         repository)
                    else:
                        offset, location = self._resume_point(location,
                                                              repository)
                    LOG.info('Upload to %s at %s broke (%s); resending from '
                             'byte %d.', repository, self.url, error, offset)
        except BaseException:
            self.cancel_upload(location, repository)
            raise

    def _check_source(self, stream, repository):
        """Raise the source's failure, if the upload's source failed."""
        if stream.source_error is not None:
            raise stream.source_error from None
        if stream.mismatch:
            raise exceptions.InvalidInput(
                'Upload to %s at %s stopped: %s Nothing was published; '
                'push again.' % (repository, self.url, stream.mismatch))

    def _finish_upload(self, location, digest, repository, data=b''):
        parts = urllib.parse.urlsplit(location)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query.append(('digest', digest))
        url = urllib.parse.urlunsplit(parts._replace(
            query=urllib.parse.urlencode(query)))
        try:
            self._request('PUT', url,
                          'complete the upload of %s to %s'
                          % (digest, repository), expect=(201,), data=data,
                          headers={'Content-Type':
                                   'application/octet-stream'})
        except exceptions.RegistryError as error:
            if error.status == 400:
                raise exceptions.IntegrityError(
                    'Registry %s received content for %s whose digest is not '
                    '%s: it was altered in transit; push again.'
                    % (self.url, repository, digest)) from None
            raise

    def cancel_upload(self, location, repository):
        """Delete an upload session; best effort, failures are logged."""
        try:
            response = self.session.delete(location, timeout=self.timeout,
                                           verify=self.session.verify)
            response.close()
        except requests.RequestException as error:
            LOG.warning('Could not cancel upload session %s for %s: %s; '
                        'the registry discards it when it expires.',
                        location, repository, error)

    def push_blob(self, repository, fileobj, algorithms=hashing.ALL_ALGORITHMS,
                  progress=None, size=None):
        """Upload everything ``fileobj`` yields as one blob; return checksums.

        :param repository: the repository that will hold the blob.
        :param fileobj: any object with ``read(size)``: file, pipe, socket.
        :param algorithms: checksums to compute beside the SHA-256 digest.
        :param progress: called with the byte count of each piece read.
        :param size: the bytes ``fileobj`` holds, when known and it is not
            a regular file (whose size is read from the file system); a
            source that then yields another count fails the push.
        :returns: the :class:`hashing.Checksums` of the content; its
            ``digest`` names the blob.
        """
        identifiers.check_repository(repository)
        hasher = hashing.ContentHasher(
            tuple(set(algorithms) | {'sha256'}))
        stream = _UploadStream(fileobj, hasher, self.chunk_size, progress,
                               size=size)
        location = self._send(stream, repository)
        checksums = hasher.result()
        try:
            self._finish_upload(location, checksums.digest, repository)
        except BaseException:
            self.cancel_upload(location, repository)
            raise
        return checksums

    def push_bytes(self, repository, data):
        """Upload a small blob held in memory (a config); return its digest.

        Skipped when the repository already holds it.
        """
        digest = 'sha256:' + hashlib.sha256(data).hexdigest()
        if not self.blob_exists(repository, digest):
            location = self._start_upload(repository)
            try:
                self._finish_upload(location, digest, repository, data=data)
            except BaseException:
                self.cancel_upload(location, repository)
                raise
        return digest

    # -- blobs: download ----------------------------------------------------

    def _open_blob(self, repository, digest, offset):
        headers = {'Range': 'bytes=%d-' % offset} if offset else {}
        response = self._request(
            'GET', self._url(repository, 'blobs', digest),
            'send blob %s of %s' % (digest, repository),
            expect=(206,) if offset else (200,), headers=headers,
            stream=True)
        if offset:
            start = response.headers.get('Content-Range', '').split(' ')[-1]
            if not start.startswith('%d-' % offset):
                response.close()
                raise exceptions.RegistryError(
                    'Registry %s answered a request for blob %s from byte '
                    '%d with range %r.' % (self.url, digest, offset, start))
        return response

    def iter_blob(self, repository, digest, offset=0, size=None,
                  chunk_size=DOWNLOAD_CHUNK_SIZE, hasher=None, ring=None,
                  verify=True):
        """Yield the bytes of a blob, resuming after broken connections.

        :param offset: first byte to send; with ``verify``, a read from 0
            to the end is verified against ``digest`` (and ``size`` when
            given) after the last chunk, and raises
            :class:`IntegrityError` on mismatch.
        :param size: expected size; read from the registry when None.
        :param hasher: a :class:`hashing.ContentHasher` fed with every
            chunk, for callers that need more checksums than the digest.
        :param ring: a :class:`_BufferRing` to receive into; the chunks
            are then views of its buffers, valid until it wraps around
            (``pull_blob``). By default each chunk is new ``bytes``.
        :param verify: False leaves the check to the caller, who then
            has other means to know the bytes (the Glance store, whose
            clients check the image's own hash).
        """
        identifiers.check_digest(digest)
        verify = verify and offset == 0
        hasher = hasher or (hashing.ContentHasher(('sha256',))
                            if verify else None)
        received = offset
        retry = self.retry.new()
        response = self._open_blob(repository, digest, offset)
        if size is None:
            length = response.headers.get('Content-Length')
            size = offset + int(length) if length is not None else None
        try:
            while True:
                try:
                    for chunk in _response_chunks(response, chunk_size,
                                                  ring):
                        received += len(chunk)
                        # Checked read or not, never more than announced.
                        if size is not None and received > size:
                            raise self._size_error(repository, digest,
                                                   received, size)
                        if hasher:
                            hasher.update(chunk)
                        yield chunk
                    if size is None or received >= size:
                        break
                    error = 'the stream ended early'
                except _STREAM_ERRORS as exc:
                    error = exc
                response.close()
                LOG.info('Download of %s from %s broke at byte %d (%s); '
                         'resuming.', digest, self.url, received, error)
                try:
                    retry = retry.increment(method='GET', url=response.url)
                except urllib3_retry.MaxRetryError:
                    raise exceptions.RegistryUnavailable(
                        'Download of blob %s from %s stopped at byte %d of '
                        '%s: %s.' % (digest, self.url, received, size,
                                     error)) from None
                retry.sleep()
                response = self._open_blob(repository, digest, received)
        finally:
            response.close()
        if verify:
            self._verify(repository, digest, size, hasher.result())

    def _size_error(self, repository, digest, received, size):
        return exceptions.IntegrityError(
            'Blob %s of %s at %s: received %s bytes, expected %d; the '
            'download is %s.' % (
                digest, repository, self.url,
                received if received < size else 'more than %d' % size,
                size, 'truncated' if received < size else 'too long'))

    def _verify(self, repository, digest, size, checksums):
        if size is not None and checksums.size != size:
            raise self._size_error(repository, digest, checksums.size, size)
        if checksums.digest != digest:
            raise exceptions.IntegrityError(
                'Blob %s of %s at %s: the content received has digest %s; '
                'it was altered, do not use it.'
                % (digest, repository, self.url, checksums.digest))

    def pull_blob(self, repository, digest, fileobj,
                  algorithms=('sha256',), progress=None):
        """Write a blob into ``fileobj``, verified; return its checksums.

        The data is written as it arrives, as views of reused buffers
        (``fileobj.write`` must copy or write them before it returns);
        when verification fails the caller must discard what was written
        (the exception says why).
        """
        hasher = hashing.ContentHasher(tuple(set(algorithms) | {'sha256'}))
        # Each chunk is written before the next is received, and the
        # hashing threads are at most depth + 1 chunks behind.
        ring = _BufferRing(hasher.depth + 3, PULL_BUFFER_SIZE)
        for chunk in self.iter_blob(repository, digest, hasher=hasher,
                                    ring=ring):
            fileobj.write(chunk)
            if progress:
                progress(len(chunk))
        return hasher.result()

    # -- manifests, tags, repositories --------------------------------------

    def push_manifest(self, repository, reference, manifest,
                      media_type=OCI_MANIFEST):
        """Store ``manifest`` (a dict) under a tag or digest; return digest."""
        if not reference.startswith('sha256:'):
            identifiers.check_tag(reference)
        body = json.dumps(manifest, sort_keys=True).encode('utf-8')
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        self._request('PUT', self._url(repository, 'manifests', reference),
                      'store manifest %s:%s' % (repository, reference),
                      expect=(201,), data=body,
                      headers={'Content-Type': media_type})
        return digest

    def _manifest_url(self, repository, reference):
        if reference.startswith('sha256:'):
            identifiers.check_digest(reference)
        else:
            identifiers.check_tag(reference)
        return self._url(repository, 'manifests', reference)

    def get_manifest(self, repository, reference):
        """Return ``(digest, manifest dict)`` of a tag or digest."""
        response = self._request(
            'GET', self._manifest_url(repository, reference),
            'send manifest %s:%s' % (repository, reference),
            headers={'Accept': ', '.join(MANIFEST_TYPES)}, stream=True)
        body = response.raw.read(MANIFEST_MAX_BYTES + 1, decode_content=True)
        response.close()
        if len(body) > MANIFEST_MAX_BYTES:
            raise exceptions.InvalidInput(
                'Manifest %s:%s at %s is larger than %d bytes; it is not an '
                'appliance.' % (repository, reference, self.url,
                                MANIFEST_MAX_BYTES))
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        if reference.startswith('sha256:') and digest != reference:
            raise exceptions.IntegrityError(
                'Manifest %s@%s at %s has digest %s; it was altered.'
                % (repository, reference, self.url, digest))
        try:
            return digest, json.loads(body)
        except ValueError:
            raise exceptions.InvalidInput(
                'Manifest %s:%s at %s is not JSON.'
                % (repository, reference, self.url)) from None

    def resolve(self, repository, reference):
        """Return the manifest digest a tag (or digest) names."""
        response = self._request(
            'HEAD', self._manifest_url(repository, reference),
            'find manifest %s:%s' % (repository, reference),
            headers={'Accept': ', '.join(MANIFEST_TYPES)})
        return identifiers.check_digest(
            response.headers.get('Docker-Content-Digest'))

    def delete_manifest(self, repository, reference):
        """Delete a manifest (and with it every tag naming it).

        :returns: the digest of the deleted manifest.
        """
        digest = self.resolve(repository, reference)
        try:
            self._request('DELETE', self._url(repository, 'manifests',
                                              digest),
                          'delete manifest %s@%s' % (repository, digest),
                          expect=(202, 200))
        except exceptions.RegistryError as error:
            if error.status == 405:
                raise exceptions.RegistryError(
                    'Registry %s does not allow deletes; enable them in its '
                    'configuration (storage: delete: enabled: true).'
                    % self.url, status=405) from None
            raise
        return digest

    def _paginate(self, url, key, what):
        params = {'n': 100}
        while url:
            response = self._request('GET', url, what, params=params)
            for item in response.json().get(key) or []:
                yield item
            url = response.links.get('next', {}).get('url')
            url, params = (self._absolute(url), None) if url else (None,
                                                                   None)

    def list_repositories(self):
        """Return every repository name the account may see."""
        return list(self._paginate(self.url + '/v2/_catalog',
                                   'repositories', 'list repositories'))

    def list_project_repositories(self, project):
        """Return the repositories under ``project/``, sorted.

        The OCI catalog (``/v2/_catalog``) first. Harbor, EGI's registry,
        answers it only to its administrators: when it refuses this
        account (401/403), Harbor's project API is asked instead
        (``/api/v2.0/projects/PROJECT/repositories``), which members and
        robot accounts of the project may read. A registry with neither
        gives the catalog's refusal.
        """
        identifiers.check_repository(project)
        prefix = project + '/'
        try:
            names = self.list_repositories()
        except exceptions.RegistryAuthError as refused:
            try:
                names = list(self._harbor_repositories(project))
            except exceptions.RegistryNotFound:
                raise refused from None
        return sorted(name for name in names if name.startswith(prefix))

    def _harbor_repositories(self, project):
        """Names of a Harbor project's repositories, page by page."""
        url = '%s/api/v2.0/projects/%s/repositories' % (
            self.url, urllib.parse.quote(project, safe=''))
        what = 'list the repositories of project %s' % project
        page = 1
        while True:
            items = self._request('GET', url, what, params={
                'page': page, 'page_size': HARBOR_PAGE_SIZE}).json()
            if not isinstance(items, list):
                raise exceptions.RegistryError(
                    'Registry %s answered a request to %s with %s, not '
                    'a list of repositories.' % (self.url, what,
                                                 type(items).__name__))
            for item in items:
                if isinstance(item, dict) and item.get('name'):
                    yield item['name']
            if len(items) < HARBOR_PAGE_SIZE:
                return
            page += 1

    def list_tags(self, repository):
        """Return the tags of ``repository``."""
        return list(self._paginate(self._url(repository, 'tags', 'list'),
                                   'tags', 'list the tags of %s'
                                   % repository))

    def blob_url(self, repository, digest):
        """Return the URL any HTTP client downloads a blob from."""
        return self._url(repository, 'blobs', identifiers.check_digest(
            digest))


def client_from_conf(conf, group='appliance'):
    """Return a :class:`RegistryClient` configured from ``conf[group]``.

    The options are those of ``stratuslab_plugins.conf.appliance``,
    registered under ``group`` by the caller (one group per Glance store).
    """
    opts = conf[group]
    if not opts.registry_url:
        raise exceptions.InvalidInput(
            'No registry configured: set [%s] registry_url.' % group)
    return RegistryClient(
        opts.registry_url, username=opts.registry_username,
        password=opts.registry_password, ca_file=opts.registry_ca_file,
        insecure=opts.registry_insecure, timeout=opts.registry_timeout,
        retries=opts.registry_retries,
        chunk_size=opts.upload_chunk_size * 1024 * 1024)
