"""Checksums of appliance content, all computed in one streaming pass.

An appliance is described by its size, SHA-512 (what HEPiX consumers
check), SHA-256 (its OCI digest) and SHA-1 (its StratusLab identifier).
Images are gigabytes: reading one twice costs as much as moving it, so
every reader of appliance content (upload, download, verification) feeds
one :class:`ContentHasher` from the chunks it already holds.

Hashing runs in a helper thread, one chunk behind the caller: ``hashlib``
releases the GIL on large buffers, so a chunk is hashed while the next one
is sent or received, and hashing does not add to the transfer time.

Example::

    hasher = ContentHasher()
    for chunk in iter(lambda: fileobj.read(CHUNK_SIZE), b''):
        hasher.update(chunk)
    checksums = hasher.result()
    checksums.sha512, checksums.digest, checksums.stratuslab_id
"""

import dataclasses
import hashlib
import threading

from stratuslab_plugins.appliance import identifiers

CHUNK_SIZE = 8 * 1024 * 1024
ALL_ALGORITHMS = ('sha1', 'sha256', 'sha512')


@dataclasses.dataclass(frozen=True)
class Checksums:
    """Size in bytes and hex checksums of one content (None: not computed)."""

    size: int
    sha1: str = None
    sha256: str = None
    sha512: str = None

    @property
    def digest(self):
        """The OCI digest (``sha256:<hex>``) of the content."""
        return 'sha256:' + self.sha256 if self.sha256 else None

    @property
    def stratuslab_id(self):
        """The StratusLab Marketplace identifier (from the SHA-1)."""
        return (identifiers.stratuslab_identifier(self.sha1)
                if self.sha1 else None)


class ContentHasher:
    """Size and checksums of a stream fed chunk by chunk.

    :param algorithms: the ``hashlib`` names to compute; by default every
        checksum an appliance carries.
    """

    def __init__(self, algorithms=ALL_ALGORITHMS):
        self._hashes = {name: hashlib.new(name) for name in algorithms}
        self._size = 0
        self._worker = None

    def _hash(self, chunk):
        for hash_ in self._hashes.values():
            hash_.update(chunk)

    def _wait(self):
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def update(self, chunk):
        """Add ``chunk`` (immutable bytes) to the checksums.

        Returns at once; the chunk is hashed while the caller moves on.
        The previous chunk's hashing is awaited first, so at most one
        chunk is held here and the order is kept.
        """
        self._wait()
        self._size += len(chunk)
        self._worker = threading.Thread(target=self._hash, args=(chunk,),
                                        daemon=True)
        self._worker.start()

    @property
    def size(self):
        """Bytes seen so far."""
        return self._size

    def result(self):
        """Return the :class:`Checksums` of everything fed so far."""
        self._wait()
        return Checksums(size=self._size,
                         **{name: hash_.hexdigest()
                            for name, hash_ in self._hashes.items()})


def checksum_file(fileobj, algorithms=ALL_ALGORITHMS, chunk_size=CHUNK_SIZE):
    """Read ``fileobj`` to its end once and return its :class:`Checksums`."""
    hasher = ContentHasher(algorithms)
    for chunk in iter(lambda: fileobj.read(chunk_size), b''):
        hasher.update(chunk)
    return hasher.result()
