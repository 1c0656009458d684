"""devstack/settings and devstack/plugin.sh, phase by phase.

No public devstack plugin unit-tests its plugin.sh; we source the real
files in bash with devstack's helpers replaced by recording stand-ins
(fake_devstack.sh, fake_ini.py) and assert on the configuration each
phase leaves behind.
"""

import json
import os
import subprocess

import fixtures
from keystoneauth1 import loading as ks_loading
from oslotest import base
import yaml

from stratuslab_plugins import conf
from stratuslab_plugins.conf import image as image_conf

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
OURS = 'stratuslab_plugins.scheduler.filters.all_filters'
OUR_WEIGHERS = 'stratuslab_plugins.scheduler.weighers.all_weighers'
OUR_FILTERS = ['GridVOIsolationFilter', 'GridDowntimeFilter',
               'GridPartitionFilter', 'GridBenchmarkFilter']


class DevstackPluginTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.nova_conf = self._path('nova.conf.json')
        self.glance_conf = self._path('glance-api.conf.json')
        self.log = self._path('calls.log')
        self.env = {
            'PATH': os.environ['PATH'],
            'FAKE_DEVSTACK_DIR': HERE,
            'FAKE_DEVSTACK_LOG': self.log,
            'DEST': self._path('opt'),
            'DATA_DIR': self._path('data'),
            'NOVA_CONF': self.nova_conf,
            'GLANCE_API_CONF': self.glance_conf,
            'GLANCE_IMAGE_DIR': self._path('data/glance/images'),
            'GLANCE_STAGING_DIR': self._path('data/glance/staging'),
            'GLANCE_TASKS_DIR': self._path('data/glance/tasks'),
            'STACK_USER': subprocess.check_output(
                ['id', '-un'], text=True).strip(),
            'STRATUSLAB_CONF_DIR': self._path('etc/stratuslab'),
            'STRATUSLAB_CRON_FILE': self._path('cron.d/stratuslab'),
            'ENABLED_SERVICES': 'n-api,n-sch,n-cpu,g-api,rabbit',
        }
        os.makedirs(self._path('cron.d'))

    def _path(self, name):
        return os.path.join(self.tmp, name)

    def run_phase(self, *args, **overrides):
        env = dict(self.env, **overrides)
        script = ('set -e; source "$FAKE_DEVSTACK_DIR/fake_devstack.sh"; '
                  'source "%s/devstack/settings"; '
                  'source "%s/devstack/plugin.sh" %s'
                  % (TOP, TOP, ' '.join(args)))
        result = subprocess.run(['bash', '-c', script], env=env,
                                capture_output=True, text=True)
        self.assertEqual(0, result.returncode,
                         'phase %s failed: %s' % (args, result.stderr))
        return result

    def ini(self, path):
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return json.load(f)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def seed_ini(self, path, section, option, *values):
        data = self.ini(path)
        data.setdefault(section, {})[option] = list(values)
        with open(path, 'w') as f:
            json.dump(data, f)


