"""Checksums of appliance content, all computed in one streaming pass.

An appliance is described by its size, SHA-512 (what HEPiX consumers
check), SHA-256 (its OCI digest) and SHA-1 (its StratusLab identifier).
Images are gigabytes: reading one twice costs as much as moving it, so
every reader of appliance content (upload, download, verification) feeds
one :class:`ContentHasher` from the chunks it already holds.

Hashing runs in helper threads, one per algorithm, a few chunks behind
the caller: ``hashlib`` releases the GIL on large buffers, so chunks are
hashed while the next ones are sent or received, and hashing does not add
to the transfer time when the machine has a core to spare.

Example::

    hasher = ContentHasher()
    for chunk in iter(lambda: fileobj.read(CHUNK_SIZE), b''):
        hasher.update(chunk)
    checksums = hasher.result()
    checksums.sha512, checksums.digest, checksums.stratuslab_id
"""

import dataclasses
import hashlib
import queue
import threading

from stratuslab_plugins.appliance import identifiers

CHUNK_SIZE = 8 * 1024 * 1024
ALL_ALGORITHMS = ('sha1', 'sha256', 'sha512')


class DerivedIdentifiers:
    """The names content gets from its checksums.

    For the classes that keep ``sha256`` and ``sha1``: :class:`Checksums`
    and ``model.Appliance``.
    """

    @property
    def digest(self):
        """The OCI digest (``sha256:<hex>``) of the content, when known."""
        return 'sha256:' + self.sha256 if self.sha256 else None

    @property
    def stratuslab_id(self):
        """The StratusLab Marketplace identifier, when the SHA-1 is known."""
        return (identifiers.stratuslab_identifier(self.sha1)
                if self.sha1 else None)


@dataclasses.dataclass(frozen=True)
class Checksums(DerivedIdentifiers):
    """Size in bytes and hex checksums of one content (None: not computed)."""

    size: int
    sha1: str = None
    sha256: str = None
    sha512: str = None


class _HashWorker(threading.Thread):
    """One algorithm, fed from a bounded queue of chunks."""

    def __init__(self, name, depth):
        super().__init__(name='hash-' + name, daemon=True)
        self.hash = hashlib.new(name)
        self.chunks = queue.Queue(maxsize=depth)
        self.start()

    def run(self):
        for chunk in iter(self.chunks.get, None):
            self.hash.update(chunk)


class ContentHasher:
    """Size and checksums of a stream fed chunk by chunk.

    Each algorithm runs in its own thread, fed through a queue a few
    chunks deep: the caller never waits for hashing unless it is that
    many chunks ahead, and on a machine with free cores the algorithms
    run side by side. Chunks must not be modified once given.

    :param algorithms: the ``hashlib`` names to compute; by default every
        checksum an appliance carries.
    :param depth: chunks queued per algorithm before ``update`` waits.
    """

    def __init__(self, algorithms=ALL_ALGORITHMS, depth=4):
        #: Chunks a worker may hold besides the one it hashes: a caller
        #: reusing buffers must cycle through more than ``depth + 1``.
        self.depth = depth
        self._workers = {name: _HashWorker(name, depth)
                         for name in algorithms}
        self._size = 0
        self._result = None

    def update(self, chunk):
        """Add ``chunk`` (immutable bytes) to the checksums."""
        self._size += len(chunk)
        for worker in self._workers.values():
            worker.chunks.put(chunk)

    @property
    def size(self):
        """Bytes seen so far."""
        return self._size

    def result(self):
        """Return the :class:`Checksums` of everything fed; ends feeding."""
        if self._result is None:
            for worker in self._workers.values():
                worker.chunks.put(None)
            for worker in self._workers.values():
                worker.join()
            self._result = Checksums(
                size=self._size,
                **{name: worker.hash.hexdigest()
                   for name, worker in self._workers.items()})
        return self._result

    def __del__(self):
        # A hasher dropped before result() (a failed transfer) must not
        # leave its threads waiting forever.
        if self._result is None:
            for worker in getattr(self, '_workers', {}).values():
                try:
                    worker.chunks.put_nowait(None)
                except queue.Full:
                    pass


def checksum_file(fileobj, algorithms=ALL_ALGORITHMS, chunk_size=CHUNK_SIZE):
    """Read ``fileobj`` to its end once and return its :class:`Checksums`."""
    hasher = ContentHasher(algorithms)
    for chunk in iter(lambda: fileobj.read(chunk_size), b''):
        hasher.update(chunk)
    return hasher.result()
