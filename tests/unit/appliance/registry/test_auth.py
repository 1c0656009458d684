"""Registry challenges, token cache keys, and where credentials go."""

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance.registry import auth


class ChallengeTest(testtools.TestCase):

    def test_harbor_bearer_challenge(self):
        scheme, params = auth.parse_challenge(
            'Bearer realm="https://harbor.example/service/token",'
            'service="harbor-registry",scope="repository:vo/ubuntu:pull,push"')
        self.assertEqual('bearer', scheme)
        self.assertEqual({'realm': 'https://harbor.example/service/token',
                          'service': 'harbor-registry',
                          'scope': 'repository:vo/ubuntu:pull,push'}, params)

    def test_basic_challenge(self):
        self.assertEqual(('basic', {'realm': 'test'}),
                         auth.parse_challenge('Basic realm="test"'))
        self.assertEqual(('', {}), auth.parse_challenge(None))

    def test_scope_keys_match_urls(self):
        self.assertEqual(
            'repository:vo/ubuntu',
            auth.scope_key('https://h/v2/vo/ubuntu/blobs/uploads/x'))
        self.assertEqual(
            auth.scope_key('https://h/v2/vo/ubuntu/manifests/1'),
            auth._key_of_scope('repository:vo/ubuntu:pull'))
        self.assertEqual('registry:catalog',
                         auth.scope_key('https://h/v2/_catalog?n=1'))
        self.assertEqual('registry:catalog',
                         auth._key_of_scope('registry:catalog:*'))


class RealmTest(testtools.TestCase):
    """Which token realms may receive the password."""

    def auth(self, url='https://r.example:5000', **kwargs):
        return auth.RegistryAuth(url, 'robot', 'secret', **kwargs)

    def test_the_registry_host_by_default(self):
        allowed = self.auth().realm_allowed
        self.assertTrue(allowed('https://r.example/service/token'))
        self.assertTrue(allowed('https://R.EXAMPLE:8443/token'))
        self.assertFalse(allowed('http://r.example/token'))   # downgrade
        self.assertFalse(allowed('https://auth.example/token'))
        self.assertFalse(allowed('https://r.example.evil/token'))
        self.assertFalse(allowed('ftp://r.example/token'))
        self.assertFalse(allowed(None))
        plain = self.auth('http://127.0.0.1:5000').realm_allowed
        self.assertTrue(plain('http://127.0.0.1:5001/token'))
        self.assertFalse(plain('http://localhost:5001/token'))

    def test_listed_origins(self):
        allowed = self.auth(token_realms=['https://auth.example',
                                          'http://idp.example:8080/']
                            ).realm_allowed
        self.assertTrue(allowed('https://auth.example:443/token'))
        self.assertTrue(allowed('http://idp.example:8080/t'))
        self.assertFalse(allowed('http://auth.example/token'))
        self.assertFalse(allowed('http://idp.example/t'))

    def test_bad_realm_origins_are_named(self):
        for bad in ('auth.example', 'https://auth.example/token',
                    'https://u:p@auth.example', 'https://h:x'):
            e = self.assertRaises(exceptions.InvalidInput, self.auth,
                                  token_realms=[bad])
            self.assertIn(repr(bad), str(e))
