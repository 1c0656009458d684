"""Grid filters and weighers change real placements in a real Nova.

Starts Nova's API, conductor, scheduler, Placement and three fake computes
in-process (``tests.functional.nova_base``), creates aggregates and
flavors through the admin API, and boots servers through the real
scheduler. Each filter and weigher is shown to move a server compared
with a control run of the same request without it (the scheduler is
restarted without that filter, or with the weigher's multiplier at 0);
the API refuses bad ``grid:`` extra specs with HTTP 400; a rebuild and a
multi-create behave as the filters' docstrings say.

Hosts are ranked host1 > host2 > host3 by ``GridBenchmarkWeigher``
(``grid_hepscore`` 30, 20, 10), so a control run lands on host1, and a
policy that refuses host1 sends the server to host2.
"""

import datetime
import json
import os

import fixtures
from nova.conf import scheduler as nova_scheduler_conf
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional.api import client
from oslo_config import cfg

from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.conf import scheduler as scheduler_conf
from stratuslab_plugins.grid import values
from stratuslab_plugins.scheduler import site
from tests.functional import nova_base
from tests import gocdb
from tests import site_files

CONF = cfg.CONF

NOVA_DEFAULT_FILTERS = next(
    opt.default for opt in nova_scheduler_conf.filter_scheduler_opts
    if opt.name == 'enabled_filters')
GRID_FILTERS = ['GridVOIsolationFilter', 'GridDowntimeFilter',
                'GridPartitionFilter', 'GridBenchmarkFilter']
GRID_WEIGHERS = 'stratuslab_plugins.scheduler.weighers.all_weighers'
MULTIPLIERS = ('energy_weight_multiplier', 'benchmark_weight_multiplier',
               'resilience_weight_multiplier', 'drain_weight_multiplier')

# The API's project: the mapping file makes it an atlas project.
PROJECT = nova_fixtures.PROJECT_ID
HOSTS = ('host1', 'host2', 'host3')
# What every flavor of a scenario carries unless it tests it: a VO host1
# is dedicated to, and preemptible so that host1's batch partition takes
# it.
NEUTRAL = {'grid:vo': 'cms', 'grid:preemptible': 'true'}


def iso(hours):
    moment = datetime.datetime.now(datetime.timezone.utc)
    return (moment + datetime.timedelta(hours=hours)).isoformat()


class GridSchedulingTestCase(nova_base.NovaTestCase):

    available_filters = ('stratuslab_plugins.scheduler.filters.all_filters',)
    enabled_filters = NOVA_DEFAULT_FILTERS + GRID_FILTERS
    weight_classes = [GRID_WEIGHERS]

    def configure_scheduler(self):
        super().configure_scheduler()
        grid_conf.register_opts(CONF)
        scheduler_conf.register_opts(CONF)
        site.reset()
        self.addCleanup(site.reset)
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.flags(vo_mapping_file=self.write('vos.json',
                                              {'atlas': [PROJECT]}),
                   group='grid')
        self.status_file = os.path.join(self.tmp, 'batch.json')
        self.flags(partition_status_file=self.status_file,
                   group='grid_scheduler')
        # Only the benchmark weigher ranks hosts unless a test says so.
        for name in MULTIPLIERS:
            self.set_multiplier(name, 0.0)
        self.set_multiplier('benchmark_weight_multiplier', 1.0)

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as stream:
            json.dump(content, stream)
        return path

    def set_multiplier(self, name, value):
        self.flags(**{name: value, 'group': 'grid_scheduler'})

    def setUp(self):
        super().setUp()
        self.start_computes(*HOSTS)
        for hostname, score in zip(HOSTS, ('30', '20', '10')):
            self.aggregate('bench-' + hostname, [hostname],
                           grid_hepscore=score)

    def aggregate(self, name, hosts, **metadata):
        agg = self.admin_api.post_aggregate({'aggregate': {'name': name}})
        for hostname in hosts:
            self.admin_api.add_host_to_aggregate(agg['id'], hostname)
        self.admin_api.post_aggregate_action(
            agg['id'], {'set_metadata': {'metadata': metadata}})
        return agg

    def flavor(self, **extra_specs):
        return self._create_flavor(memory_mb=256, vcpu=1, disk=1,
                                   ephemeral=0, extra_spec=extra_specs)

    def boot(self, flavor_id):
        server = self._create_server(flavor_id=flavor_id, networks='none')
        return self.host_of(server)

    def restart_scheduler(self, enabled_filters):
        self.scheduler_service.stop()
        self.flags(enabled_filters=enabled_filters, group='filter_scheduler')
        self.scheduler_service = self.start_service('scheduler')


