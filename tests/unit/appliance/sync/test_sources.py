"""Reading image-list sources: signatures, trust, offers, rejections."""

import datetime
import hashlib
import os

import fixtures
import testtools

from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import sources
from tests import pki

VO = 'vo.example.org'
BLOB = 'https://reg.example:5000/v2/vo/images/blobs/sha256:' + 'b' * 64


def appliance(name, location=BLOB, **fields):
    content = name.encode()
    return model.Appliance(
        identifier='00000000-0000-4000-8000-%012d' % sum(content),
        title=name, sha512=hashlib.sha512(content).hexdigest(), size=10,
        disk_format=fields.pop('disk_format', 'qcow2'),
        locations=[location] if location else [], **fields)


class SignedListCase(testtools.TestCase):
    """A test CA, an endorser (Jane) and the VO's list file to sign."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        ca = pki.make_ca()
        self.ca_path = pki.write_ca_dir(os.path.join(self.dir, 'ca'), ca)
        self.jane = pki.issue(ca, 'Jane', email='jane@example.org')
        self.path = os.path.join(self.dir, 'vo.list')

    def write(self, appliances, raw_extra=None):
        listed = image_list.ImageList.new(
            'VO images', model.Endorser(dn='x', ca='y'), appliances, vo=VO)
        document = listed.sign(self.jane.cert_pem(), self.jane.key_pem())
        if raw_extra:
            document = document.replace(*raw_extra)
        with open(self.path, 'wb') as f:
            f.write(document)


class ListSourceTest(SignedListCase):

    def read(self, at=None, **settings):
        sub = subscriptions.parse({'vos': {VO: dict(
            sources=[{'image_list': self.path}], ca_path=self.ca_path,
            **settings)}})[VO]
        return sources.read(sub, client_for=None, at=at)

    def test_trusted_entries_become_offers(self):
        self.write([appliance('Ubuntu')])
        found = self.read()
        offer, = found.offers
        self.assertEqual('appliance://reg.example:5000/vo/images@sha256:'
                         + 'b' * 64, offer.location)
        self.assertEqual(('https://reg.example:5000', 'vo/images',
                          'sha256:' + 'b' * 64), offer.blob)
        self.assertEqual('image list ' + self.path, offer.source)
        self.assertEqual(offer.appliance.identifier,
                         offer.entry['dc:identifier'])
        self.assertEqual(({}, {}), (found.rejected, found.skipped))

    def test_untrusted_entries_are_rejected_with_the_reason(self):
        soon = model.now() + datetime.timedelta(days=1)
        items = [appliance('Old', expires=soon),
                 appliance('Gone', deprecated='use Noble'),
                 appliance('Disk', disk_format='vmdk'),
                 appliance('Web', location='https://web.example/x.img')]
        self.write(items)
        found = self.read(at=soon + datetime.timedelta(hours=1),
                          disk_formats=['qcow2'])
        self.assertEqual([], found.offers)
        old, gone, disk, web = (i.identifier for i in items)
        self.assertIn('expired', found.rejected[old])
        self.assertIn('deprecated it: use Noble', found.rejected[gone])
        self.assertIn('disk format vmdk is not in disk_formats',
                      found.rejected[disk])
        self.assertEqual([web], list(found.skipped))
        self.assertIn('not an OCI blob URL', found.skipped[web])

    def test_failed_verification_raises(self):
        self.write([appliance('Ubuntu')], (b'"Ubuntu"', b'"Evil!!"'))
        error = self.assertRaises(sources.SourceError, self.read)
        self.assertIn('failed verification', str(error))
        self.assertIn('nothing changes in Glance for VO %s' % VO, str(error))

    def test_expired_list_raises(self):
        self.write([])
        error = self.assertRaises(
            sources.SourceError, self.read,
            at=model.now() + datetime.timedelta(days=60))
        self.assertIn('expired', str(error))

    def test_unreadable_source_raises(self):
        error = self.assertRaises(sources.SourceError, self.read)
        self.assertIn('Cannot read image list %s' % self.path, str(error))

    def test_plain_files_are_offered_for_adoption(self):
        web = appliance('Web', location='https://web.example/ubuntu.qcow2')
        ftp = appliance('Ftp', location='ftp://web.example/ubuntu.qcow2')
        self.write([web, ftp])
        found = self.read()
        self.assertIn('set adopt in the subscription',
                      found.skipped[web.identifier])
        self.assertNotIn('set adopt', found.skipped[ftp.identifier])
        found = self.read(adopt={'registry': 'https://reg.example',
                                 'repository': 'adopted/vo'})
        offer, = found.offers
        self.assertEqual(
            (web.identifier, 'https://web.example/ubuntu.qcow2', None,
             'https://web.example/ubuntu.qcow2'),
            (offer.appliance.identifier, offer.download, offer.blob,
             offer.location))
        self.assertEqual([ftp.identifier], list(found.skipped))
