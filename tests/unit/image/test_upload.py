"""The upload reader: size, digests, verifier and format in one pass."""

import hashlib
import io

from glance_store import exceptions
import testtools

from stratuslab_plugins.image import upload

QCOW2 = (b'QFI\xfb' + (3).to_bytes(4, 'big') + bytes(16)
         + (16).to_bytes(4, 'big') + (2 ** 26).to_bytes(8, 'big'))


class Recorder:
    """A verifier stand-in that keeps what it was fed (order included)."""

    def __init__(self):
        self.chunks = []

    def update(self, chunk):
        self.chunks.append(chunk)


class SmallReads(io.RawIOBase):
    """A source that returns short reads, as a request body does."""

    def __init__(self, data, step):
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size=-1):
        return self._data.read(min(size, self._step))


def drain(reader, size=1000):
    parts = []
    for chunk in iter(lambda: reader.read(size), b''):
        parts.append(chunk)
    reader.close()
    return b''.join(parts)


class UploadReaderTest(testtools.TestCase):

    def test_digests_and_verifier_see_every_byte_in_order(self):
        data = bytes(range(256)) * 100
        verifier = Recorder()
        reader = upload.UploadReader(SmallReads(data, 777), len(data),
                                     'sha3_256', verifier)
        self.assertEqual(data, drain(reader))
        self.assertEqual(data, b''.join(verifier.chunks))
        self.assertEqual(hashlib.md5(data).hexdigest(),
                         reader.hexdigest('md5'))
        self.assertEqual(hashlib.sha3_256(data).hexdigest(),
                         reader.hexdigest('sha3_256'))
        self.assertEqual(len(data), reader.size)

    def test_client_digests_are_left_to_the_client(self):
        for algo in ('sha1', 'sha256', 'sha512'):
            reader = upload.UploadReader(io.BytesIO(b'x'), 1, algo, None)
            drain(reader)
            self.assertIsNone(reader.hexdigest(algo))

    def test_longer_than_declared(self):
        reader = upload.UploadReader(io.BytesIO(b'x' * 3000), 2500,
                                     'sha512', None)
        error = self.assertRaises(exceptions.Invalid, drain, reader)
        self.assertIn('exceeds its declared size of 2500', str(error))

    def test_shorter_than_declared(self):
        reader = upload.UploadReader(io.BytesIO(b'x' * 3000), 3001,
                                     'sha512', None)
        error = self.assertRaises(exceptions.Invalid, drain, reader)
        self.assertIn('3000 bytes but its declared size is 3001',
                      str(error))

    def test_unknown_size_takes_everything(self):
        reader = upload.UploadReader(io.BytesIO(b'x' * 3000), 0,
                                     'sha512', None)
        self.assertEqual(3000, len(drain(reader)))

    def test_verifier_failure_surfaces(self):
        class Broken:
            def update(self, chunk):
                raise ValueError('verifier broke')

        reader = upload.UploadReader(io.BytesIO(b'x' * 3000), 0,
                                     'sha512', Broken())
        self.assertRaises(ValueError, drain, reader)

    def test_format_is_detected(self):
        reader = upload.UploadReader(
            io.BytesIO(QCOW2 + bytes(70000)), 0, 'sha512', None)
        drain(reader, 65536)
        self.assertEqual('qcow2', reader.disk_format)
        reader = upload.UploadReader(io.BytesIO(b'\x07' * 70000), 0,
                                     'sha512', None)
        drain(reader, 65536)
        self.assertEqual('raw', reader.disk_format)
