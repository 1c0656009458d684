"""The ``appliance`` store reads only registries the operator allows.

Loads the store through glance_store's multi-store API, as glance-api
does, with its own registry and a partner's (two Debian docker-registry
processes, registry_fixture), and with two loopback servers
(tests/functional/appliance/hostile_http.py): a stranger no option names,
which records any request that reaches it, and an allowed registry gone
bad, which answers with hostile manifests and endless bodies. Proves
that a location on a registry not allowed is refused with ``BadStoreUri``
before any request leaves, that an allowed one is served, and that every
failure of a hostile allowed registry leaves the store as a glance_store
exception.
"""

import io

import glance_store
from glance_store import exceptions

from tests.functional.appliance import hostile_http
from tests.functional.image import store_base
from tests.functional import registry_fixture

REPO = store_base.REPOSITORY
DIGEST = 'sha256:' + 'ab' * 32


def location(url, tag, digest=DIGEST):
    return 'appliance://%s/%s:%s@%s' % (url.split('//')[1], REPO, tag,
                                        digest)


class AllowedRegistriesTest(store_base.StoreTestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.partner = self.useFixture(registry_fixture.RegistryFixture())
        self.stranger = self.useFixture(hostile_http.HostileServer())
        self.bad = self.useFixture(hostile_http.HostileServer(
            host='127.0.0.1'))
        self.configure_stores({'repo': ('appliance', self.appliance_options(
            self.registry, appliance_allowed_registries=[
                self.partner.url, self.bad.url]))}, 'repo')

    def test_partner_is_served_and_a_stranger_is_not_asked(self):
        data = b'partner appliance' * 1000
        url = store_base.publish_endorsed(
            self.registry_client(self.partner.url), REPO, data, '1',
            '/C=EU/CN=Partner')
        self.assertEqual(data, b''.join(glance_store.get(url, 'repo')[0]))
        for call in (glance_store.get,
                     glance_store.get_size_from_uri_and_backend,
                     glance_store.delete):
            error = self.assertRaises(
                exceptions.BadStoreUri, call,
                location(self.stranger.url, 'glance-x'), 'repo')
            self.assertIn(self.stranger.url.split('//')[1], str(error))
            self.assertIn('appliance_allowed_registries in [repo]',
                          str(error))
        # Internal addresses are refused the same way, unasked.
        self.assertRaises(exceptions.BadStoreUri, glance_store.get,
                          location('http://169.254.169.254', '1'), 'repo')
        self.assertEqual([], self.stranger.requests)

    def test_hostile_allowed_registry_gives_store_errors(self):
        path = '/v2/%s/manifests/1' % REPO
        layer = {'mediaType': 'a/b', 'digest': DIGEST}
        cases = [
            ([dict(layer, size=1e999)], exceptions.Invalid, 'layers[0].size'),
            ([dict(layer, size=-1)], exceptions.Invalid, 'layers[0].size'),
            ([dict(layer, size='10')], exceptions.Invalid, 'layers[0].size'),
            ([[layer]], exceptions.Invalid, 'layers[0] is list'),
            ({'0': layer}, exceptions.Invalid, 'layers is dict'),
        ]
        for layers, error_class, named in cases:
            with self.subTest(layers=layers):
                self.bad.answer(path, 200,
                                body=store_base.manifest_with_layers(layers))
                # Glance's location checks know BadStoreUri only.
                for call, error_class in (
                        (glance_store.get, error_class),
                        (glance_store.get_size_from_uri_and_backend,
                         exceptions.BadStoreUri)):
                    error = self.assertRaises(
                        error_class, call, location(self.bad.url, '1'),
                        'repo')
                    self.assertIn(named, str(error))
        self.bad.answer(path, 200, body=hostile_http.ENDLESS)
        error = self.assertRaises(exceptions.Invalid, glance_store.get,
                                  location(self.bad.url, '1'), 'repo')
        self.assertIn('larger than', str(error))
        self.bad.answer(path, 503, body=hostile_http.ENDLESS)
        self.assertRaises(exceptions.RemoteServiceUnavailable,
                          glance_store.get, location(self.bad.url, '1'),
                          'repo')
        self.assertRaises(exceptions.BadStoreUri,
                          glance_store.get_size_from_uri_and_backend,
                          location(self.bad.url, '1'), 'repo')

    def test_own_registry_still_takes_uploads(self):
        data = b'x' * 5000
        url = glance_store.add_with_multihash(
            glance_store.multi_backend.CONF, 'image-1', io.BytesIO(data),
            len(data), 'repo', 'sha512')[0]
        self.assertEqual(data, b''.join(glance_store.get(url, 'repo')[0]))
