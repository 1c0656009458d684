"""The trust policy: each rule, with the reason a person reads."""

import datetime
import os

from cryptography import x509
import fixtures
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import signature
from stratuslab_plugins.appliance import trust
from tests import pki
from tests.unit.appliance import test_model

SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc',
                      'appliance-trust-policy.yaml.sample')
JANE = '/DC=test/CN=Jane'


def policy(**data):
    return trust.TrustPolicy.from_dict(data)


class TrustPolicyTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.appliance = test_model.make_appliance()
        self.signer = signature.Signer(JANE, '/DC=test/CN=CA',
                                       'jane@example.org')

    def verdict(self, pol, **fields):
        for key, value in fields.items():
            setattr(self.appliance, key, value)
        return pol.check_appliance(self.appliance, signer=self.signer)

    def test_sample_file_loads(self):
        pol = trust.TrustPolicy.load(SAMPLE)
        self.assertTrue(pol.require_signature)
        self.assertIn('jane.doe@example.org', pol.allowed_endorsers)
        self.assertIn('mallory@example.org', pol.denied_endorsers)

    def test_default_policy_trusts_a_valid_appliance(self):
        verdict = self.verdict(policy())
        self.assertTrue(verdict.trusted, verdict.reason)
        self.assertIn(self.appliance.identifier, verdict.reason)

    def test_endorser_allow_by_dn_or_certificate_email(self):
        self.assertTrue(self.verdict(policy(
            endorsers={'allow': [JANE]})).trusted)
        self.assertTrue(self.verdict(policy(
            endorsers={'allow': ['JANE@example.org']})).trusted)
        verdict = self.verdict(policy(endorsers={'allow': ['bob@x.org']}))
        self.assertFalse(verdict.trusted)
        self.assertIn('not in endorsers.allow', verdict.reason)

    def test_list_email_is_not_trusted_when_signed(self):
        # hv:email says jane, the certificate says otherwise.
        self.signer = self.signer._replace(email='mallory@example.org')
        verdict = self.verdict(policy(
            endorsers={'allow': ['jane@example.org']}))
        self.assertFalse(verdict.trusted)
        self.assertIn('mallory@example.org', verdict.reason)

    def test_deny_wins(self):
        verdict = self.verdict(policy(endorsers={'allow': [JANE],
                                                 'deny': [JANE]}))
        self.assertFalse(verdict.trusted)
        self.assertIn('endorsers.deny', verdict.reason)

    def test_denied_checksum_and_identifiers(self):
        for data in ({'checksums': {'deny': [self.appliance.sha512.upper()]}},
                     {'checksums': {'deny': [self.appliance.sha1]}}):
            verdict = self.verdict(policy(**data))
            self.assertFalse(verdict.trusted)
            self.assertIn('known bad', verdict.reason)
        for denied in (self.appliance.identifier,
                       self.appliance.stratuslab_id):
            verdict = self.verdict(policy(identifiers={'deny': [denied]}))
            self.assertFalse(verdict.trusted)
            self.assertIn(denied, verdict.reason)

    def test_expiry(self):
        past = model.now() - datetime.timedelta(days=1)
        verdict = self.verdict(policy(), expires=past)
        self.assertFalse(verdict.trusted)
        self.assertIn('expired', verdict.reason)
        self.assertIn('jane@example.org', verdict.reason)
        self.assertTrue(self.verdict(policy(enforce_expiry=False)).trusted)

    def test_deprecated(self):
        verdict = self.verdict(policy(), deprecated='CVE-2026-1',
                               replaced_by='MMZu9WvwKIro-rtBQfDk4PsKO7_')
        self.assertFalse(verdict.trusted)
        self.assertIn('CVE-2026-1', verdict.reason)
        self.assertIn('MMZu9WvwKIro-rtBQfDk4PsKO7_', verdict.reason)
        self.assertTrue(self.verdict(policy(allow_deprecated=True)).trusted)

    def test_vos(self):
        self.assertTrue(self.verdict(policy(
            vos={'allow': ['vo.example.org']})).trusted)
        verdict = self.verdict(policy(vos={'allow': ['other.vo']}))
        self.assertFalse(verdict.trusted)
        self.assertIn('vos.allow', verdict.reason)

    def test_bad_policy_files_are_named(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'p.yaml')
        for text, named in [('endorsers: {allow: jane}', 'endorsers.allow'),
                            ('enforce_expiry: maybe', 'enforce_expiry'),
                            ('trust_everyone: true', 'trust_everyone'),
                            ('vos: {deny: [x]}', 'vos takes only allow'),
                            ('a: [', 'not valid YAML')]:
            with open(path, 'w') as f:
                f.write(text)
            e = self.assertRaises(exceptions.InvalidInput,
                                  trust.TrustPolicy.load, path)
            self.assertIn(path, str(e))
            self.assertIn(named, str(e))
        e = self.assertRaises(exceptions.InvalidInput,
                              trust.TrustPolicy.load, path + '.missing')
        self.assertIn('Cannot read', str(e))


