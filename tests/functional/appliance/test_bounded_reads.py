"""A hostile registry: endless bodies and wrong manifests, refused early.

A real registry will not send an endless error page, a manifest of a
gigabyte or a layer of size ``1e999``, so the registry here is the
hostile loopback server (hostile_http.py) on 127.0.0.1, driven by the
real client over real HTTP. Each test proves that the client stops
reading a little past its cap (the server counts what left it), raises a
``RegistryError`` or ``InvalidInput`` naming what was refused, and never
a raw ``TypeError``/``OverflowError``.
"""

import io

import fixtures
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance.registry import bodies
from tests.functional.appliance import hostile_http

REPO = 'vo/ubuntu'
DIGEST = 'sha256:' + 'ab' * 32
ENDLESS = hostile_http.ENDLESS
# What may leave the server before the client hangs up: the cap, the
# kernel's socket buffers on loopback (a few MiB), a margin.
BOUND = 24 * 1024 * 1024


def layer(**fields):
    value = {'mediaType': 'application/x-qemu-disk', 'digest': DIGEST,
             'size': 10}
    value.update(fields)
    return value


def manifest(**fields):
    value = {'schemaVersion': 2, 'mediaType': registry.OCI_MANIFEST,
             'config': layer(mediaType=registry.EMPTY_CONFIG_TYPE, size=2),
             'layers': [layer()]}
    value.update(fields)
    return value


class EndlessBodyTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(hostile_http.HostileServer(
            host='127.0.0.1'))
        self.client = registry.RegistryClient(self.server.url, retries=1,
                                              backoff=0)
        self.addCleanup(self.client.close)

    def refused(self, error_class, call, *args):
        error = self.assertRaises(error_class, call, *args)
        self.assertLess(self.server.sent, BOUND)
        return error

    def test_error_bodies(self):
        for status, error_class in ((404, exceptions.RegistryNotFound),
                                    (400, exceptions.RegistryError),
                                    (503, exceptions.RegistryUnavailable)):
            self.server.sent = 0
            self.server.answer('/v2/', status, body=ENDLESS)
            error = self.refused(error_class, self.client.list_tags, REPO)
            self.assertIn('HTTP %d' % status, str(error))

    def test_manifest(self):
        self.server.answer('/v2/%s/manifests/' % REPO, 200, body=ENDLESS)
        error = self.refused(exceptions.InvalidInput,
                             self.client.get_manifest, REPO, '1')
        self.assertIn('larger than %d bytes' % registry.MANIFEST_MAX_BYTES,
                      str(error))

    def test_tag_list_and_catalog(self):
        self.server.answer('/v2/', 200, body=ENDLESS)
        for call, args in ((self.client.list_tags, (REPO,)),
                           (self.client.list_repositories, ())):
            self.server.sent = 0
            error = self.refused(bodies.TooLarge, call, *args)
            self.assertIn('more than %d bytes' % bodies.LISTING_MAX_BYTES,
                          str(error))

    def test_harbor_project_page(self):
        self.server.answer('/v2/_catalog', 401, body=b'{}')
        self.server.answer('/api/v2.0/projects/', 200, body=ENDLESS)
        error = self.refused(bodies.TooLarge,
                             self.client.list_project_repositories, 'vo')
        self.assertIn('repositories of project vo', str(error))

    def test_token_response(self):
        # The realm is on the registry's host: the password may go there,
        # but its answer is read with a cap too.
        self.server.answer('/v2/', 401, {
            'WWW-Authenticate': 'Bearer realm="{url}/token",scope='
                                '"repository:%s:pull"' % REPO})
        self.server.answer('/token', 200, body=ENDLESS)
        client = registry.RegistryClient(self.server.url, username='robot',
                                         password='s3cret', retries=0)
        self.addCleanup(client.close)
        error = self.refused(bodies.TooLarge, client.list_tags, REPO)
        self.assertIn('token', str(error))

    def test_redirect_body(self):
        # requests reads a redirect's body whole before following it.
        self.server.answer('/v2/%s/tags/list' % REPO, 307,
                           {'Location': '/v2/elsewhere/tags/list'},
                           body=ENDLESS)
        self.server.answer('/v2/elsewhere/tags/list', 200,
                           body={'tags': ['1']})
        self.assertEqual(['1'], self.client.list_tags(REPO))
        self.assertLess(self.server.sent, BOUND)

    def test_pages_without_end(self):
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.appliance.registry.listings.MAX_PAGES', 5))
        self.server.answer('/v2/%s/tags/list' % REPO, 200, {
            'Link': '</v2/%s/tags/list?last=x>; rel="next"' % REPO},
            body={'tags': []})
        error = self.assertRaises(exceptions.RegistryError,
                                  self.client.list_tags, REPO)
        self.assertIn('more than 5 pages', str(error))
        self.assertEqual(5, len(self.server.requests))

    def test_hostile_headers(self):
        self.server.answer('/v2/%s/blobs/' % REPO, 200,
                           {'Content-Length': '1e999'})
        error = self.assertRaises(exceptions.RegistryError,
                                  self.client.blob_size, REPO, DIGEST)
        self.assertIn("Content-Length '1e999'", str(error))
        self.server.answer('/v2/%s/blobs/uploads/' % REPO, 202)
        error = self.assertRaises(exceptions.RegistryError,
                                  self.client.push_blob, REPO,
                                  io.BytesIO(b'x'))
        self.assertIn('without a Location header', str(error))


class HostileManifestTest(testtools.TestCase):
    """Manifests that parse as JSON but are not what callers expect."""

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(hostile_http.HostileServer(
            host='127.0.0.1'))
        self.client = registry.RegistryClient(self.server.url, retries=0)
        self.addCleanup(self.client.close)

    def refused(self, body, *named):
        self.server.answer('/v2/%s/manifests/1' % REPO, 200, body=body)
        error = self.assertRaises(exceptions.InvalidInput,
                                  self.client.get_manifest, REPO, '1')
        for part in ('Manifest %s:1 at %s' % (REPO, self.server.url),) + \
                named:
            self.assertIn(part, str(error))

    def test_sizes(self):
        self.refused(b'{"schemaVersion": 2, "config": {"mediaType": "a/b", '
                     b'"digest": "sha256:00", "size": 2}, "layers": [{'
                     b'"mediaType": "a/b", "digest": "sha256:00", '
                     b'"size": 1e999}]}', 'layers[0].size', 'inf')
        for size in (-1, '10', True, None, 2 ** 63, 1.5):
            self.refused(manifest(layers=[layer(size=size)]),
                         'layers[0].size')

    def test_types_and_nesting(self):
        self.refused(manifest(layers={'0': layer()}), 'layers is dict')
        self.refused(manifest(layers=[['x']]), 'layers[0] is list')
        self.refused(manifest(config='x'), 'config is str')
        self.refused(manifest(layers=[layer(digest=7)]), 'layers[0].digest')
        self.refused(manifest(layers=[layer(digest='../../x')]),
                     'layers[0].digest')
        self.refused(manifest(annotations={'a': ['b']}), "annotations['a']")
        self.refused(manifest(schemaVersion=1), 'schemaVersion')
        self.refused(b'[' * 100000 + b']' * 100000, 'is not JSON')
        self.refused([manifest()], 'the document is list')

    def test_a_valid_manifest_passes(self):
        self.server.answer('/v2/%s/manifests/1' % REPO, 200,
                           body=manifest())
        _, document = self.client.get_manifest(REPO, '1')
        self.assertEqual(10, document['layers'][0]['size'])
