"""The project-to-VO map: file, Keystone over real HTTP, refreshing."""

import json
import logging
import os
import time

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from oslo_config import cfg
import testtools

from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import vo_map
from tests.unit.grid import identity_server


def write(tmpdir, name, text):
    path = os.path.join(tmpdir, name)
    with open(path, 'w') as stream:
        stream.write(text)
    return path


class TestVOMap(testtools.TestCase):

    def test_lookups(self):
        vos = vo_map.VOMap({'p1': 'atlas', 'p2': 'atlas', 'p3': 'cms'})

        self.assertEqual('atlas', vos.vo_for_project('p1'))
        self.assertIsNone(vos.vo_for_project('nope'))
        self.assertEqual({'p1', 'p2'}, vos.projects_for_vo('atlas'))
        self.assertEqual(set(), vos.projects_for_vo('lhcb'))
        self.assertEqual({'p1': 'atlas', 'p2': 'atlas', 'p3': 'cms'},
                         vos.as_dict())

    def test_snapshot_is_not_changed_through_its_views(self):
        source = {'p1': 'atlas'}
        vos = vo_map.VOMap(source)
        source['p2'] = 'cms'
        vos.as_dict()['p3'] = 'lhcb'
        vos.projects_for_vo('atlas').add('p4')

        self.assertEqual({'p1': 'atlas'}, vos.as_dict())
        self.assertEqual({'p1'}, vos.projects_for_vo('atlas'))


class TestLoadMappingFile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_json(self):
        path = write(self.tmp, 'vos.json',
                     json.dumps({'atlas': ['p1', 'atlas-prod'],
                                 'cms': ['p2']}))

        self.assertEqual({'p1': 'atlas', 'atlas-prod': 'atlas', 'p2': 'cms'},
                         vo_map.load_mapping_file(path))

    def test_yaml(self):
        path = write(self.tmp, 'vos.yaml',
                     'atlas:\n  - p1\nbiomed: p9\n')

        self.assertEqual({'p1': 'atlas', 'p9': 'biomed'},
                         vo_map.load_mapping_file(path))

    def test_empty_file_is_an_empty_map(self):
        path = write(self.tmp, 'vos.yaml', '')

        self.assertEqual({}, vo_map.load_mapping_file(path))

    def assertBadFile(self, text, fragment):
        path = write(self.tmp, 'bad.yaml', text)
        exc = self.assertRaises(exceptions.VOMappingFileError,
                                vo_map.load_mapping_file, path)
        self.assertIn(path, str(exc))
        self.assertIn(fragment, str(exc))

    def test_bad_syntax(self):
        self.assertBadFile('atlas: [p1\n', 'neither JSON nor YAML')

    def test_not_a_mapping(self):
        self.assertBadFile('- p1\n- p2\n', 'not hold a list')

    def test_projects_not_strings(self):
        self.assertBadFile('atlas: {p1: 1}\n', "VO 'atlas' must list")

    def test_project_in_two_vos(self):
        self.assertBadFile('atlas: [p1]\ncms: [p1]\n',
                           "project 'p1' is listed under two VOs")

    def test_missing_file(self):
        path = os.path.join(self.tmp, 'absent.yaml')
        exc = self.assertRaises(exceptions.VOMappingFileError,
                                vo_map.load_mapping_file, path)
        self.assertIn(path, str(exc))
        self.assertIn('cannot be read', str(exc))


PROJECTS = [
    {'id': 'id-atlas', 'name': 'atlas-prod', 'egi.VO': 'atlas'},
    {'id': 'id-cms', 'name': 'cms-prod', 'VO': 'cms'},
]
MORE_PROJECTS = [
    {'id': 'id-plain', 'name': 'plain'},
    {'id': 'id-bio', 'name': 'bio', 'egi.VO': 'biomed'},
]


