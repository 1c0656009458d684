"""The ``appliance`` store's configuration, without a registry.

Capabilities, location prefixes, registry clients per allowed registry,
and glance_store's lookup of the location class. The registry itself is
exercised in tests/functional/image/; the store's other pieces have
their own test modules here (locations, upload reader, errors, streams).
"""

from glance_store import capabilities
from glance_store import exceptions
from glance_store import location as store_location
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.image import appliance

DIGEST = 'sha256:' + 'ab' * 32


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
