"""The ``appliance`` store through glance_store's multi-store API.

Each test starts Debian's docker-registry (tests/functional/
registry_fixture.py) on 127.0.0.1 and loads the store the way glance-api
does. A registry that disappears mid-upload is a TCP proxy in front of it
(tests/functional/appliance/flaky_proxy.py); a registry refusing deletes
is a real one configured so. Images are a few MiB; the 1 GiB figures
are in tools/bench/store.py.
"""

import hashlib
import io
import os
import uuid

from cryptography import exceptions as crypto_exceptions
import fixtures
import glance_store
from glance_store import exceptions
import yaml

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.appliance import model
from stratuslab_plugins.image import appliance
from stratuslab_plugins.sandbox import registry as sandbox_registry
from tests.functional.appliance import flaky_proxy
from tests.functional.image import store_base
from tests.functional import registry_fixture

MiB = 1024 * 1024
REPO = store_base.REPOSITORY
QCOW2_HEADER = (b'QFI\xfb' + (3).to_bytes(4, 'big') + bytes(16)
                + (16).to_bytes(4, 'big') + (64 * MiB).to_bytes(8, 'big'))


class NoDeleteRegistry(fixtures.Fixture):
    """A real registry whose operator left deletes disabled."""

    def _setUp(self):
        self.registry = sandbox_registry.Registry(
            self.useFixture(fixtures.TempDir()).path,
            extra_config={'storage': {'delete': {'enabled': False}}})
        self.addCleanup(self.registry.stop)
        self.registry.start()
        self.url = self.registry.url


