"""GlobalUserName lookups: one listing, then single reads for the rest."""

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import identity
from tests.unit.accounting.extractors import fake_cloud


class TestUserNames(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cloud = self.useFixture(fake_cloud.FakeCloud({}, documents={
            '/users': {'users': [
                {'id': 'u1', 'name': 'alice', 'email': 'a@example.org'},
                {'id': 'u2', 'name': 'bob'}], 'truncated': True},
            '/users/u3': {'user': {'id': 'u3', 'name': 'carol',
                                   'email': 'c@example.org'}},
        }))
        self.session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=self.cloud.url))

    def test_one_listing_then_single_reads(self):
        users = identity.UserNames(self.session)
        self.assertEqual(['alice', 'bob', 'carol', None, 'alice'],
                         [users.get(u) for u in ('u1', 'u2', 'u3', 'gone',
                                                 'u1')])
        # /users once, /users/u3 and /users/gone once each, none again.
        self.assertEqual(3, users.calls)
        self.assertIsNone(users.get(None))

    def test_attribute_with_name_fallback(self):
        users = identity.UserNames(self.session, attribute='email')
        self.assertEqual(['a@example.org', 'bob', 'c@example.org'],
                         [users.get(u) for u in ('u1', 'u2', 'u3')])

    def test_refusal_names_the_call(self):
        self.cloud.forbidden.add('/users')
        exc = self.assertRaises(exceptions.PermissionDenied,
                                identity.UserNames(self.session).get, 'u1')
        self.assertIn('Keystone refused GET /v3/users', str(exc))
