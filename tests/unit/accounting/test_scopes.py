"""Reading every project at once, or each with a token scoped to it.

The reads themselves are in ``tests/functional/accounting``: Nova's real
policy with a reader, and a real Keystone making the project tokens.
Here the choices: which way ``auto`` goes for which token, which projects,
and how a project's credentials are made from the configured ones.
"""

from keystoneauth1 import access
from keystoneauth1 import fixture
from keystoneauth1.identity import access as access_plugin
from keystoneauth1.identity import v3
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import scopes
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting import fakes


def token_session(project_id=None, roles=(), system=False):
    """A session holding a Keystone token of that scope and those roles."""
    token = fixture.V3Token(user_id='accounting', project_id=project_id)
    if system:
        token.set_system_scope()
    for role in roles:
        token.add_role(name=role)
    return ks_session.Session(auth=access_plugin.AccessInfoPlugin(
        access.create(body=token), auth_url='http://keystone.example/v3'))


class TestScope(testtools.TestCase):

    def test_filters(self):
        session = object()
        self.assertEqual({'all_tenants': 1},
                         scopes.Scope(session).filters())
        self.assertEqual({'all_tenants': 1, 'project_id': 'p1'},
                         scopes.Scope(session, 'p1').filters())
        self.assertEqual({'project_id': 'p1'}, scopes.Scope(
            session, 'p1').filters(all_tenants=False))
        self.assertEqual({}, scopes.Scope(session, 'p1',
                                          all_projects=False).filters())


class TestWhichWay(testtools.TestCase):

    def reads_all(self, session, mode='auto'):
        conf = fakes.make_conf(accounting={'listing_scope': mode})
        return scopes.ProjectSessions(conf, session).reads_all_projects()

    def test_auto_follows_the_token(self):
        self.assertTrue(self.reads_all(token_session('p0', ['admin',
                                                            'reader'])))
        self.assertFalse(self.reads_all(token_session('p0', ['reader'])))
        # Nova, Cinder, Neutron take no system-scoped token at all.
        self.assertFalse(self.reads_all(token_session(
            system=True, roles=['admin', 'reader'])))
        # No Keystone token (auth_type = none behind a proxy).
        self.assertTrue(self.reads_all(ks_session.Session(
            auth=noauth.NoAuth(endpoint='http://cloud.example'))))

    def test_the_option_decides_when_set(self):
        admin = token_session('p0', ['admin'])
        reader = token_session('p0', ['reader'])
        self.assertFalse(self.reads_all(admin, 'each_project'))
        self.assertTrue(self.reads_all(reader, 'all_projects'))


class TestWhichProjects(testtools.TestCase):

    def setUp(self):
        super().setUp()
        body = fake_cloud.keystone_projects('p2', 'p1', 'off')
        body['projects'][2]['enabled'] = False
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {}, documents={'/auth/projects': body}))
        self.reach = fake_cloud.FakeProjectSessions(fakes.make_conf(),
                                                    self.cloud)

    def test_enabled_projects_with_a_role_listed_once(self):
        self.assertEqual(['p1', 'p2'], self.reach.readable())
        self.assertEqual(['p2'], self.reach.readable(['p2']))
        self.assertEqual(1, [p for p, _ in self.cloud.requests].count(
            '/auth/projects'))

    def test_an_unreadable_project_is_refused_by_name(self):
        exc = self.assertRaises(exceptions.PermissionDenied,
                                self.reach.readable, ['p1', 'p9'])
        self.assertIn('project p9', str(exc))

    def test_no_project_at_all_is_an_error(self):
        self.cloud.documents['/auth/projects'] = \
            fake_cloud.keystone_projects()
        exc = self.assertRaises(exceptions.PermissionDenied,
                                self.reach.readable)
        self.assertIn('reader role on each project', str(exc))

    def test_sessions_are_made_once_a_run(self):
        first = self.reach.session_for('p1')
        self.assertIs(first, self.reach.session_for('p1'))
        self.reach.session_for('p2')
        self.assertEqual(['p1', 'p2'], self.reach.made)


class TestProjectCredentials(testtools.TestCase):

    PASSWORD = dict(auth_url='http://keystone.example/v3',
                    username='accounting', password='secret',
                    user_domain_name='Default', system_scope='all')

    def configured(self, auth_type='v3password', **options):
        """ProjectSessions over ``[accounting_keystone]`` as configured."""
        if auth_type == 'v3password':
            options = dict(self.PASSWORD, **options)
        conf = fakes.make_conf()
        conf.register_opts(ks_loading.get_auth_plugin_conf_options(
            auth_type), group='accounting_keystone')
        for name, value in dict(options, auth_type=auth_type).items():
            conf.set_override(name, value, 'accounting_keystone')
        return scopes.ProjectSessions(conf, token_session(system=True))

    def test_configured_credentials_scoped_to_the_project(self):
        session = self.configured().make_session('p1')
        self.assertIsInstance(session.auth, v3.Password)
        self.assertEqual(('p1', None), (session.auth.project_id,
                                        session.auth.system_scope))

    def test_a_project_name_gives_way_to_the_project(self):
        session = self.configured(
            system_scope=None, project_name='admin',
            project_domain_name='Default').make_session('p1')
        self.assertEqual(('p1', None, None), (
            session.auth.project_id, session.auth.project_name,
            session.auth.project_domain_name))

    def test_credentials_that_cannot_be_scoped_are_refused(self):
        reach = self.configured(auth_type='none',
                                endpoint='http://cloud.example')
        exc = self.assertRaises(exceptions.ConfigurationError,
                                reach.make_session, 'p1')
        self.assertIn('auth_type = none cannot be scoped', str(exc))

    def test_a_session_from_elsewhere_is_rescoped_by_token(self):
        # The openstack CLI's session: no [accounting_keystone] auth_type.
        reach = scopes.ProjectSessions(fakes.make_conf(),
                                       token_session('p0', ['reader']))
        session = reach.make_session('p1')
        self.assertIsInstance(session.auth, v3.Token)
        self.assertEqual(('p1', 'http://keystone.example/v3'),
                         (session.auth.project_id, session.auth.auth_url))