class EvaluateTest(testtools.TestCase):
    """evaluate(): signature and policy together, on lists we sign."""

    def setUp(self):
        super().setUp()
        self.ca = pki.make_ca()
        self.endorser = pki.issue(self.ca, 'Jane Endorser',
                                  email='jane@example.org')
        self.ca_path = pki.write_ca_dir(
            self.useFixture(fixtures.TempDir()).path, self.ca)
        self.good = test_model.make_appliance(title='good')
        self.old = test_model.make_appliance(
            title='old', expires=model.now() - datetime.timedelta(days=1))
        self.list = image_list.ImageList.new(
            'Images', model.Endorser(dn='', ca=''), [self.good, self.old])
        self.document = self.list.sign(self.endorser.cert_pem(),
                                       self.endorser.key_pem())

    def test_verdict_per_list_and_appliance(self):
        read, verdicts = trust.evaluate(self.document, self.ca_path,
                                        policy())
        self.assertEqual(self.list.identifier, read.identifier)
        self.assertEqual([True, True, False],
                         [v.trusted for v in verdicts])
        self.assertIn('expired', verdicts[2].reason)

    def test_denied_list_endorser(self):
        _, verdicts = trust.evaluate(
            self.document, self.ca_path,
            policy(endorsers={'deny': ['jane@example.org']}))
        self.assertEqual([False] * 3, [v.trusted for v in verdicts])
        self.assertIn('endorsers.deny', verdicts[0].reason)

    def test_unreadable_list_gives_one_reason(self):
        tampered = self.document.replace(b'"good"', b'"evil"')
        read, verdicts = trust.evaluate(tampered, self.ca_path, policy(),
                                        source='site.list')
        self.assertIsNone(read)
        self.assertEqual(1, len(verdicts))
        self.assertFalse(verdicts[0].trusted)
        self.assertIn('site.list', verdicts[0].reason)
        self.assertIn('altered', verdicts[0].reason)

    def test_list_of_a_revoked_endorser_is_not_trusted(self):
        # What `openstack appliance verify` and the sync see; the rules
        # themselves are in test_revocation.
        pki.write_crl(self.ca_path, self.ca, pki.make_crl(
            self.ca, revoked=[self.endorser],
            reason=x509.ReasonFlags.superseded))
        read, verdicts = trust.evaluate(self.document, self.ca_path,
                                        policy())
        self.assertIsNone(read)
        self.assertEqual([False], [v.trusted for v in verdicts])
        self.assertIn('revoked', verdicts[0].reason)
        self.assertIn('superseded', verdicts[0].reason)

    def test_crl_settings_reach_the_check(self):
        pki.write_crl(self.ca_path, self.ca, pki.make_crl(
            self.ca, age=datetime.timedelta(days=3),
            lifetime=datetime.timedelta(days=1)))
        _, verdicts = trust.evaluate(self.document, self.ca_path, policy())
        self.assertIn('accept_expired_crls', verdicts[0].reason)
        _, verdicts = trust.evaluate(self.document, self.ca_path,
                                     policy(accept_expired_crls=True))
        self.assertEqual([True, True, False], [v.trusted for v in verdicts])
        e = self.assertRaises(exceptions.InvalidInput, policy,
                              require_crls='no')
        self.assertIn('require_crls', str(e))
