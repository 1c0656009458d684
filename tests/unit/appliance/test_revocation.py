"""Revocation: the endorser's chain against the CA directory's CRLs.

Each test lays out a CA directory as an IGTF site has it (CA certificates
with their hash links, each CA's CRL as ``<hash>.r0`` where fetch-crl
writes it), signs a list with a throw-away PKI (tests/pki.py), and asks
both our verification and ``openssl smime -verify -crl_check_all`` (the
system's openssl, as sites run it): with the default policy they must
give the same answer.
"""

import datetime
import os
import subprocess

from cryptography import x509
import fixtures
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import revocation
from stratuslab_plugins.appliance import signature
from tests import pki

CONTENT = b'{"hv:imagelist": {}}'
DAY = datetime.timedelta(days=1)


class RevocationTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = pki.make_ca('Root CA')
        self.endorser = pki.issue(self.root, 'Jane Endorser',
                                  email='jane@example.org')
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.ca_path = pki.write_ca_dir(os.path.join(self.dir, 'cas'),
                                        self.root)

    def sign(self, identity=None, chain=b''):
        identity = identity or self.endorser
        return signature.sign(CONTENT, identity.cert_pem(),
                              identity.key_pem(), chain_pem=chain)

    def openssl_accepts(self, document):
        result = subprocess.run(
            ['openssl', 'smime', '-verify', '-CApath', self.ca_path,
             '-crl_check_all'], input=document, capture_output=True)
        return result.returncode == 0

    def verdict(self, document, **policy):
        """Our answer and openssl's: (accepted, error or None)."""
        try:
            signature.verify(document, self.ca_path, 'site.list',
                             crls=revocation.CrlPolicy(**policy))
        except exceptions.SignatureError as error:
            return False, error
        return True, None

    def assertAgree(self, document, accepted):
        ours, error = self.verdict(document)
        self.assertEqual(accepted, ours, error)
        self.assertEqual(accepted, self.openssl_accepts(document),
                         'openssl -crl_check_all disagrees')
        return error

    def test_current_crl_revoking_nothing(self):
        self.assertAgree(self.sign(), True)

    def test_revoked_endorser_is_refused_with_the_reason(self):
        crl_path = pki.write_crl(self.ca_path, self.root, pki.make_crl(
            self.root, revoked=[self.endorser],
            reason=x509.ReasonFlags.key_compromise))
        error = self.assertAgree(self.sign(), False)
        self.assertIsInstance(error, exceptions.RevocationError)
        for part in ('site.list', 'signer', self.endorser.dn, 'Root CA',
                     'keyCompromise', crl_path,
                     '%x' % self.endorser.certificate.serial_number):
            self.assertIn(part, str(error))

    def test_revoked_intermediate_ca_is_refused(self):
        # -crl_check_all: the CA between the endorser and the root is
        # checked too, in the root's CRL.
        middle = pki.make_ca('Middle CA', issuer=self.root)
        endorser = pki.issue(middle, 'Bob Endorser')
        pki.write_ca_dir(self.ca_path, self.root, middle)
        document = self.sign(endorser)
        self.assertAgree(document, True)
        pki.write_crl(self.ca_path, self.root,
                      pki.make_crl(self.root, revoked=[middle]))
        error = self.assertAgree(document, False)
        self.assertIn('certificate of CA /C=EU/O=StratusLab Test/'
                      'CN=Middle CA', str(error))
        self.assertIn('unspecified', str(error))

    def test_intermediate_carried_in_the_signature(self):
        # The middle CA is not in the directory, only its CRL is: the
        # chain is completed from the certificates the signature carries.
        middle = pki.make_ca('Middle CA', issuer=self.root)
        endorser = pki.issue(middle, 'Bob Endorser')
        pki.write_crl(self.ca_path, middle, pki.make_crl(middle))
        document = self.sign(endorser, chain=middle.cert_pem())
        self.assertAgree(document, True)
        pki.write_crl(self.ca_path, middle,
                      pki.make_crl(middle, revoked=[endorser]))
        error = self.assertAgree(document, False)
        self.assertIn('Bob Endorser', str(error))

    def test_expired_crl_is_refused_naming_the_option(self):
        crl_path = pki.write_crl(self.ca_path, self.root, pki.make_crl(
            self.root, age=3 * DAY, lifetime=2 * DAY))
        document = self.sign()
        error = self.assertAgree(document, False)
        self.assertIn(crl_path, str(error))
        self.assertIn('expired', str(error))
        self.assertIn('accept_expired_crls', str(error))
        self.assertEqual((True, None), self.verdict(
            document, accept_expired_crls=True))

    def test_expired_crl_still_revokes(self):
        pki.write_crl(self.ca_path, self.root, pki.make_crl(
            self.root, revoked=[self.endorser], age=3 * DAY,
            lifetime=2 * DAY))
        accepted, error = self.verdict(self.sign(), accept_expired_crls=True)
        self.assertFalse(accepted)
        self.assertIn('revoked', str(error))

    def test_missing_crl_is_refused_unless_the_policy_says(self):
        os.unlink(os.path.join(self.ca_path,
                               pki.subject_hash(self.root) + '.r0'))
        document = self.sign()
        error = self.assertAgree(document, False)
        self.assertIn('no CRL of CA', str(error))
        self.assertIn(pki.subject_hash(self.root) + '.r0', str(error))
        self.assertIn('require_crls', str(error))
        self.assertEqual((True, None), self.verdict(document,
                                                    require_crls=False))

    def test_forged_crl_is_refused(self):
        # A CRL naming the root, signed by another key: someone replaced
        # the file to un-revoke a certificate.
        forger = pki.make_ca('Root CA')
        crl_path = pki.write_crl(self.ca_path, self.root,
                                 pki.make_crl(forger))
        error = self.assertAgree(self.sign(), False)
        self.assertIn('not signed by its key', str(error))
        self.assertIn(crl_path, str(error))

    def test_crl_not_yet_valid_is_refused(self):
        pki.write_crl(self.ca_path, self.root,
                      pki.make_crl(self.root, age=-DAY))
        error = self.assertAgree(self.sign(), False)
        self.assertIn('not valid before', str(error))

    def test_unreadable_crl_file_is_named(self):
        path = os.path.join(self.ca_path,
                            pki.subject_hash(self.root) + '.r0')
        with open(path, 'wb') as f:
            f.write(b'-----BEGIN X509 CRL-----\ngarbage\n')
        error = self.assertAgree(self.sign(), False)
        self.assertIn(path, str(error))
        self.assertIn('not a readable CRL', str(error))

    def test_crl_of_another_ca_does_not_count(self):
        other = pki.make_ca('Other CA')
        crl = pki.make_crl(other, revoked=[self.endorser])
        # Put under the root's name, as a hash collision would.
        pki.write_crl(self.ca_path, self.root, crl)
        pki.write_crl(self.ca_path, self.root, pki.make_crl(self.root),
                      index=1)
        self.assertAgree(self.sign(), True)
