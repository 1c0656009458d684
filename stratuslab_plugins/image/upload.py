"""What the ``appliance`` store reads of an image Glance uploads.

Glance hands ``add()`` a file and expects back its size, MD5, multihash
and a fed signature verifier, all in one pass over the data (as
glance_store's own drivers do); the store also wants the disk format the
content really has, for the appliance's metadata. The registry client
reads the file once to stream it as a blob, so :class:`UploadReader`
sits between the two and sees every piece on its way: the size check,
the digests the registry client does not compute, the verifier and the
format inspection all happen here, apart from the registry protocol.
"""

import concurrent.futures
import contextlib

from glance_store.common import utils as store_utils
from glance_store import exceptions
from oslo_utils.imageutils import format_inspector

from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import model

#: Disk formats the content inspector can name, as appliance formats.
DETECTED_FORMATS = {name: name for name in model.DISK_FORMATS}
DETECTED_FORMATS['gpt'] = 'raw'


class _ReadOnly:
    """A file object's ``read`` and nothing else."""

    def __init__(self, fileobj):
        self.read = fileobj.read


class UploadReader:
    """The image file, read once by the registry client, seen by Glance.

    Every piece the registry client reads is counted against the declared
    size, inspected for its disk format (oslo.utils' format inspector, as
    Glance's), and handed to helper threads, one per digest, that feed
    the MD5, any multihash Glance asks for that the registry client does
    not compute, and the signature verifier. The registry client hashes
    SHA-256 (the blob's digest), SHA-1 and SHA-512 in its own threads
    (``hashing.ContentHasher``, whose checksums have no MD5). The helpers
    work one piece behind, beside the network I/O (hashlib releases the
    GIL on large buffers), so at most one piece is held here; an error
    they meet is raised on the next read, which the registry client
    turns into a cancelled upload.

    :param image_file: the data Glance hands the store.
    :param image_size: the declared size, 0 when unknown.
    :param hashing_algo: Glance's multihash algorithm.
    :param verifier: the image signature verifier, or None.
    """

    #: Digests the registry client computes; the others are computed here.
    CLIENT_ALGORITHMS = hashing.ALL_ALGORITHMS

    def __init__(self, image_file, image_size, hashing_algo, verifier):
        # The inspector decides only when told the stream ended, through
        # close(), which also closes its source: give it read() alone, so
        # that Glance's file stays Glance's to close.
        self._inspector = format_inspector.InspectWrapper(
            _ReadOnly(image_file))
        self._declared = image_size
        self._hashers = {'md5': store_utils.get_hasher('md5', False)}
        if hashing_algo not in self._hashers and \
                hashing_algo not in self.CLIENT_ALGORITHMS:
            self._hashers[hashing_algo] = store_utils.get_hasher(hashing_algo)
        self._feeds = [hasher.update for hasher in self._hashers.values()]
        if verifier is not None:
            self._feeds.append(verifier.update)
        self.size = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=len(self._feeds), thread_name_prefix='appliance-hash')
        self._pending = ()

    def _wait(self):
        pending, self._pending = self._pending, ()
        for future in pending:
            future.result()

    def read(self, size):
        chunk = self._inspector.read(size)
        self._wait()
        if not chunk:
            self._inspector.close()
            if self._declared and self.size != self._declared:
                raise exceptions.Invalid(
                    message='Image data is %d bytes but its declared size '
                            'is %d; nothing was stored.'
                            % (self.size, self._declared))
            return b''
        self.size += len(chunk)
        if self._declared and self.size > self._declared:
            raise exceptions.Invalid(
                message='Image data exceeds its declared size of %d bytes;'
                        ' nothing was stored.' % self._declared)
        chunk = bytes(chunk)
        self._pending = [self._pool.submit(feed, chunk)
                         for feed in self._feeds]
        return chunk

    def close(self):
        with contextlib.suppress(Exception):
            self._wait()
        self._pool.shutdown(wait=True)

    def hexdigest(self, algo):
        """Return the hex digest of ``algo``, or None if not computed here."""
        hasher = self._hashers.get(algo)
        return hasher.hexdigest() if hasher is not None else None

    @property
    def disk_format(self):
        """The appliance disk format detected in the content."""
        try:
            detected = self._inspector.format
        except format_inspector.ImageFormatError:
            detected = None
        name = str(detected) if detected is not None else 'raw'
        return DETECTED_FORMATS.get(name, 'raw')
