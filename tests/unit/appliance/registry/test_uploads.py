"""The upload stream's resend window, without a registry.

Uploads to a real registry are tested against docker-registry in
tests/functional/appliance/test_registry.py.
"""

import io

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance.registry import uploads


class Pipe(io.RawIOBase):
    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, size=-1):
        return self._data.read(size)


class UploadStreamTest(testtools.TestCase):

    def stream(self, source, window):
        self.hasher = hashing.ContentHasher(('sha256',))
        return uploads._UploadStream(source, self.hasher, window)

    def setUp(self):
        super().setUp()
        self.piece = uploads.PIECE_SIZE
        self.data = bytes(range(256)) * (self.piece * 4 // 256)

    def test_resend_from_the_window_hashes_once(self):
        stream = self.stream(Pipe(self.data), window=2 * self.piece)
        first = b''.join(stream.pieces_from(0))
        self.assertEqual(self.data, first)
        offset = 3 * self.piece - 10
        stream.rewind(offset, 'registry')
        self.assertEqual(self.data[offset:],
                         b''.join(stream.pieces_from(offset)))
        checksums = self.hasher.result()
        self.assertEqual(len(self.data), checksums.size)
        self.assertEqual(hashing.checksum_file(io.BytesIO(self.data),
                                               ('sha256',)).sha256,
                         checksums.sha256)

    def test_seekable_source_is_read_again(self):
        stream = self.stream(io.BytesIO(self.data), window=self.piece)
        b''.join(stream.pieces_from(0))
        stream.rewind(0, 'registry')
        self.assertEqual(self.data, b''.join(stream.pieces_from(0)))
        self.assertEqual(len(self.data), self.hasher.result().size)

    def test_pipe_beyond_the_window_cannot_be_resent(self):
        stream = self.stream(Pipe(self.data), window=self.piece)
        b''.join(stream.pieces_from(0))
        e = self.assertRaises(exceptions.RegistryError, stream.rewind, 0,
                              'registry')
        self.assertIn('cannot be re-read', str(e))
        e = self.assertRaises(exceptions.RegistryError, stream.rewind,
                              len(self.data) + 1, 'registry')
        self.assertIn('were sent', str(e))

    def test_failing_source_ends_the_body_and_is_kept(self):
        class Broken(Pipe):
            def read(self, size=-1):
                raise OSError('disk failed')
        stream = self.stream(Broken(b''), window=self.piece)
        self.assertEqual(b'', b''.join(stream.pieces_from(0)))
        self.assertIn('disk failed', str(stream.source_error))
