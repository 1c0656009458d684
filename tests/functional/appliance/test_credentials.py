"""Where registry credentials go: the registry's origin and allowed realms.

Starts Debian's docker-registry (registry_fixture) with htpasswd Basic
auth or Bearer tokens (token_server.py), redirecting blob downloads to
another origin with distribution's own ``redirect`` storage middleware
where a test needs it, and a hostile loopback server (hostile_http.py)
as that other origin, recording every ``Authorization`` header it is
sent. Proves that the password and tokens reach only the registry's
origin and the token realms the operator allows: not a realm off the
registry's host, not an origin a redirect, ``Location`` or ``Link``
header names, even when it answers 401 with a challenge.
"""

import io

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from tests.functional.appliance import hostile_http
from tests.functional.appliance import token_server
from tests.functional import registry_fixture

REPO = 'vo/ubuntu'
USERS = {'robot': 's3cret'}


class TokenRealmTest(testtools.TestCase):
    """A registry whose token service is on another host."""

    def setUp(self):
        super().setUp()
        # The registry is 127.0.0.1; its realm says localhost.
        self.tokens = self.useFixture(token_server.TokenServer(
            USERS, host='localhost'))
        self.registry = self.useFixture(registry_fixture.RegistryFixture(
            token_server=self.tokens))

    def client(self, **kwargs):
        client = registry.RegistryClient(self.registry.url, username='robot',
                                         password='s3cret', retries=0,
                                         **kwargs)
        self.addCleanup(client.close)
        return client

    def test_realm_off_the_registry_host_gets_no_password(self):
        e = self.assertRaises(exceptions.RegistryAuthError,
                              self.client().list_tags, REPO)
        self.assertIn(self.tokens.realm, str(e))
        self.assertIn('registry_token_realms', str(e))
        self.assertIn(self.tokens.origin, str(e))
        self.assertEqual([], self.tokens.requests)

    def test_allowed_realm_origin_gets_it(self):
        client = self.client(token_realms=[self.tokens.origin])
        checksums = client.push_blob(REPO, io.BytesIO(b'x' * 1000))
        self.assertEqual(1000, client.blob_size(REPO, checksums.digest))
        self.assertEqual('robot', self.tokens.requests[0][0])

    def test_anonymous_client_may_fetch_anonymous_tokens(self):
        client = registry.RegistryClient(self.registry.url, retries=0)
        self.addCleanup(client.close)
        e = self.assertRaises(exceptions.RegistryAuthError, client.list_tags,
                              REPO)
        self.assertIn('401', str(e))
        self.assertEqual([(None, ['repository:%s:pull' % REPO])],
                         self.tokens.requests)


class RedirectTest(testtools.TestCase):
    """Blob downloads redirected to another origin that asks for more."""

    def start(self, **kwargs):
        self.other = self.useFixture(hostile_http.HostileServer())
        self.registry = self.useFixture(registry_fixture.RegistryFixture(
            extra_config={'middleware': {'storage': [{
                'name': 'redirect',
                'options': {'baseurl': self.other.url + '/'}}]}},
            **kwargs))

    def pull_refused(self, client):
        checksums = client.push_blob(REPO, io.BytesIO(b'y' * 5000))
        self.assertRaises(exceptions.RegistryAuthError, client.pull_blob,
                          REPO, checksums.digest, io.BytesIO())
        # The download did go there, and got nothing of ours.
        self.assertTrue(self.other.requests)
        self.assertEqual([], self.other.authorizations())
        self.assertNotIn('/token', [path.split('?')[0] for _, path, _
                                    in self.other.requests])

    def test_basic_password_is_not_sent_after_a_redirect(self):
        self.start(users=USERS)
        client = registry.RegistryClient(self.registry.url, username='robot',
                                         password='s3cret', retries=0)
        self.addCleanup(client.close)
        self.pull_refused(client)

    def test_bearer_token_is_not_sent_after_a_redirect(self):
        tokens = self.useFixture(token_server.TokenServer(USERS))
        self.start(token_server=tokens)
        client = registry.RegistryClient(self.registry.url, username='robot',
                                         password='s3cret', retries=0)
        self.addCleanup(client.close)
        self.pull_refused(client)


class OtherOriginHeadersTest(testtools.TestCase):
    """A registry whose Link and Location headers name another origin."""

    def setUp(self):
        super().setUp()
        self.other = self.useFixture(hostile_http.HostileServer())
        self.registry = self.useFixture(hostile_http.HostileServer(
            host='127.0.0.1', require_basic=True))
        self.client = registry.RegistryClient(
            self.registry.url, username='robot', password='s3cret',
            retries=0)
        self.addCleanup(self.client.close)

    def test_next_page_on_another_origin(self):
        self.registry.answer(
            '/v2/%s/tags/list' % REPO, 200,
            {'Link': '<%s/v2/%s/tags/list?last=a>; rel="next"'
             % (self.other.url, REPO)}, {'name': REPO, 'tags': ['a']})
        self.assertRaises(exceptions.RegistryAuthError, self.client.list_tags,
                          REPO)
        self.assertEqual(1, len(self.other.requests))
        self.assertEqual([], self.other.authorizations())

    def test_upload_location_on_another_origin(self):
        self.registry.answer(
            '/v2/%s/blobs/uploads/' % REPO, 202,
            {'Location': '%s/v2/%s/blobs/uploads/1' % (self.other.url,
                                                       REPO)})
        self.assertRaises(exceptions.RegistryError, self.client.push_blob,
                          REPO, io.BytesIO(b'z' * 100))
        self.assertTrue(self.other.requests)
        self.assertEqual([], self.other.authorizations())
        # The registry itself did get the password.
        self.assertIn('Basic', self.registry.authorizations()[0])