class TestPostConfigNova(DevstackPluginTestCase):

    def test_keeps_nova_filters_and_adds_ours(self):
        self.run_phase('stack', 'post-config')

        scheduler = self.ini(self.nova_conf)['filter_scheduler']
        self.assertEqual(['nova.scheduler.filters.all_filters', OURS],
                         scheduler['available_filters'])
        enabled = scheduler['enabled_filters'][0].split(',')
        self.assertEqual('ComputeFilter', enabled[0])
        self.assertEqual(OUR_FILTERS, enabled[-4:])
        self.assertEqual(
            ['nova.scheduler.weights.all_weighers', OUR_WEIGHERS],
            scheduler['weight_classes'][0].split(','))

    def test_second_run_adds_no_duplicates(self):
        self.run_phase('stack', 'post-config')
        first = self.ini(self.nova_conf)
        self.run_phase('stack', 'post-config')
        self.assertEqual(first, self.ini(self.nova_conf))

    def test_existing_enabled_filters_are_kept_in_order(self):
        self.seed_ini(self.nova_conf, 'filter_scheduler', 'enabled_filters',
                      'AvailabilityZoneFilter,GridDowntimeFilter')
        self.run_phase('stack', 'post-config')
        enabled = self.ini(self.nova_conf)['filter_scheduler'][
            'enabled_filters'][0].split(',')
        self.assertEqual(['AvailabilityZoneFilter', 'GridDowntimeFilter',
                          'GridVOIsolationFilter', 'GridPartitionFilter',
                          'GridBenchmarkFilter'], enabled)

    def test_versioned_notifications_and_usage_audit(self):
        self.run_phase('stack', 'post-config')
        nova = self.ini(self.nova_conf)
        self.assertEqual(['versioned'],
                         nova['notifications']['notification_format'])
        self.assertEqual(['messagingv2'],
                         nova['oslo_messaging_notifications']['driver'])
        self.assertEqual(['True'], nova['DEFAULT']['instance_usage_audit'])

    def test_ceilometer_keeps_unversioned_notifications(self):
        self.run_phase('stack', 'post-config',
                       ENABLED_SERVICES='n-api,ceilometer')
        self.assertEqual(['both'], self.ini(self.nova_conf)[
            'notifications']['notification_format'])

    def test_scheduler_can_be_left_alone(self):
        self.run_phase('stack', 'post-config',
                       STRATUSLAB_ENABLE_SCHEDULER='False')
        self.assertNotIn('filter_scheduler', self.ini(self.nova_conf))

    def test_vo_map_names_two_vos(self):
        self.run_phase('stack', 'post-config', STRATUSLAB_VOS='cms,lhcb')
        with open(self._path('etc/stratuslab/vo-map.yaml')) as f:
            self.assertEqual({'cms': ['demo'], 'lhcb': ['alt_demo']},
                             yaml.safe_load(f))
        self.assertEqual([self._path('etc/stratuslab/vo-map.yaml')],
                         self.ini(self.nova_conf)['grid']['vo_mapping_file'])


class TestPostConfigGlance(DevstackPluginTestCase):

    def test_single_store_becomes_multi_store(self):
        self.run_phase('stack', 'post-config')
        glance = self.ini(self.glance_conf)
        self.assertEqual(['file:file,appliance:appliance'],
                         glance['DEFAULT']['enabled_backends'])
        self.assertEqual(['file'], glance['glance_store']['default_backend'])
        self.assertEqual(['http://127.0.0.1:5050'],
                         glance['appliance']['appliance_registry_url'])
        self.assertIn('filesystem_store_datadir',
                      glance['os_glance_staging_store'])
        # The appliance sync's locations are recorded, not read.
        self.assertEqual(['False'], glance['DEFAULT']['do_secure_hash'])

    def test_existing_backends_are_kept(self):
        self.seed_ini(self.glance_conf, 'DEFAULT', 'enabled_backends',
                      'cheap:file,web:http')
        self.seed_ini(self.glance_conf, 'glance_store', 'default_backend',
                      'cheap')
        self.run_phase('stack', 'post-config')
        glance = self.ini(self.glance_conf)
        self.assertEqual(['cheap:file,web:http,appliance:appliance'],
                         glance['DEFAULT']['enabled_backends'])
        self.assertEqual(['cheap'], glance['glance_store']['default_backend'])

    def test_accounting_config_uses_the_accounting_options(self):
        self.run_phase('stack', 'post-config',
                       KEYSTONE_SERVICE_URI='http://127.0.0.1/identity',
                       ADMIN_PASSWORD='pw')
        conf = self.ini(self._path('etc/stratuslab/accounting.conf'))
        self.assertEqual(['ssm'], conf['accounting']['messengers'])
        self.assertEqual(
            ['sqlite:///%s' % self._path('data/stratuslab/accounting.sqlite')],
            conf['accounting']['ledger_connection'])
        self.assertEqual([self._path('data/stratuslab/outgoing')],
                         conf['accounting_ssm']['output_path'])
        self.assertEqual(['http://127.0.0.1/identity'],
                         conf['accounting_keystone']['auth_url'])
        self.assertEqual(['rabbit://stackrabbit:secret@127.0.0.1:5672/'],
                         conf['oslo_messaging_notifications']['transport_url'])
        # The scheduler and the accounting both read the VO property.
        for section in (conf, self.ini(self.nova_conf)):
            self.assertEqual(['admin'], section['grid_keystone']['username'])

    def ledgers(self):
        """The ledger URL of accounting.conf and of api.conf."""
        return [self.ini(self._path('etc/stratuslab/%s.conf' % name))[
            'accounting']['ledger_connection'] for name in ('accounting',
                                                            'api')]

    def test_ledger_goes_into_devstacks_mysql(self):
        self.run_phase('stack', 'post-config', DATABASE_TYPE='mysql')
        url = 'mysql+pymysql://root:secret@127.0.0.1/stratuslab?charset=utf8'
        self.assertEqual([[url], [url]], self.ledgers())
        self.assertIn('recreate_database stratuslab', self.calls())

    def test_ledger_goes_into_devstacks_postgresql(self):
        self.run_phase('stack', 'post-config', DATABASE_TYPE='postgresql',
                       STRATUSLAB_DATABASE='grid_ledger')
        url = ('postgresql://root:secret@127.0.0.1/grid_ledger'
               '?client_encoding=utf8')
        self.assertEqual([[url], [url]], self.ledgers())
        self.assertIn('recreate_database grid_ledger', self.calls())

    def test_ledger_is_sqlite_only_without_a_database_server(self):
        self.run_phase('stack', 'post-config')
        url = 'sqlite:///%s' % self._path('data/stratuslab/accounting.sqlite')
        self.assertEqual([[url], [url]], self.ledgers())
        self.assertFalse([c for c in self.calls() if 'database' in c])

    def test_a_ledger_url_given_is_kept(self):
        url = 'postgresql+psycopg2://acct:pw@db.example.org/acct'
        self.run_phase('stack', 'post-config', DATABASE_TYPE='mysql',
                       STRATUSLAB_LEDGER_URL=url)
        self.assertEqual([[url], [url]], self.ledgers())
        self.assertFalse([c for c in self.calls() if 'database' in c])

    def test_registry_config_points_at_the_data_dir(self):
        self.run_phase('stack', 'post-config', STRATUSLAB_REGISTRY_PORT='5999')
        with open(self._path('etc/stratuslab/registry.yml')) as f:
            registry = yaml.safe_load(f)
        self.assertEqual('127.0.0.1:5999', registry['http']['addr'])
        self.assertTrue(registry['storage']['delete']['enabled'])
        self.assertEqual(self._path('data/stratuslab/registry'),
                         registry['storage']['filesystem']['rootdirectory'])