class TestGridFilters(GridSchedulingTestCase):

    def test_each_filter_moves_a_server_off_its_control_host(self):
        # host1: dedicated to cms, a batch node, a downtime in 2 hours.
        self.aggregate('host1-policy', ['host1'], grid_vos='cms',
                       grid_partition='batch',
                       grid_downtime='%s/%s' % (iso(2), iso(3)))
        scenarios = {
            # atlas (the project's VO) may not use cms's host1.
            'GridVOIsolationFilter': self.flavor(**{
                'grid:preemptible': 'true'}),
            # lives 3 hours: host1's downtime starts before its end.
            'GridDowntimeFilter': self.flavor(**dict(
                NEUTRAL, **{'grid:max_lifetime': '10800'})),
            # not preemptible: host1 is a batch node.
            'GridPartitionFilter': self.flavor(**{'grid:vo': 'cms'}),
            # quotes HEPscore23 20 to the accounting: host2 only.
            'GridBenchmarkFilter': self.flavor(**dict(
                NEUTRAL, **{'accounting:benchmark_value': '20'})),
        }

        self.assertEqual('host1', self.boot(self.flavor(**NEUTRAL)))
        for name, flavor_id in scenarios.items():
            self.assertEqual('host2', self.boot(flavor_id), name)

        for name, flavor_id in scenarios.items():
            self.restart_scheduler(
                NOVA_DEFAULT_FILTERS + [f for f in GRID_FILTERS if f != name])
            self.assertEqual('host1', self.boot(flavor_id),
                             'control without %s' % name)

    def test_rebuild_and_multi_create(self):
        atlas = self.flavor(**{'grid:preemptible': 'true'})
        self.aggregate('cms-only', ['host1'], grid_vos='cms')
        server = self._create_server(flavor_id=atlas, networks='none')
        self.assertEqual('host2', self.host_of(server))

        # Rebuild: the filters do not run (RUN_ON_REBUILD = False), so a
        # host that entered a downtime keeps rebuilding what it runs.
        self.aggregate('host2-down', ['host2'],
                       grid_downtime='%s/%s' % (iso(-1), iso(1)))
        other = next(image['id'] for image in (
            nova_fixtures.GlanceFixture.image1,
            nova_fixtures.GlanceFixture.image2)
            if image['id'] != server['image']['id'])
        self.api.post_server_action(
            server['id'], {'rebuild': {'imageRef': other}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual('host2', self.host_of(server))
        self.assertEqual(other, server['image']['id'])

        # Multi-create: the filters run once per request and every
        # instance gets a host they kept (host3: host1 is cms's, host2 is
        # in downtime).
        body = self._build_server(flavor_id=atlas, networks='none')
        body.update(min_count=3, max_count=3, return_reservation_id=True)
        reservation = self.api.post_server({'server': body})
        servers = self.api.get_servers(
            search_opts={'reservation_id': reservation['reservation_id']})
        self.assertEqual(3, len(servers))
        for created in servers:
            created = self._wait_for_state_change(created, 'ACTIVE')
            self.assertEqual('host3', self.host_of(created))

    def test_api_refuses_bad_grid_extra_specs(self):
        flavor_id = self.flavor()
        self.admin_api.microversion = '2.86'
        for spec in ({'grid:min_hepscore': 'fast'},
                     {'grid:preemptible': 'maybe'},
                     {'grid:no_such_key': '1'}):
            exc = self.assertRaises(
                client.OpenStackApiException, self.admin_api.post_extra_spec,
                flavor_id, {'extra_specs': spec})
            self.assertEqual(400, exc.response.status_code, spec)
        self.admin_api.post_extra_spec(
            flavor_id, {'extra_specs': {'grid:min_hepscore': '15.5'}})


class TestGridWeighers(GridSchedulingTestCase):

    enabled_filters = NOVA_DEFAULT_FILTERS

    def test_each_weigher_moves_a_server_from_its_control(self):
        plain = self.flavor()

        # GridEnergyWeigher: host1 is in standby.
        self.aggregate('sleepy', ['host1'], grid_power_state='standby')
        self.assertEqual('host1', self.boot(plain))
        self.set_multiplier('energy_weight_multiplier', 10.0)
        self.assertEqual('host2', self.boot(plain))
        self.set_multiplier('energy_weight_multiplier', 0.0)

        # GridResilienceWeigher: atlas now runs on host1 and host2, both
        # in rack-a; rack-b (host3) has none.
        self.aggregate('rack-a', ['host1', 'host2'],
                       grid_failure_domain='rack-a')
        self.aggregate('rack-b', ['host3'], grid_failure_domain='rack-b')
        self.assertEqual('host1', self.boot(plain))
        self.set_multiplier('resilience_weight_multiplier', 10.0)
        self.assertEqual('host3', self.boot(plain))
        self.set_multiplier('resilience_weight_multiplier', 0.0)

        # GridDrainWeigher: the batch side drains host2.
        self.write('batch.json', {'hosts': {'host2': 'draining'}})
        self.assertEqual('host1', self.boot(plain))
        self.set_multiplier('drain_weight_multiplier', 10.0)
        self.assertEqual('host2', self.boot(plain))
        self.set_multiplier('drain_weight_multiplier', 0.0)

        # GridBenchmarkWeigher: its sign turns the ranking over, and an
        # aggregate's own multiplier overrides the option for its hosts.
        self.set_multiplier('benchmark_weight_multiplier', -1.0)
        self.assertEqual('host3', self.boot(plain))
        self.aggregate('boost-host2', ['host2'],
                       grid_benchmark_weight_multiplier='100')
        self.assertEqual('host2', self.boot(plain))


class TestHostileInput(GridSchedulingTestCase):
    """Hostile hints, extra specs and site files, through a real Nova.

    Starts Nova's API, conductor, scheduler and three fake computes
    in-process, with the grid filters and weighers. Proves that nova-api
    answers 400 to every grid: extra spec the filters would refuse, that a
    hostile hint and broken site files (GOCDB XML with a Unicode digit,
    JSON nested 100,000 deep, a YAML alias bomb, a 200 MB file) never stop
    scheduling, and that the site files' last good content stays in force.
    """

    def configure_scheduler(self):
        super().configure_scheduler()
        self.downtime_file = os.path.join(self.tmp, 'downtimes.xml')
        self.flags(downtime_file=self.downtime_file, group='grid_scheduler')

    def replace(self, path, text, mtime):
        with open(path, 'w') as stream:
            stream.write(text)
        os.utime(path, ns=(mtime, mtime))

    def test_api_refuses_what_the_filters_would_refuse(self):
        flavor_id = self.flavor()
        self.admin_api.microversion = '2.86'
        # Each was accepted by nova-api before, then overflowed in the
        # downtime filter or was ignored by the filters.
        for spec in ({'grid:max_lifetime': '9' * 401},
                     {'grid:min_hepscore': '9' * 401},
                     {'grid:min_hepscore': '0'},
                     {'grid:vo': 'a' * 256},
                     {'grid:max_lifetime': '3153600001'}):
            exc = self.assertRaises(
                client.OpenStackApiException, self.admin_api.post_extra_spec,
                flavor_id, {'extra_specs': spec})
            self.assertEqual(400, exc.response.status_code, spec)
        # What nova-api takes, the filters read: 't' is true to both.
        self.admin_api.post_extra_spec(flavor_id, {'extra_specs': {
            'grid:preemptible': 't', 'grid:vo': 'cms',
            'grid:max_lifetime': str(values.MAX_LIFETIME)}})
        self.assertEqual(3153600000, values.MAX_LIFETIME)
        self.aggregate('batch', ['host1'], grid_partition='batch')
        self.assertEqual('host1', self.boot(flavor_id))

    def test_hostile_hints_do_not_stop_scheduling(self):
        # A downtime on host1 in two hours: a lifetime hint the filter
        # read would move the server, a hint it ignores does not.
        self.aggregate('host1-down', ['host1'],
                       grid_downtime='%s/%s' % (iso(2), iso(3)))
        # No grid:vo on the flavor, so that the VO hint is read.
        body = self._build_server(
            flavor_id=self.flavor(**{'grid:preemptible': 'true'}),
            networks='none')
        # Nova checks no hint of ours: the 401-digit number overflowed the
        # downtime filter, the list (a hint given twice) the VO filter.
        hints = {'grid_lifetime': '9' * 401, 'grid_vo': ['atlas', 'cms']}
        server = self.api.post_server({'server': body,
                                       'os:scheduler_hints': hints})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual('host1', self.host_of(server))
        self.assertIn("grid_lifetime='9999", self.stdlog.logger.output)
        self.assertIn('grid_vo=a list is not a VO name',
                      self.stdlog.logger.output)

    def test_broken_site_files_keep_their_last_good_content(self):
        # GOCDB says host1 is down now; the batch side says host2 is a
        # batch node: a plain flavor goes to host3.
        now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        self.replace(self.downtime_file, gocdb.get_downtime(gocdb.downtime(
            'host1', now - 3600, now + 3600)), 1)
        self.replace(self.status_file, '{"hosts": {"host2": "batch"}}', 1)
        plain = self.flavor(**{'grid:vo': 'cms'})
        self.assertEqual('host3', self.boot(plain))

        broken = [
            # A Unicode digit in a GOCDB date: ValueError out of the
            # downtime filter before.
            (self.downtime_file, gocdb.get_downtime(gocdb.downtime(
                'host1', '177243840²', now + 3600))),
            # RecursionError out of the downtime filter before.
            (self.downtime_file, '[' * 100000),
            # Minutes of CPU in PyYAML before.
            (self.status_file, site_files.alias_bomb(6)),
            # A YAML date that does not exist: ValueError before.
            (self.status_file, 'hosts: {host2: 2026-13-01}'),
        ]
        for mtime, (path, text) in enumerate(broken, 2):
            self.replace(path, text, mtime)
            self.assertEqual('host3', self.boot(plain), text[:40])

        # 200 MB (sparse): refused from its size, not read.
        with open(self.downtime_file, 'wb') as stream:
            stream.truncate(200 * 1024 * 1024)
        self.assertEqual('host3', self.boot(plain))
        self.assertEqual(5, self.stdlog.logger.output.count(
            'keeping its last good content'))
        self.assertIn('is larger than 2097152 bytes',
                      self.stdlog.logger.output)
