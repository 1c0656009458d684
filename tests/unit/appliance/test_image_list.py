"""Image lists: signed with cryptography, verified with the openssl CLI.

Uses a CA, an endorser and an untrusted signer generated for each test
(pki.py) and the system's ``openssl`` command, as sites do.
"""

import datetime
import json
import subprocess

import fixtures
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import signature
from stratuslab_plugins.appliance import trust
from tests.fixtures import appdb
from tests import pki
from tests.unit.appliance import test_model


class ImageListTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.ca = pki.make_ca()
        self.endorser = pki.issue(self.ca, 'Jane Endorser',
                                  email='jane@example.org')
        self.ca_path = pki.write_ca_dir(
            self.useFixture(fixtures.TempDir()).path, self.ca)
        self.appliance = test_model.make_appliance()
        self.list = image_list.ImageList.new(
            'Test images', model.Endorser(dn='', ca=''), [self.appliance],
            vo='vo.example.org')

    def signed(self, image_list_=None, identity=None):
        identity = identity or self.endorser
        return (image_list_ or self.list).sign(identity.cert_pem(),
                                               identity.key_pem())

    def test_round_trip(self):
        read = image_list.read(self.signed(), self.ca_path)
        self.assertEqual(self.endorser.dn, read.endorser.dn)
        self.assertEqual(self.ca.dn, read.endorser.ca)
        self.assertEqual('jane@example.org', read.endorser.email)
        self.assertEqual(self.endorser.dn, read.signer.dn)
        self.assertEqual([self.appliance.identifier],
                         [a.identifier for a in read.appliances])
        self.assertEqual(self.appliance.sha512, read.appliances[0].sha512)
        self.assertEqual('vo.example.org', read.vo)

    def test_openssl_cli_verifies_what_we_write(self):
        document = self.signed()
        result = subprocess.run(
            ['openssl', 'smime', '-verify', '-CApath', self.ca_path],
            input=document, capture_output=True)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('hv:imagelist', json.loads(result.stdout))

    def test_tampered_list(self):
        document = self.signed().replace(b'Test images', b'Test imageZ')
        e = self.assertRaises(exceptions.SignatureError, image_list.read,
                              document, self.ca_path, source='list.smime')
        self.assertIn('list.smime', str(e))
        self.assertIn('altered', str(e))

    def test_unknown_ca(self):
        other = pki.issue(pki.make_ca('Rogue CA'), 'Mallory')
        e = self.assertRaises(exceptions.SignatureError, image_list.read,
                              self.signed(identity=other), self.ca_path)
        self.assertIn('CA is not in %s' % self.ca_path, str(e))

    def test_signer_must_be_the_endorser(self):
        colleague = pki.issue(self.ca, 'John Colleague')
        self.signed()   # the list now names Jane as endorser
        document = signature.sign(self.list.to_json(), colleague.cert_pem(),
                                  colleague.key_pem())
        e = self.assertRaises(exceptions.NotTrusted, image_list.read,
                              document, self.ca_path)
        self.assertIn('John Colleague', str(e))
        self.assertIn('Jane Endorser', str(e))

    def test_expired_list(self):
        self.list.expires = model.now() - datetime.timedelta(minutes=1)
        document = self.signed()
        e = self.assertRaises(exceptions.NotTrusted, image_list.read,
                              document, self.ca_path)
        self.assertIn('expired', str(e))
        self.assertIn(self.list.identifier, str(e))
        image_list.read(document, self.ca_path, check_expiry=False)

    def test_expired_entry(self):
        self.appliance.expires = model.now() - datetime.timedelta(days=1)
        e = self.assertRaises(exceptions.NotTrusted, image_list.read,
                              self.signed(), self.ca_path)
        self.assertIn(self.appliance.identifier, str(e))

    def test_unsigned_list(self):
        self.signed()   # fills in the endorser
        document = self.list.to_json()
        e = self.assertRaises(exceptions.SignatureError, image_list.read,
                              document, self.ca_path)
        self.assertIn('not signed', str(e))
        read = image_list.read(document, require_signature=False)
        self.assertIsNone(read.signer)

    def test_hostile_entry_in_a_signed_list(self):
        self.signed()
        document = self.list.to_document()
        entry = document['hv:imagelist']['hv:images'][0]['hv:image']
        entry['dc:identifier'] = '../../../etc/passwd'
        signed = signature.sign(json.dumps(document).encode(),
                                self.endorser.cert_pem(),
                                self.endorser.key_pem())
        e = self.assertRaises(exceptions.InvalidInput, image_list.read,
                              signed, self.ca_path)
        self.assertIn('entry 0', str(e))
        self.assertIn('etc/passwd', str(e))

    def test_not_json(self):
        signed = signature.sign(b'<html>', self.endorser.cert_pem(),
                                self.endorser.key_pem())
        e = self.assertRaises(exceptions.InvalidInput, image_list.read,
                              signed, self.ca_path, source='x.smime')
        self.assertIn('x.smime is not JSON', str(e))

    def test_signed_content_without_verifying(self):
        document = self.signed()
        content = image_list.signed_content(document)
        self.assertEqual(self.list.identifier,
                         json.loads(content)['hv:imagelist']['dc:identifier'])
        self.assertRaises(exceptions.InvalidInput, image_list.signed_content,
                          b'{}')

    # -- AppDB's spelling (tests/fixtures/appdb) ---------------------------

    def test_appdb_list_is_verified_and_trusted(self):
        document = appdb.sign(appdb.document(), self.endorser)
        policy = trust.TrustPolicy.from_dict(
            {'endorsers': {'allow': ['jane@example.org']}})
        read, verdicts = trust.evaluate(document, self.ca_path, policy,
                                        source='appdb.list')
        self.assertEqual([True] * 5, [v.trusted for v in verdicts],
                         [v.reason for v in verdicts])
        self.assertEqual(['qcow2', 'vmdk', 'raw', 'qcow2'],
                         [a.disk_format for a in read.appliances])
        self.assertEqual(self.endorser.dn, read.signer.dn)

    def test_lists_we_write_are_in_appdb_spelling(self):
        self.appliance.container_format = 'ova'
        self.appliance.disk_format = 'vmdk'
        content = image_list.signed_content(self.signed())
        body = json.loads(content)['hv:imagelist']
        image = body['hv:images'][0]['hv:image']
        self.assertEqual(('OVA', str(self.appliance.size), 'Linux',
                          'Ubuntu'),
                         (image['hv:format'], image['hv:size'],
                          image['sl:os'], image['sl:osname']))
        self.assertEqual(set(appdb.document()['hv:imagelist']), set(body))
