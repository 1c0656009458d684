"""Who checks an appliance registered by location, end to end.

Starts Debian's docker-registry with its access log and two glance-api
processes configured as the README's appliance-sync section asks
(``do_secure_hash = False``, an ``appliance`` store on the registry):
one leaves the checking of downloads to the clients
(``appliance_read_verification = never``), the other asks its store to
re-hash every full read (``always``). Appliances are pushed, listed in a
HEPiX list signed by a test CA and synced into both (base.py). It proves:

* the first sync reads no image byte: the registry answered Glance's size
  requests (HEAD) and nothing else, and Glance recorded the signed SHA-512
  as ``os_hash_value`` and the blob's size;
* the trust chain signed list -> SHA-512 -> bytes holds without that
  read: once the blob is altered in the registry's storage, the first
  full download is refused by python-glanceclient and by openstacksdk
  (what Nova and Cinder use; they check ``os_hash_value``), and, through
  the re-hashing store, by glance-api itself: even a client that checks
  nothing never receives the whole altered image. Through the other
  store such a client does, which is why the README says who checks
  what;
* a list endorsing a SHA-512 its blob does not have is served to no
  checking client either.
"""

import io

from keystoneauth1 import exceptions as ksa_exceptions
from openstack import exceptions as sdk_exceptions
import requests

from stratuslab_plugins.appliance.sync import plan
from tests.functional.sync import base


class VerificationTest(base.SyncCase):

    glance_options = {'DEFAULT': {'do_secure_hash': 'False'}}
    store_options = {'appliance_read_verification': 'never'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.checked = cls.start_glance(
                appliance_read_verification='always')
        except BaseException:
            cls.tearDownClass()
            raise

    def register(self, appliances, glance):
        """Sync ``appliances`` into ``glance``; return its images."""
        catalog = self.catalog_of(glance)
        subscription = self.subscription(
            [{'image_list': self.write_list(appliances)}],
            visibility='private')
        self.assertSynced(self.sync(subscription, catalog=catalog))
        return self.wait_active(subscription, catalog)

    def catalog_of(self, glance):
        from stratuslab_plugins.image import sync as glance_sync

        return (self.catalog if glance is self.glance else
                glance_sync.GlanceCatalog(self.connect(glance)))

    def tamper(self, checksums):
        """Flip one byte of the blob in the registry's own storage."""
        path = self.registry.blob_path(checksums.digest)
        with open(path, 'r+b') as blob:
            blob.seek(-1, io.SEEK_END)
            last = blob.read(1)
            blob.seek(-1, io.SEEK_END)
            blob.write(bytes([last[0] ^ 1]))

    def blob_reads(self, since, checksums):
        return [(served.method, served.size)
                for served in self.registry.served(since)
                if served.path.endswith('/blobs/' + checksums.digest)]

    def raw_download(self, glance, image_id):
        """What a client that checks nothing receives (bytes, or error)."""
        headers = dict(glance.api.identity_headers)
        try:
            with requests.get('%s/v2/images/%s/file' % (glance.url,
                                                        image_id),
                              headers=headers, stream=True,
                              timeout=60) as response:
                response.raise_for_status()
                return b''.join(response.iter_content(64 * base.KiB))
        except requests.RequestException as error:
            return error

    def test_first_sync_reads_no_image_byte(self):
        data, sums = self.push(3 * 1024 * base.KiB + 5)
        item = self.appliance('Ubuntu', sums)
        mark = self.registry.log_offset()
        image, = self.register([item], self.glance).values()

        record = self.catalog.image(image.id)
        self.assertEqual(('active', 'sha512', item.sha512, len(data)),
                         (record['status'], record['os_hash_algo'],
                          record['os_hash_value'], record['size']))
        self.assertEqual('sha512:' + item.sha512, image.get(plan.IMAGE_HASH))
        reads = self.blob_reads(mark, sums)
        self.assertTrue(reads)
        self.assertEqual({('HEAD', 0)}, set(reads))

        # The access log does see a download (the check above can fail).
        mark = self.registry.log_offset()
        self.assertEqual(data, b''.join(
            self.glance.api.glance_client().images.data(image.id)))
        self.assertIn(('GET', len(data)), self.blob_reads(mark, sums))

    def test_altered_blob_is_refused_at_first_download(self):
        # Larger than two of the store's read chunks, so that the checked
        # read fails mid-response, as it does for a real image.
        data, sums = self.push(9 * 1024 * base.KiB + 5)
        item = self.appliance('Ubuntu', sums)
        image, = self.register([item], self.glance).values()
        checked, = self.register([item], self.checked).values()
        self.tamper(sums)
        altered = data[:-1] + bytes([data[-1] ^ 1])

        # python-glanceclient (Nova, Cinder) checks os_hash_value...
        with self.assertRaisesRegex(IOError, 'Corrupt image download'):
            b''.join(self.glance.api.glance_client().images.data(image.id))
        # ...and so does openstacksdk.
        with self.assertRaisesRegex(sdk_exceptions.SDKException,
                                    'checksum mismatch'):
            self.glance.api.connection().image.download_image(
                image.id, output=io.BytesIO())
        # A client that checks nothing gets the altered image in full
        # where the store leaves the check to the clients...
        self.assertEqual(altered, self.raw_download(self.glance, image.id))

        # ...and never in full where the store re-hashes what it serves:
        # glance-api breaks the response off before its last chunk.
        got = self.raw_download(self.checked, checked.id)
        if not isinstance(got, requests.RequestException):
            self.fail('glance-api served %d bytes of the altered image, '
                      '%s' % (len(got), 'all of them' if got == altered
                              else 'not the altered image'))
        self.assertIn('it was altered', self.checked.api.log_tail(20000))
        self.assertRaises(IOError, b''.join,
                          self.checked.api.glance_client().images.data(
                              checked.id))
        with self.assertRaisesRegex(ksa_exceptions.ConnectionError,
                                    'IncompleteRead'):
            self.checked.api.connection().image.download_image(
                checked.id, output=io.BytesIO())

    def test_list_endorsing_other_content_is_served_to_no_checking_client(
            self):
        _, sums = self.push()
        _, other = self.push()
        forged = self.appliance('Ubuntu', sums)
        forged.sha512 = other.sha512
        # Glance records the SHA-512 of the list unread (do_secure_hash
        # off): registration succeeds...
        image, = self.register([forged], self.glance).values()
        self.assertEqual(other.sha512,
                         self.catalog.image(image.id)['os_hash_value'])
        # ...and the first download fails its check.
        with self.assertRaisesRegex(IOError, 'Corrupt image download'):
            b''.join(self.glance.api.glance_client().images.data(image.id))
