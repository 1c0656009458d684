"""Registry and blob URLs: what the client accepts, what it refuses.

The protocol itself is tested against docker-registry in
tests/functional/appliance/test_registry.py.
"""

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry

DIGEST = 'sha256:' + 'ab' * 32


class URLTest(testtools.TestCase):

    def test_registry_url(self):
        self.assertEqual(
            'https://r.example:5000',
            registry.check_registry_url('https://r.example:5000/'))
        for bad in ('ftp://r.example', 'https://user:pw@r.example',
                    'https://r.example/v2/', 'https://r.example?x=1',
                    'r.example', '', None):
            e = self.assertRaises(exceptions.InvalidInput,
                                  registry.check_registry_url, bad)
            self.assertIn(repr(bad), str(e))

    def test_blob_url_round_trip(self):
        client = registry.RegistryClient('http://127.0.0.1:9')
        self.addCleanup(client.close)
        url = client.blob_url('vo.example.org/ubuntu', DIGEST)
        self.assertEqual(('http://127.0.0.1:9', 'vo.example.org/ubuntu',
                          DIGEST), registry.parse_blob_url(url))

    def test_hostile_blob_urls(self):
        for bad in ('https://h/v2/../etc/blobs/' + DIGEST,
                    'https://h/v2/a/blobs/sha256:xyz',
                    'https://h/v2/a/blobs/%s?x=1' % DIGEST,
                    'file:///v2/a/blobs/' + DIGEST,
                    'https://h/v2/A/blobs/' + DIGEST):
            self.assertRaises(exceptions.InvalidInput,
                              registry.parse_blob_url, bad)


class OriginTest(testtools.TestCase):

    def test_origins_compare_scheme_host_and_port(self):
        origin = registry.locations.origin_of
        self.assertEqual(('https', 'r.example', 443),
                         origin('HTTPS://R.example/v2/x'))
        self.assertEqual(origin('http://r.example:80/a'),
                         origin('http://r.example/b'))
        self.assertNotEqual(origin('http://r.example'),
                            origin('https://r.example'))
        self.assertNotEqual(origin('http://r.example:5000'),
                            origin('http://r.example:5001'))
        for bad in ('ftp://r.example', 'https://', 'https://h:99999999',
                    '', None, '/v2/x'):
            self.assertIsNone(origin(bad))
        self.assertEqual('http://[::1]:5000',
                         registry.locations.format_origin(
                             origin('http://[::1]:5000/v2/')))
