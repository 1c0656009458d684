"""The ``appliance`` store's pieces that need no registry.

Locations, the upload reader (size, digests, verifier, format), ranged
reads' cut, the mapping of appliance errors to glance_store's, and the
store's configuration. The registry itself is exercised in
tests/functional/image/.
"""

import hashlib
import io

from glance_store import capabilities
from glance_store import exceptions
from glance_store import location as store_location
import hypothesis
from hypothesis import strategies as st
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.image import appliance
from tests.unit.grid import fuzzing

DIGEST = 'sha256:' + 'ab' * 32
QCOW2 = (b'QFI\xfb' + (3).to_bytes(4, 'big') + bytes(16)
         + (16).to_bytes(4, 'big') + (2 ** 26).to_bytes(8, 'big'))


def parse(uri):
    location = appliance.StoreLocation({}, cfg.CONF)
    location.parse_uri(uri)
    return location


class StoreLocationTest(testtools.TestCase):

    def test_round_trip_with_tag(self):
        uri = 'appliance://registry.example.org:5000/vo.example/ubuntu:' \
              'glance-1234@' + DIGEST
        location = parse(uri)
        self.assertEqual(('registry.example.org:5000', 'vo.example/ubuntu',
                          'glance-1234', DIGEST),
                         (location.netloc, location.repository, location.tag,
                          location.digest))
        self.assertEqual(uri, location.get_uri())

    def test_round_trip_without_tag(self):
        uri = 'appliance://registry.example.org/egi/centos@' + DIGEST
        location = parse(uri)
        self.assertIsNone(location.tag)
        self.assertEqual(uri, location.get_uri())

    def test_specs_make_the_same_uri(self):
        location = appliance.StoreLocation(
            {'netloc': '127.0.0.1:5000', 'repository': 'glance/images',
             'tag': 'glance-x', 'digest': DIGEST}, cfg.CONF)
        self.assertEqual('appliance://127.0.0.1:5000/glance/images:'
                         'glance-x@' + DIGEST, location.get_uri())

    def test_bad_uris_name_the_problem(self):
        cases = {
            'appliance://host/repo:latest': 'names no content digest',
            'appliance://host:port/repo@' + DIGEST: 'port is not a number',
            'appliance://user:pw@host/repo@' + DIGEST: 'credentials',
            'appliance:///repo@' + DIGEST: 'names no registry host',
            'appliance://host/repo@' + DIGEST + '?x=1': 'query',
            'appliance://host/Bad Repo@' + DIGEST: 'Repository name',
            'appliance://host/repo@sha256:abc': 'Digest',
        }
        for uri, problem in cases.items():
            with self.subTest(uri=uri):
                error = self.assertRaises(exceptions.BadStoreUri, parse, uri)
                self.assertIn(problem, str(error))
                self.assertIn(uri, str(error))

    def test_other_scheme_is_refused(self):
        self.assertRaises(exceptions.BadStoreUri, parse,
                          'https://host/v2/repo/blobs/' + DIGEST)


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
        reader = appliance._UploadReader(SmallReads(data, 777), len(data),
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
            reader = appliance._UploadReader(io.BytesIO(b'x'), 1, algo, None)
            drain(reader)
            self.assertIsNone(reader.hexdigest(algo))

    def test_longer_than_declared(self):
        reader = appliance._UploadReader(io.BytesIO(b'x' * 3000), 2500,
                                         'sha512', None)
        error = self.assertRaises(exceptions.Invalid, drain, reader)
        self.assertIn('exceeds its declared size of 2500', str(error))

    def test_shorter_than_declared(self):
        reader = appliance._UploadReader(io.BytesIO(b'x' * 3000), 3001,
                                         'sha512', None)
        error = self.assertRaises(exceptions.Invalid, drain, reader)
        self.assertIn('3000 bytes but its declared size is 3001',
                      str(error))

    def test_unknown_size_takes_everything(self):
        reader = appliance._UploadReader(io.BytesIO(b'x' * 3000), 0,
                                         'sha512', None)
        self.assertEqual(3000, len(drain(reader)))

    def test_verifier_failure_surfaces(self):
        class Broken:
            def update(self, chunk):
                raise ValueError('verifier broke')

        reader = appliance._UploadReader(io.BytesIO(b'x' * 3000), 0,
                                         'sha512', Broken())
        self.assertRaises(ValueError, drain, reader)

    def test_format_is_detected(self):
        reader = appliance._UploadReader(
            io.BytesIO(QCOW2 + bytes(70000)), 0, 'sha512', None)
        drain(reader, 65536)
        self.assertEqual('qcow2', reader.disk_format)
        reader = appliance._UploadReader(io.BytesIO(b'\x07' * 70000), 0,
                                         'sha512', None)
        drain(reader, 65536)
        self.assertEqual('raw', reader.disk_format)


class LimitedTest(testtools.TestCase):

    def test_cuts_and_closes(self):
        closed = []

        def chunks():
            try:
                yield b'abc'
                yield b'defg'
                yield b'hij'
            finally:
                closed.append(True)

        self.assertEqual(b'abcde',
                         b''.join(appliance._limited(chunks(), 5)))
        self.assertEqual([True], closed)


class GlanceErrorsTest(testtools.TestCase):

    def raised(self, error, writing=False):
        try:
            with appliance._glance_errors('do it', writing=writing):
                raise error
        except exceptions.GlanceStoreException as translated:
            return translated
        except exceptions.BackendException as translated:
            return translated
        self.fail('nothing raised')

    def test_mapping(self):
        cases = [
            (appliance_exceptions.RegistryNotFound('gone', status=404),
             False, exceptions.NotFound),
            (appliance_exceptions.RegistryAuthError('no', status=401),
             True, exceptions.StorageWriteDenied),
            (appliance_exceptions.RegistryAuthError('no', status=403),
             False, exceptions.Forbidden),
            (appliance_exceptions.RegistryUnavailable('down'), False,
             exceptions.RemoteServiceUnavailable),
            (appliance_exceptions.RegistryUnavailable('down'), True,
             exceptions.BackendException),
            (appliance_exceptions.RegistryError('big', status=413), True,
             exceptions.StorageFull),
            (appliance_exceptions.RegistryError('odd', status=400), True,
             exceptions.BackendException),
            (appliance_exceptions.NotTrusted('denied'), False,
             exceptions.Forbidden),
            (appliance_exceptions.InvalidInput('bad'), True,
             exceptions.Invalid),
            (appliance_exceptions.IntegrityError('altered'), False,
             exceptions.BackendException),
            (appliance_exceptions.RegistryNotAllowed('not ours'), False,
             exceptions.BadStoreUri),
            # A bug of ours still reaches Glance as a store error.
            (OverflowError('int too large'), False,
             exceptions.BackendException),
        ]
        for error, writing, expected in cases:
            with self.subTest(error=error, writing=writing):
                raised = self.raised(error, writing)
                self.assertIsInstance(raised, expected)
                self.assertIn(str(error), str(raised))

    def test_glance_store_errors_pass_through(self):
        error = exceptions.Duplicate(image='x')
        self.assertIs(error, self.raised(error))


class StoreConfigurationTest(testtools.TestCase):

    def store(self, **options):
        conf = cfg.ConfigOpts()
        self.useFixture(config_fixture.Config(conf))
        store = appliance.Store(conf, backend='repo')
        for name, value in options.items():
            conf.set_override(name, value, group='repo')
        store.configure()
        self.addCleanup(store._close_clients)
        return store

    def test_reads_without_a_repository_but_refuses_adds(self):
        store = self.store(appliance_registry_url='https://r.example')
        self.assertTrue(store.is_capable(
            capabilities.BitMasks.READ_RANDOM))
        self.assertFalse(store.is_capable(
            capabilities.BitMasks.WRITE_ACCESS))

    def test_full_configuration(self):
        store = self.store(appliance_registry_url='https://r.example:5000',
                           appliance_repository='glance/images',
                           appliance_chunk_size=8)
        self.assertTrue(store.is_capable(
            capabilities.BitMasks.WRITE_ACCESS,
            capabilities.BitMasks.READ_RANDOM,
            capabilities.BitMasks.DRIVER_REUSABLE))
        self.assertEqual(8 * 1024 * 1024, store.WRITE_CHUNKSIZE)
        self.assertEqual(('appliance',), store.get_schemes())
        self.assertEqual('appliance://r.example:5000/glance/images',
                         store.url_prefix)

    def test_location_prefixes(self):
        # Glance gives a location without store to the store whose prefix
        # it starts with.
        cases = [({'appliance_registry_url': 'https://r.example',
                   'appliance_repository': 'glance/images'},
                  'appliance://r.example/glance/images'),
                 ({'appliance_registry_url': 'https://r.example'},
                  'appliance://r.example/'),
                 ({}, 'appliance://')]
        for options, prefix in cases:
            with self.subTest(options=options):
                self.assertEqual(prefix, self.store(**options).url_prefix)

    def test_bad_repository_disables_adds(self):
        store = self.store(appliance_registry_url='https://r.example',
                           appliance_repository='Not Valid')
        self.assertFalse(store.is_capable(
            capabilities.BitMasks.WRITE_ACCESS))

    def test_unreadable_trust_policy_stops_the_store(self):
        error = self.assertRaises(
            exceptions.BadStoreConfiguration, self.store,
            appliance_registry_url='https://r.example',
            appliance_trust_policy_file='/nonexistent/policy.yaml')
        self.assertIn('/nonexistent/policy.yaml', str(error))

    def test_tls_is_verified_unless_asked(self):
        store = self.store(
            appliance_registry_url='https://r.example',
            appliance_allowed_registries=['https://other.example'])
        self.assertTrue(store._client().session.verify)
        other = store._client('other.example')
        self.assertEqual('https://other.example:443', other.url)
        self.assertIsNone(other.session.auth.username)

    def test_credentials_stay_with_their_registry(self):
        store = self.store(
            appliance_registry_url='https://r.example',
            appliance_username='robot', appliance_password='secret',
            appliance_allowed_registries=['https://elsewhere.example'])
        self.assertEqual('robot', store._client().session.auth.username)
        self.assertIsNone(
            store._client('elsewhere.example').session.auth.username)

    def test_only_allowed_registries_are_read(self):
        store = self.store(
            appliance_registry_url='http://127.0.0.1:5000',
            appliance_allowed_registries=['https://partner.example',
                                          'http://10.0.0.5:5000'])
        for netloc, url in (('127.0.0.1:5000', 'http://127.0.0.1:5000'),
                            ('partner.example', 'https://partner.example:443'),
                            ('PARTNER.example:443',
                             'https://partner.example:443'),
                            ('10.0.0.5:5000', 'http://10.0.0.5:5000')):
            self.assertEqual(url, store._client(netloc).url, netloc)
        for netloc in ('169.254.169.254', '127.0.0.1:5001', '127.0.0.1',
                       'partner.example:80', 'user@partner.example',
                       '10.0.0.5', '[::1'):
            with self.subTest(netloc=netloc):
                error = self.assertRaises(
                    appliance_exceptions.RegistryNotAllowed, store._client,
                    netloc)
                self.assertIn('appliance_allowed_registries in [repo]',
                              str(error))
        # Without other registries the store answers for its own only.
        self.assertEqual('appliance://127.0.0.1:5000/',
                         self.store(appliance_registry_url='http://'
                                    '127.0.0.1:5000').url_prefix)
        self.assertEqual('appliance://', store.url_prefix)

    def test_a_store_without_registries_reads_none(self):
        store = self.store()
        error = self.assertRaises(appliance_exceptions.RegistryNotAllowed,
                                  store._client, 'registry.egi.eu')
        self.assertIn('none allowed', str(error))
        error = self.assertRaises(
            exceptions.BadStoreConfiguration, self.store,
            appliance_allowed_registries=['registry.egi.eu'])
        self.assertIn('appliance_allowed_registries', str(error))

    def test_size_of_a_location_not_allowed_is_a_bad_location(self):
        # Glance's location checks catch NotFound and BadStoreUri only.
        store = self.store(appliance_registry_url='https://r.example')
        location = store_location.Location(
            'appliance', appliance.StoreLocation, store.conf,
            uri='appliance://169.254.169.254/vo/ubuntu:1@' + DIGEST,
            backend='repo')
        error = self.assertRaises(exceptions.BadStoreUri, store.get_size,
                                  location)
        self.assertIn('appliance_allowed_registries in [repo]', str(error))

    def test_token_realms(self):
        store = self.store(appliance_registry_url='https://r.example',
                           appliance_username='robot',
                           appliance_token_realms=['https://auth.example'])
        self.assertTrue(store._client().session.auth.realm_allowed(
            'https://auth.example/token'))
        error = self.assertRaises(
            exceptions.BadStoreConfiguration, self.store,
            appliance_registry_url='https://r.example',
            appliance_token_realms=['auth.example'])
        self.assertIn('appliance_token_realms', str(error))
        self.assertIn("'auth.example'", str(error))


class LocationClassTest(testtools.TestCase):

    def test_glance_store_finds_the_location_class(self):
        store = appliance.Store(cfg.ConfigOpts(), backend='repo')
        self.assertIs(appliance.StoreLocation,
                      store.get_store_location_class())
        self.assertTrue(issubclass(appliance.StoreLocation,
                                   store_location.StoreLocation))


class HostileLocationFuzzTest(testtools.TestCase):
    """Any location text: only BadStoreUri from the store, never a crash."""

    @hypothesis.settings(fuzzing.FUZZ)
    @hypothesis.given(fuzzing.hostile_text | st.sampled_from([
        '[::1', '[::1]:x', 'h:99999999', 'user@h', 'h/../x', '%2F', 'h:',
        '169.254.169.254']), fuzzing.hostile_text)
    def test_locations(self, netloc, path):
        uri = 'appliance://%s/%s@%s' % (netloc, path, DIGEST)
        try:
            parsed = parse(uri)
        except exceptions.BadStoreUri:
            return
        registries = appliance.registry.locations.AllowedRegistries(
            'http://127.0.0.1:5000', ['https://partner.example'])
        try:
            url, _ = registries.url_for(parsed.netloc)
        except appliance_exceptions.RegistryNotAllowed as error:
            self.assertIn('allowed registries', str(error))
            return
        self.assertIn(url, ('http://127.0.0.1:5000',
                            'https://partner.example:443'))
