"""Uploads: one blob streamed through one upload session, resumable.

``push_blob`` streams any file object through one upload session as one
streamed PATCH (memory bounded by the resend window, no temporary file),
computes every checksum in the same pass, resumes after a broken
connection from the offset the registry reports, and cancels the session
on any failure, so a failed push leaves no blob and no manifest.
"""

import collections
import hashlib
import os
import re
import stat
import urllib.parse

from oslo_log import log as logging
import requests
from urllib3.util import retry as urllib3_retry

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance.registry import bodies

LOG = logging.getLogger(__name__)

UPLOAD_CHUNK_SIZE = 16 * 1024 * 1024
PIECE_SIZE = 1024 * 1024
# Zeros a sized upload whose source fell short may send to end its request
# cleanly before the session is cancelled (see _SizedBody).
PAD_LIMIT = 64 * 1024 * 1024
_RANGE_RE = re.compile(r'\A(?:bytes=)?0-([0-9]{1,19})\Z')


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


class Uploads:
    """Blob uploads of :class:`RegistryClient` (a mixin over Transport)."""

    def _start_upload(self, repository):
        response = self._request(
            'POST', self._url(repository, 'blobs', 'uploads') + '/',
            'start an upload to %s' % repository, expect=(202,),
            headers={'Content-Length': '0'})
        return self._absolute(self._header(
            response, 'Location', 'start an upload to %s' % repository))

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
        return self._absolute(self._header(
            response, 'Location', 'accept upload data for %s' % repository))

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
            bodies.drain(self.session.delete(
                location, timeout=self.timeout, verify=self.session.verify,
                stream=True))
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
