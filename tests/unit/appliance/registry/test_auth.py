"""Parsing of registry challenges and the token cache keys."""

import testtools

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