class TestPostConfigUsageAPIAndDashboard(DevstackPluginTestCase):

    def setUp(self):
        super().setUp()
        self.enabled_dir = self._path('horizon/local/enabled')
        os.makedirs(self.enabled_dir)
        self.env.update(STRATUSLAB_DIR=TOP, SERVICE_HOST='10.0.0.5',
                        REGION_NAME='RegionOne',
                        STRATUSLAB_HORIZON_ENABLED_DIR=self.enabled_dir)

    def test_usage_api_reads_the_accounting_ledger_and_is_in_the_catalog(self):
        self.run_phase('stack', 'post-config')
        api_conf = self._path('etc/stratuslab/api.conf')
        api = self.ini(api_conf)
        accounting = self.ini(self._path('etc/stratuslab/accounting.conf'))
        self.assertEqual(accounting['accounting']['ledger_connection'],
                         api['accounting']['ledger_connection'])
        self.assertEqual(accounting['accounting_ssm']['output_path'],
                         api['accounting_ssm']['output_path'])
        self.assertEqual({'bind_host': ['10.0.0.5'], 'bind_port': ['8779']},
                         api['accounting_api'])
        self.assertEqual([self._path('etc/stratuslab/vo-map.yaml')],
                         api['grid']['vo_mapping_file'])
        calls = self.calls()
        for call in ('create_service_user stratuslab',
                     'configure_keystone_authtoken_middleware %s stratuslab'
                     % api_conf,
                     'get_or_create_role vo_manager',
                     'get_or_create_service stratuslab-accounting accounting '
                     'Grid usage by VO (stratuslab-plugins)',
                     'get_or_create_endpoint accounting RegionOne '
                     'http://10.0.0.5:8779'):
            self.assertIn(call, calls)

    def test_no_usage_api_without_accounting(self):
        self.run_phase('stack', 'post-config',
                       STRATUSLAB_ENABLE_ACCOUNTING='False')
        self.assertFalse(os.path.exists(self._path('etc/stratuslab/api.conf')))
        self.assertFalse([c for c in self.calls() if 'accounting' in c])

    def test_panels_are_enabled_where_horizon_runs(self):
        self.run_phase('stack', 'post-config',
                       ENABLED_SERVICES='n-api,g-api,horizon')
        ours = sorted(name for name in os.listdir(os.path.join(
            TOP, 'stratuslab_plugins', 'dashboard', 'enabled'))
            if name[1].isdigit())
        self.assertEqual(6, len(ours))
        self.assertEqual(ours, sorted(os.listdir(self.enabled_dir)))

        # clean takes ours away and leaves the other plugins' files.
        with open(os.path.join(self.enabled_dir, '_1000_other.py'), 'w'):
            pass
        self.run_phase('clean')
        self.assertEqual(['_1000_other.py'], os.listdir(self.enabled_dir))

    def test_no_panels_without_horizon(self):
        self.run_phase('stack', 'post-config')
        self.assertEqual([], os.listdir(self.enabled_dir))
        self.run_phase('stack', 'post-config',
                       ENABLED_SERVICES='horizon',
                       STRATUSLAB_ENABLE_DASHBOARD='False')
        self.assertEqual([], os.listdir(self.enabled_dir))

    def test_every_option_written_is_one_of_ours(self):
        self.run_phase('stack', 'post-config',
                       ENABLED_SERVICES='n-api,n-sch,n-cpu,g-api,horizon')
        known = {group: {opt.dest for opt in opts}
                 for group, opts in conf.list_opts()}
        # Keystone groups take the options of the auth plugin they name.
        password = {opt.dest for opt in ks_loading.get_plugin_loader(
            'password').get_options()}
        for options in known.values():
            if 'auth_type' in options:
                options |= password
        known['appliance'] = ({opt.dest for opt in image_conf
                               .appliance_store_opts}
                              | {'store_description'})  # glance_store's
        for path in (self.nova_conf, self.glance_conf,
                     self._path('etc/stratuslab/accounting.conf'),
                     self._path('etc/stratuslab/api.conf')):
            for group, options in self.ini(path).items():
                if group not in known:
                    continue  # Nova's, Glance's or a library's
                with self.subTest(path=path, group=group):
                    self.assertLessEqual(set(options), known[group])