class TestFetchFromKeystone(testtools.TestCase):
    """keystoneauth1 against a real HTTP identity endpoint on loopback."""

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(
            identity_server.IdentityServer(PROJECTS, MORE_PROJECTS))
        auth = token_endpoint.Token(self.server.url + '/v3', 'token')
        self.session = ks_session.Session(auth=auth)

    def test_property_over_every_page(self):
        mapping = vo_map.fetch_from_keystone(self.session, 'egi.VO')

        self.assertEqual({'id-atlas': 'atlas', 'id-bio': 'biomed'}, mapping)
        self.assertIn('/v3/projects?page=1', self.server.requests)

    def test_cASO_property_name(self):
        mapping = vo_map.fetch_from_keystone(self.session, 'VO')

        self.assertEqual({'id-cms': 'cms'}, mapping)

    def test_file_entries_win_and_names_resolve(self):
        mapping = vo_map.fetch_from_keystone(
            self.session, 'egi.VO',
            {'plain': 'lhcb', 'id-atlas': 'dteam', 'unknown-id': 'cms'})

        self.assertEqual({'id-atlas': 'dteam', 'id-bio': 'biomed',
                          'id-plain': 'lhcb', 'unknown-id': 'cms'}, mapping)


class TestRefreshingVOMap(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(
            name=vo_map.__name__, level=logging.INFO))

    def test_keeps_last_good_map_and_warns_once(self):
        answers = [{'p1': 'atlas'}, OSError('down'), OSError('down'),
                   {'p1': 'cms'}]

        def loader():
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        vos = vo_map.RefreshingVOMap(loader, interval=60)
        self.assertTrue(vos.refresh())
        self.assertFalse(vos.refresh())
        self.assertFalse(vos.refresh())

        self.assertEqual('atlas', vos.vo_for_project('p1'))
        self.assertEqual(1, self.logs.output.count('Cannot refresh'))
        self.assertTrue(vos.refresh())
        self.assertEqual('cms', vos.vo_for_project('p1'))
        self.assertIn('refreshed again', self.logs.output)

    def test_unreachable_keystone_keeps_map(self):
        server = self.useFixture(identity_server.IdentityServer(PROJECTS))
        session = ks_session.Session(
            auth=token_endpoint.Token(server.url + '/v3', 'token'))
        vos = vo_map.RefreshingVOMap(
            lambda: vo_map.fetch_from_keystone(session, 'egi.VO'),
            interval=60)
        self.assertTrue(vos.refresh())
        server.stop()

        self.assertFalse(vos.refresh())
        self.assertEqual('atlas', vos.vo_for_project('id-atlas'))
        self.assertIn('Cannot refresh', self.logs.output)

    def test_lookup_never_calls_the_loader(self):
        calls = []
        vos = vo_map.RefreshingVOMap(lambda: calls.append(1) or {},
                                     interval=60,
                                     initial=vo_map.VOMap({'p': 'atlas'}))

        self.assertEqual('atlas', vos.vo_for_project('p'))
        self.assertEqual({'p'}, vos.projects_for_vo('atlas'))
        self.assertEqual([], calls)

    def test_background_thread_refreshes(self):
        vos = vo_map.RefreshingVOMap(lambda: {'p': 'atlas'}, interval=60)
        vos.start()
        self.addCleanup(vos.stop)
        for _ in range(500):
            if vos.vo_for_project('p'):
                break
            time.sleep(0.01)
        self.assertEqual('atlas', vos.vo_for_project('p'))


class TestGetVOMap(testtools.TestCase):
    """Options read from a real configuration file."""

    def setUp(self):
        super().setUp()
        self.addCleanup(vo_map.reset_shared)
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def load_conf(self, text):
        conf = cfg.ConfigOpts()
        grid_conf.register_opts(conf)
        conf(['--config-file', write(self.tmp, 'test.conf', text)],
             project='test')
        return conf

    def test_file_only_is_in_force_at_once(self):
        path = write(self.tmp, 'vos.yaml', 'atlas: [p1]\n')
        conf = self.load_conf('[grid]\nvo_mapping_file = %s\n' % path)

        vos = vo_map.get_vo_map(conf)

        self.assertEqual('atlas', vos.vo_for_project('p1'))
        self.assertIs(vos, vo_map.get_vo_map(conf))

    def test_keystone_from_conf(self):
        server = self.useFixture(identity_server.IdentityServer(PROJECTS))
        path = write(self.tmp, 'vos.yaml', 'lhcb: [cms-prod]\n')
        conf = self.load_conf(
            '[grid]\nvo_mapping_file = %s\n'
            '[grid_keystone]\nauth_type = admin_token\n'
            'endpoint = %s/v3\ntoken = t\n' % (path, server.url))

        mapping = vo_map.make_loader(conf)()

        self.assertEqual({'id-atlas': 'atlas', 'id-cms': 'lhcb'}, mapping)
