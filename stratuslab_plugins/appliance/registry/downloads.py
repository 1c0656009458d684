"""Downloads: blobs streamed, resumed with Range, verified at the end.

``iter_blob`` / ``pull_blob`` stream a blob, resume with ``Range`` after
a broken connection, and verify size and digest at the end of a full
read; a mismatch raises :class:`IntegrityError` after the last chunk.
"""

import http.client

from oslo_log import log as logging
import requests
from urllib3.util import retry as urllib3_retry

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import identifiers

LOG = logging.getLogger(__name__)

DOWNLOAD_CHUNK_SIZE = 4 * 1024 * 1024
# pull_blob receives into a ring of reused buffers of this size (measured
# fastest with the hashing thread beside it; see _BufferRing).
PULL_BUFFER_SIZE = 1024 * 1024
_STREAM_ERRORS = (requests.ConnectionError, requests.Timeout,
                  requests.exceptions.ChunkedEncodingError,
                  requests.exceptions.ContentDecodingError)


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


class Downloads:
    """Blob queries and downloads of :class:`RegistryClient` (a mixin)."""

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
        what = 'give the size of blob %s in %s' % (digest, repository)
        response = self._request(
            'HEAD', self._url(repository, 'blobs', digest), what)
        return self._size_header(response, what)

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
        try:
            if size is None and 'Content-Length' in response.headers:
                size = offset + self._size_header(
                    response, 'send blob %s of %s' % (digest, repository))
        except exceptions.RegistryError:
            response.close()
            raise
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

    def blob_url(self, repository, digest):
        """Return the URL any HTTP client downloads a blob from."""
        return self._url(repository, 'blobs', identifiers.check_digest(
            digest))