class ApplianceStoreTest(store_base.StoreTestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.configure_stores(
            {'repo': ('appliance',
                      self.appliance_options(self.registry))}, 'repo')
        self.client = self.registry_client(self.registry.url)

    def add(self, data, size=None, algo='sha512', verifier=None,
            image_id=None):
        image_id = image_id or str(uuid.uuid4())
        result = glance_store.add_with_multihash(
            glance_store.multi_backend.CONF, image_id, io.BytesIO(data),
            len(data) if size is None else size, 'repo', algo,
            verifier=verifier)
        return image_id, result

    def test_add_get_size_delete(self):
        data = QCOW2_HEADER + os.urandom(3 * MiB + 12345)
        image_id, (url, size, md5, multihash, metadata) = self.add(data)
        digest = 'sha256:' + hashlib.sha256(data).hexdigest()
        host = self.registry.url.split('//')[1]
        self.assertEqual('appliance://%s/%s:glance-%s@%s'
                         % (host, REPO, image_id, digest), url)
        self.assertEqual(len(data), size)
        self.assertEqual(hashlib.md5(data).hexdigest(), md5)
        self.assertEqual(hashlib.sha512(data).hexdigest(), multihash)
        self.assertEqual({'store': 'repo'}, metadata)

        chunks, length = glance_store.get(url, 'repo')
        self.assertEqual(len(data), length)
        self.assertEqual(data, b''.join(chunks))
        chunks, length = glance_store.get(url, 'repo', offset=MiB + 7,
                                          chunk_size=2 * MiB)
        self.assertEqual(data[MiB + 7:3 * MiB + 7], b''.join(chunks))
        chunks, _ = glance_store.get(url, 'repo', offset=len(data) - 10)
        self.assertEqual(data[-10:], b''.join(chunks))
        chunks, _ = glance_store.get(url, 'repo', offset=len(data))
        self.assertEqual(b'', b''.join(chunks))
        self.assertRaises(exceptions.Invalid, glance_store.get, url, 'repo',
                          offset=len(data) + 1)
        self.assertEqual(len(data), glance_store.get_size_from_uri_and_backend(
            url, 'repo'))

        # The registry holds an appliance annotated with the image id.
        _, manifest = self.client.get_manifest(REPO, 'glance-' + image_id)
        notes = manifest['annotations']
        self.assertEqual(image_id, notes[appliance.IMAGE_ID_ANNOTATION])
        found = model.Appliance.from_manifest(manifest)
        self.assertEqual(hashlib.sha512(data).hexdigest(), found.sha512)
        self.assertEqual(hashlib.sha1(data).hexdigest(), found.sha1)
        self.assertEqual('qcow2', found.disk_format)
        self.assertEqual('application/x-qemu-disk',
                         manifest['layers'][0]['mediaType'])

        glance_store.delete(url, 'repo')
        self.assertNotIn('glance-' + image_id, self.client.list_tags(REPO))
        self.assertRaises(exceptions.NotFound, glance_store.get, url, 'repo')
        self.assertRaises(exceptions.NotFound,
                          glance_store.get_size_from_uri_and_backend,
                          url, 'repo')

    def test_shared_content_survives_the_other_image_delete(self):
        data = os.urandom(MiB + 1)
        _, first = self.add(data)
        _, second = self.add(data)
        self.assertEqual(first[0].split('@')[1], second[0].split('@')[1])
        glance_store.delete(first[0], 'repo')
        self.assertEqual(data, b''.join(glance_store.get(second[0],
                                                         'repo')[0]))

    def test_verifier_is_fed_every_chunk(self):
        data = os.urandom(2 * MiB + 99)
        good = store_base.SignedData(data)
        self.add(data, verifier=good.verifier)
        good.verifier.verify()
        bad = store_base.SignedData(data, tamper=True)
        self.add(data, verifier=bad.verifier)
        self.assertRaises(crypto_exceptions.InvalidSignature,
                          bad.verifier.verify)

    def test_multihash_the_registry_does_not_compute(self):
        data = os.urandom(MiB + 3)
        _, result = self.add(data, algo='sha3_256')
        self.assertEqual(hashlib.sha3_256(data).hexdigest(), result[3])
        self.assertEqual(hashlib.md5(data).hexdigest(), result[2])

    def test_unknown_size_is_accepted(self):
        data = os.urandom(MiB // 2)
        _, result = self.add(data, size=0)
        self.assertEqual(len(data), result[1])

    def _assert_nothing_stored(self, data, image_id):
        digest = 'sha256:' + hashlib.sha256(data).hexdigest()
        self.assertFalse(self.client.blob_exists(REPO, digest))
        self.assertNotIn('glance-' + image_id, self._tags())
        self.assertEqual([], self.registry.uploads(REPO))

    def _tags(self):
        try:
            return self.client.list_tags(REPO)
        except appliance_exceptions.RegistryNotFound:
            return []

    def test_data_longer_than_declared_is_refused(self):
        data = os.urandom(2 * MiB)
        image_id = str(uuid.uuid4())
        error = self.assertRaises(exceptions.Invalid, self.add, data,
                                  size=MiB, image_id=image_id)
        self.assertIn('exceeds its declared size of %d' % MiB, str(error))
        self._assert_nothing_stored(data, image_id)

    def test_data_shorter_than_declared_is_refused(self):
        data = os.urandom(MiB + 5)
        image_id = str(uuid.uuid4())
        error = self.assertRaises(exceptions.Invalid, self.add, data,
                                  size=3 * MiB, image_id=image_id)
        self.assertIn('declared size is %d' % (3 * MiB), str(error))
        self._assert_nothing_stored(data, image_id)

    def test_same_image_twice_is_a_duplicate(self):
        data = os.urandom(1000)
        image_id, _ = self.add(data)
        self.assertRaises(exceptions.Duplicate, self.add, data,
                          image_id=image_id)

    def test_tagless_location_is_served_but_never_deleted(self):
        data = os.urandom(MiB + 1)
        _, (url, _, _, _, _) = self.add(data)
        host_repo, digest = url.split(':glance-')[0], url.split('@')[1]
        tagless = '%s@%s' % (host_repo, digest)
        self.assertEqual(data, b''.join(glance_store.get(tagless,
                                                         'repo')[0]))
        self.assertRaises(exceptions.StoreDeleteNotSupported,
                          glance_store.delete, tagless, 'repo')
        self.assertTrue(self.client.blob_exists(REPO, digest))

    def test_bad_location_names_the_problem(self):
        error = self.assertRaises(
            exceptions.BadStoreUri, glance_store.get,
            'appliance://127.0.0.1:1/glance/images:latest', 'repo')
        self.assertIn('names no content digest', str(error))


class ReadVerificationTest(store_base.StoreTestCase):
    """Which reads hash the bytes served (``appliance_read_verification``).

    A registry serving other bytes than a digest names is made by
    altering the blob in the real registry's storage, keeping its size.
    """

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.foreign = self.useFixture(registry_fixture.RegistryFixture(
            tls=True))
        options = self.appliance_options(
            self.registry, appliance_ca_file=self.foreign.ca_file,
            appliance_allowed_registries=[self.foreign.url])
        self.configure_stores(
            {'repo': ('appliance', options),
             'checked': ('appliance', dict(
                 options, appliance_read_verification='always')),
             'unchecked': ('appliance', dict(
                 options, appliance_read_verification='never'))}, 'repo')
        self.data = os.urandom(2 * MiB + 5)

    def alter(self, fixture, digest):
        with open(fixture.blob_path(digest), 'r+b') as blob:
            blob.write(bytes([self.data[0] ^ 0xff]))
        return bytes([self.data[0] ^ 0xff]) + self.data[1:]

    def read(self, url, backend):
        return b''.join(glance_store.get(url, backend)[0])

    def test_own_registry_is_left_to_os_hash_value_by_default(self):
        url = glance_store.add_with_multihash(
            glance_store.multi_backend.CONF, str(uuid.uuid4()),
            io.BytesIO(self.data), len(self.data), 'repo', 'sha512')[0]
        altered = self.alter(self.registry, url.split('@')[1])
        # Glance's clients catch this with os_hash_value
        # (tests/functional/image/test_glance_api.py); the store does not.
        self.assertEqual(altered, self.read(url, 'repo'))
        self.assertEqual(altered, self.read(url, 'unchecked'))
        error = self.assertRaises(exceptions.BackendException, self.read,
                                  url, 'checked')
        self.assertIn('altered', str(error))
        # A ranged read has no digest to check, even when asked to.
        chunks, _ = glance_store.get(url, 'checked', offset=1)
        self.assertEqual(altered[1:], b''.join(chunks))

    def test_a_grown_blob_is_refused_even_unchecked(self):
        url = glance_store.add_with_multihash(
            glance_store.multi_backend.CONF, str(uuid.uuid4()),
            io.BytesIO(self.data), len(self.data), 'repo', 'sha512')[0]
        with open(self.registry.blob_path(url.split('@')[1]), 'ab') as blob:
            blob.write(b'appended')
        chunks, size = glance_store.get(url, 'unchecked')
        self.assertEqual(len(self.data), size)
        error = self.assertRaises(exceptions.BackendException, b''.join,
                                  chunks)
        self.assertIn('too long', str(error))

    def test_another_registry_is_checked_by_default(self):
        client = self.registry_client(self.foreign.url,
                                      ca_file=self.foreign.ca_file)
        digest = client.push_blob(REPO, io.BytesIO(self.data)).digest
        url = 'appliance://%s/%s@%s' % (self.foreign.url.split('//')[1],
                                        REPO, digest)
        self.assertEqual(self.data, self.read(url, 'repo'))
        altered = self.alter(self.foreign, digest)
        error = self.assertRaises(exceptions.BackendException, self.read,
                                  url, 'repo')
        self.assertIn('altered', str(error))
        self.assertIn(self.foreign.url, str(error))
        self.assertEqual(altered, self.read(url, 'unchecked'))


class RegistryFailureTest(store_base.StoreTestCase):

    def test_registry_down_during_upload(self):
        real = self.useFixture(registry_fixture.RegistryFixture())
        proxy = self.useFixture(flaky_proxy.FlakyProxy(real.port))
        self.configure_stores(
            {'repo': ('appliance', self.appliance_options(proxy))}, 'repo')
        data = os.urandom(4 * MiB)
        proxy.down_after_request_bytes = 2 * MiB
        image_id = str(uuid.uuid4())
        error = self.assertRaises(
            exceptions.BackendException, glance_store.add_with_multihash,
            glance_store.multi_backend.CONF, image_id, io.BytesIO(data),
            len(data), 'repo', 'sha512')
        self.assertIn('could not be reached', str(error))
        proxy.heal()
        client = self.registry_client(real.url)
        digest = 'sha256:' + hashlib.sha256(data).hexdigest()
        self.assertFalse(client.blob_exists(REPO, digest))
        self.assertRaises(appliance_exceptions.RegistryNotFound,
                          client.resolve, REPO, 'glance-' + image_id)

    def test_registry_without_deletes_says_so(self):
        real = self.useFixture(NoDeleteRegistry())
        self.configure_stores(
            {'repo': ('appliance', self.appliance_options(real))}, 'repo')
        url = glance_store.add_with_multihash(
            glance_store.multi_backend.CONF, str(uuid.uuid4()),
            io.BytesIO(b'x' * 1000), 1000, 'repo', 'sha512')[0]
        error = self.assertRaises(exceptions.StoreDeleteNotSupported,
                                  glance_store.delete, url, 'repo')
        self.assertIn('does not allow deletes', str(error))
        self.assertEqual(b'x' * 1000,
                         b''.join(glance_store.get(url, 'repo')[0]))

    def test_tls_is_verified_by_default(self):
        real = self.useFixture(registry_fixture.RegistryFixture(
            tls=True, users={'robot': 'secret'}))
        options = self.appliance_options(real, appliance_username='robot',
                                         appliance_password='secret')
        self.configure_stores(
            {'verified': ('appliance', options),
             'trusting': ('appliance', dict(options,
                                            appliance_ca_file=real.ca_file))},
            'trusting')
        conf = glance_store.multi_backend.CONF
        url = glance_store.add_with_multihash(
            conf, str(uuid.uuid4()), io.BytesIO(b'y' * 5000), 5000,
            'trusting', 'sha512')[0]
        self.assertEqual(5000, glance_store.get_size_from_uri_and_backend(
            url, 'trusting'))
        error = self.assertRaises(
            exceptions.BackendException, glance_store.add_with_multihash,
            conf, str(uuid.uuid4()), io.BytesIO(b'z'), 1, 'verified',
            'sha512')
        self.assertIn('TLS verification', str(error))


class TrustPolicyTest(store_base.StoreTestCase):
    """A store with a trust policy serves only what the policy trusts."""

    ENDORSER = '/C=EU/O=Example/CN=Jane Doe'
    MALLORY = '/C=EU/O=Example/CN=Mallory'

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.denied = os.urandom(MiB + 11)
        self.good = os.urandom(MiB + 13)
        policy = self.useFixture(fixtures.TempDir()).join(
            'policy.yaml')
        with open(policy, 'w') as f:
            yaml.safe_dump({
                'checksums': {'deny': [hashlib.sha256(
                    self.denied).hexdigest()]},
                'endorsers': {'deny': [self.MALLORY]}}, f)
        self.configure_stores(
            {'endorsed': ('appliance', self.appliance_options(
                self.registry, appliance_trust_policy_file=policy))},
            'endorsed')
        self.client = self.registry_client(self.registry.url)

    def publish(self, data, endorser_dn, tag):
        return store_base.publish_endorsed(self.client, REPO, data, tag,
                                           endorser_dn)

    def test_trusted_appliance_is_served(self):
        url = self.publish(self.good, self.ENDORSER, 'v1')
        self.assertEqual(self.good,
                         b''.join(glance_store.get(url, 'endorsed')[0]))

    def test_denied_digest_is_refused_at_read(self):
        url = self.publish(self.denied, self.ENDORSER, 'v2')
        error = self.assertRaises(exceptions.Forbidden, glance_store.get,
                                  url, 'endorsed')
        self.assertIn('checksums.deny', str(error))

    def test_denied_endorser_is_refused_at_read(self):
        url = self.publish(self.good, self.MALLORY, 'v3')
        error = self.assertRaises(exceptions.Forbidden, glance_store.get,
                                  url, 'endorsed')
        self.assertIn('endorsers.deny', str(error))

    def test_altered_endorsed_appliance_is_refused_as_it_is_read(self):
        url = self.publish(self.good, self.ENDORSER, 'v4')
        with open(self.registry.blob_path(url.split('@')[1]), 'r+b') as f:
            f.seek(1000)
            f.write(b'\0' * 16)
        error = self.assertRaises(exceptions.BackendException, b''.join,
                                  glance_store.get(url, 'endorsed')[0])
        self.assertIn('altered', str(error))

    def test_unendorsed_upload_is_stored_but_not_served(self):
        conf = glance_store.multi_backend.CONF
        url = glance_store.add_with_multihash(
            conf, str(uuid.uuid4()), io.BytesIO(self.good), len(self.good),
            'endorsed', 'sha512')[0]
        error = self.assertRaises(exceptions.Forbidden, glance_store.get,
                                  url, 'endorsed')
        self.assertIn('no endorser', str(error))
        # Nor vouched for when Glance checks it as a new location.
        error = self.assertRaises(exceptions.BadStoreUri,
                                  glance_store.get_size_from_uri_and_backend,
                                  url, 'endorsed')
        self.assertIn('no endorser', str(error))
