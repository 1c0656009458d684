"""One-pass checksums against hashlib over the whole content."""

import hashlib
import io
import os

import testtools

from stratuslab_plugins.appliance import hashing


class ContentHasherTest(testtools.TestCase):

    def test_every_checksum_in_one_pass(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        checksums = hashing.checksum_file(io.BytesIO(data), chunk_size=65536)
        self.assertEqual(len(data), checksums.size)
        self.assertEqual(hashlib.sha512(data).hexdigest(), checksums.sha512)
        self.assertEqual(hashlib.sha256(data).hexdigest(), checksums.sha256)
        self.assertEqual(hashlib.sha1(data).hexdigest(), checksums.sha1)
        self.assertEqual('sha256:' + checksums.sha256, checksums.digest)
        self.assertEqual(27, len(checksums.stratuslab_id))

    def test_empty_content(self):
        checksums = hashing.checksum_file(io.BytesIO(b''))
        self.assertEqual(0, checksums.size)
        self.assertEqual(hashlib.sha512(b'').hexdigest(), checksums.sha512)

    def test_selected_algorithms(self):
        hasher = hashing.ContentHasher(('sha256',))
        hasher.update(b'abc')
        hasher.update(b'def')
        checksums = hasher.result()
        self.assertEqual(hashlib.sha256(b'abcdef').hexdigest(),
                         checksums.sha256)
        self.assertIsNone(checksums.sha512)
        self.assertIsNone(checksums.stratuslab_id)