class TestOtherPhases(DevstackPluginTestCase):

    def test_install_develops_the_package(self):
        self.run_phase('stack', 'install')
        develop = 'setup_develop %s' % self._path('opt/stratuslab-plugins')
        self.assertIn(develop, self.calls())
        self.assertIn('install_package docker-registry', self.calls())

    def test_install_adds_libvirt_extra_for_the_agent(self):
        self.run_phase('stack', 'install',
                       STRATUSLAB_ENABLE_LIBVIRT_AGENT='True')
        self.assertIn('setup_develop %s libvirt'
                      % self._path('opt/stratuslab-plugins'), self.calls())

    def test_extra_starts_services_and_the_publish_timer(self):
        self.run_phase('stack', 'extra')
        calls = self.calls()
        conf_dir = self._path('etc/stratuslab')
        self.assertIn('run_process sl-registry /usr/bin/docker-registry '
                      'serve %s/registry.yml' % conf_dir, calls)
        self.assertIn('run_process sl-acct-listener '
                      '/usr/local/bin/stratuslab-accounting-listener '
                      '--config-file %s/accounting.conf' % conf_dir, calls)
        self.assertIn('run_process sl-acct-api '
                      '/usr/local/bin/stratuslab-accounting-api '
                      '--config-file %s/api.conf' % conf_dir, calls)
        with open(self._path('cron.d/stratuslab')) as f:
            cron = f.read()
        self.assertIn('stratuslab-accounting --config-file '
                      '%s/accounting.conf publish' % conf_dir, cron)

    def test_extra_creates_samples_for_two_vos(self):
        self.run_phase('stack', 'extra')
        creates = [c for c in self.calls()
                   if c.startswith('openstack') and 'aggregate create' in c]
        self.assertEqual(2, len(creates))
        self.assertIn('grid_vos=atlas', creates[0])
        self.assertIn('grid_vos=biomed', creates[1])

    def test_unstack_stops_every_service(self):
        self.run_phase('unstack')
        self.assertEqual(['stop_process sl-registry',
                          'stop_process sl-acct-listener',
                          'stop_process sl-acct-api',
                          'stop_process sl-libvirt-agent'],
                         [c for c in self.calls()
                          if c.startswith('stop_process')])

    def test_clean_removes_what_stack_wrote(self):
        self.run_phase('stack', 'post-config')
        self.run_phase('stack', 'extra')
        self.assertTrue(os.path.exists(self._path('cron.d/stratuslab')))
        self.run_phase('clean')
        self.assertFalse(os.path.exists(self._path('cron.d/stratuslab')))
        self.assertFalse(os.path.exists(self._path('etc/stratuslab')))
