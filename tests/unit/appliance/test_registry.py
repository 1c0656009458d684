"""Registry client pieces that need no registry: URLs and the resend window.

The protocol itself is tested against docker-registry in
tests/functional/appliance/test_registry.py.
"""

import io

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import registry

DIGEST = 'sha256:' + 'ab' * 32


class URLTest(testtools.TestCase):

    def test_registry_url(self):
        self.assertEqual(
            'https://r.example:5000',
            registry.check_registry_url('https://r.example:5000/'))
        for bad in ('ftp://r.example', 'https://user:pw@r.example',
                    'https://r.example/v2/', 'https://r.example?x=1',
                    'r.example', '', None):
            e = self.assertRaises(exceptions.InvalidInput,
                                  registry.check_registry_url, bad)
            self.assertIn(repr(bad), str(e))

    def test_blob_url_round_trip(self):
        client = registry.RegistryClient('http://127.0.0.1:9')
        self.addCleanup(client.close)
        url = client.blob_url('vo.example.org/ubuntu', DIGEST)
        self.assertEqual(('http://127.0.0.1:9', 'vo.example.org/ubuntu',
                          DIGEST), registry.parse_blob_url(url))

    def test_hostile_blob_urls(self):
        for bad in ('https://h/v2/../etc/blobs/' + DIGEST,
                    'https://h/v2/a/blobs/sha256:xyz',
                    'https://h/v2/a/blobs/%s?x=1' % DIGEST,
                    'file:///v2/a/blobs/' + DIGEST,
                    'https://h/v2/A/blobs/' + DIGEST):
            self.assertRaises(exceptions.InvalidInput,
                              registry.parse_blob_url, bad)


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
        return registry._UploadStream(source, self.hasher, window)

    def setUp(self):
        super().setUp()
        self.piece = registry.PIECE_SIZE
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
