"""The glance-api harness writes a configuration Glance can run with.

No process is started here (tests/functional/image/test_glance_api.py
runs the real one); these check the files it writes and its refusals.
"""

import configparser
import os

import fixtures
import testtools

from stratuslab_plugins.sandbox import glance_api


def read(path):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    parser.read(path)
    return parser


class GlanceAPIConfigTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path

    def test_multi_store_configuration(self):
        api = glance_api.GlanceAPI(
            work_dir=self.work,
            enabled_backends={'repo': 'appliance', 'local': 'file'},
            backend_options={'repo': {'appliance_registry_url':
                                      'http://127.0.0.1:5000'}},
            options={'DEFAULT': {'debug': 'True'}})
        api.write_config()
        conf = read(api.config_file)
        self.assertEqual('repo:appliance,local:file',
                         conf.get('DEFAULT', 'enabled_backends'))
        self.assertEqual('True', conf.get('DEFAULT', 'debug'))
        self.assertEqual('repo', conf.get('glance_store', 'default_backend'))
        self.assertEqual('http://127.0.0.1:5000',
                         conf.get('repo', 'appliance_registry_url'))
        self.assertEqual(api.store_dir('local'),
                         conf.get('local', 'filesystem_store_datadir'))
        for reserved in ('os_glance_staging_store', 'os_glance_tasks_store'):
            path = conf.get(reserved, 'filesystem_store_datadir')
            self.assertTrue(os.path.isdir(path), reserved)
        self.assertTrue(conf.get('database', 'connection').startswith(
            'sqlite:///' + self.work))
        self.assertEqual(glance_api.PASTE_FLAVOR,
                         conf.get('paste_deploy', 'flavor'))

    def test_paste_keeps_context_and_drops_authtoken(self):
        api = glance_api.GlanceAPI(work_dir=self.work)
        api.write_config()
        paste = read(api.paste_file)
        pipeline = paste.get('composite:api', glance_api.PASTE_FLAVOR).split()
        self.assertIn('context', pipeline)
        self.assertNotIn('authtoken', pipeline)
        self.assertEqual('rootapp', pipeline[-1])
        self.assertTrue(paste.has_section(
            'composite:glance-api-' + glance_api.PASTE_FLAVOR))

    def test_identity_headers_carry_one_role(self):
        api = glance_api.GlanceAPI(work_dir=self.work, project_id='p1',
                                   user_id='u1')
        self.assertEqual({'X-Identity-Status': 'Confirmed',
                          'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                          'X-Roles': 'admin'}, api.identity_headers)

    def test_refusals_name_the_input(self):
        error = self.assertRaises(glance_api.GlanceAPIError,
                                  glance_api.GlanceAPI,
                                  enabled_backends={'local': 'file'},
                                  default_backend='repo')
        self.assertIn("default_backend 'repo'", str(error))
        error = self.assertRaises(glance_api.GlanceAPIError,
                                  lambda: glance_api.GlanceAPI().url)
        self.assertIn('not started', str(error))

    def test_loopback_socket(self):
        sock = glance_api.bind_loopback_socket()
        self.addCleanup(sock.close)
        host, port = sock.getsockname()
        self.assertEqual('127.0.0.1', host)
        self.assertGreater(port, 0)
