"""Fuzzing trust inputs: policies, signed documents, CRL files.

Hypothesis feeds what a site file or a hostile source could hold: any
YAML-like value as a trust policy (only InvalidInput escapes), any bytes
and any S/MIME-looking text as a signed list (openssl verifies it: only
SignatureError or InvalidInput escapes), and any bytes as a CA's CRL
file (only RevocationError escapes, a chain is never trusted on a CRL
that does not parse). Signature examples run the system's openssl, so
they are few; raise ``STRATUSLAB_FUZZ_EXAMPLES`` to explore more.
"""

import os

from cryptography.hazmat.primitives import serialization
import fixtures
import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import revocation
from stratuslab_plugins.appliance import signature
from stratuslab_plugins.appliance import trust
from tests import pki
from tests.unit.grid import fuzzing

EXAMPLES = int(os.environ.get('STRATUSLAB_FUZZ_EXAMPLES', '40'))
FUZZ = hypothesis.settings(
    fuzzing.FUZZ, max_examples=EXAMPLES,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.data_too_large,
                           hypothesis.HealthCheck.function_scoped_fixture])
# Each signature example starts openssl two or three times.
FEW = hypothesis.settings(FUZZ, max_examples=max(5, EXAMPLES // 4))
values = fuzzing.json_values
policy_keys = st.sampled_from(
    ['require_signature', 'enforce_expiry', 'allow_deprecated',
     'require_crls', 'accept_expired_crls', 'endorsers', 'checksums',
     'identifiers', 'vos', 'allow', 'deny'])
policies = (values
            | st.dictionaries(policy_keys, values, max_size=5)
            | st.dictionaries(policy_keys, st.dictionaries(
                st.sampled_from(['allow', 'deny']), values, max_size=2),
                max_size=5))


class TrustFuzzTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = pki.make_ca()
        cls.endorser = pki.issue(cls.ca, 'Jane Endorser')
        cls.document = signature.sign(b'{"hv:imagelist": {}}',
                                      cls.endorser.cert_pem(),
                                      cls.endorser.key_pem())
        cls.ca_hash = pki.subject_hash(cls.ca)

    def setUp(self):
        super().setUp()
        self.ca_path = pki.write_ca_dir(
            self.useFixture(fixtures.TempDir()).path, self.ca)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(policies)
    def test_policies(self, data):
        policy = fuzzing.assert_bounded(
            self, trust.TrustPolicy.from_dict, data, 'fuzzed',
            documented=exceptions.InvalidInput)
        if isinstance(policy, exceptions.InvalidInput):
            self.assertIn('fuzzed', str(policy))
            return
        self.assertIsInstance(policy.crls.require_crls, bool)
        self.assertIsInstance(policy.crls.accept_expired_crls, bool)

    def verify_or_refuse(self, document):
        try:
            signature.verify(document, self.ca_path, 'fuzzed.list')
        except (exceptions.SignatureError, exceptions.InvalidInput):
            return False
        return True

    @hypothesis.settings(FEW)
    @hypothesis.given(st.binary(max_size=2000))
    def test_any_bytes(self, document):
        self.assertFalse(self.verify_or_refuse(document))

    @hypothesis.settings(FEW)
    @hypothesis.given(st.integers(min_value=0), st.binary(min_size=1,
                                                          max_size=40))
    def test_signed_document_spliced(self, at, junk):
        at %= len(self.document)
        document = self.document[:at] + junk + self.document[at + 1:]
        self.verify_or_refuse(document)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.binary(max_size=3000)
                      | st.binary(max_size=3000).map(
                          lambda b: b'-----BEGIN X509 CRL-----\n' + b))
    def test_crl_files(self, data):
        with open(os.path.join(self.ca_path, self.ca_hash + '.r0'),
                  'wb') as f:
            f.write(data)
        link = revocation.Link(self.endorser.certificate,
                               self.ca.certificate, self.ca_hash)
        self.assertIsInstance(fuzzing.assert_bounded(
            self, revocation.check_chain, [link], self.ca_path,
            documented=exceptions.RevocationError, size=len(data)),
            exceptions.RevocationError)

    def test_a_real_crl_in_der_is_refused_as_openssl_does(self):
        # The hash directory holds PEM; a DER CRL is unreadable there.
        with open(os.path.join(self.ca_path, self.ca_hash + '.r0'),
                  'wb') as f:
            f.write(pki.make_crl(self.ca).public_bytes(
                serialization.Encoding.DER))
        self.assertFalse(self.verify_or_refuse(self.document))
