"""The grid weighers on Nova's FakeHostState, through Nova's handler."""

import json
import logging
import os

import fixtures
from nova import objects
from nova.scheduler import weights
from oslo_utils import uuidutils

from stratuslab_plugins.scheduler.weighers import benchmark
from stratuslab_plugins.scheduler.weighers import drain
from stratuslab_plugins.scheduler.weighers import energy
from stratuslab_plugins.scheduler.weighers import resilience
from tests.unit.scheduler import grid_fakes as gf

RESOURCES = {'vcpus_total': 8, 'vcpus_used': 0, 'total_usable_ram_mb': 8192,
             'free_ram_mb': 8192}


def resources(**changes):
    return dict(RESOURCES, **changes)


class WeigherTestCase(gf.SchedulerTestCase):

    def ranked(self, weigher_cls, hosts, spec=None):
        """Host names best first, as Nova's weight handler ranks them."""
        handler = weights.HostWeightHandler()
        weighed = handler.get_weighed_objects(
            [weigher_cls()], hosts, spec or gf.spec())
        weighed.sort(key=lambda w: -w.weight)
        return [w.obj.host for w in weighed]


class TestGridEnergyWeigher(WeigherTestCase):

    def test_busy_efficient_on_first_standby_last(self):
        hosts = [
            gf.host('standby', gf.aggregate(grid_power_state='standby'),
                    **resources(vcpus_used=7)),
            gf.host('idle', **resources()),
            gf.host('busy', **resources(vcpus_used=6)),
            gf.host('busy-efficient',
                    gf.aggregate(grid_energy_efficiency='2.0'),
                    **resources(vcpus_used=6)),
        ]

        self.assertEqual(['busy-efficient', 'busy', 'idle', 'standby'],
                         self.ranked(energy.GridEnergyWeigher, hosts))

    def test_multiplier_per_aggregate(self):
        hosts = [gf.host('idle', **resources()),
                 gf.host('busy', gf.aggregate(
                     grid_energy_weight_multiplier='-1.0'),
                     **resources(free_ram_mb=1024))]

        self.assertEqual(['idle', 'busy'],
                         self.ranked(energy.GridEnergyWeigher, hosts))


class TestGridBenchmarkWeigher(WeigherTestCase):

    def test_faster_first_and_negative_multiplier(self):
        hosts = [gf.host('slow', gf.aggregate(grid_hepscore='10')),
                 gf.host('fast', gf.aggregate(grid_hepscore='20')),
                 gf.host('unknown')]

        self.assertEqual(['fast', 'slow', 'unknown'],
                         self.ranked(benchmark.GridBenchmarkWeigher, hosts))
        self.flags(benchmark_weight_multiplier=-1.0)
        self.assertEqual(['unknown', 'slow', 'fast'],
                         self.ranked(benchmark.GridBenchmarkWeigher, hosts))


def instance(project_id):
    return objects.Instance(uuid=uuidutils.generate_uuid(),
                            project_id=project_id)


class TestGridResilienceWeigher(WeigherTestCase):

    def test_spreads_a_vo_across_failure_domains(self):
        rack_a = gf.aggregate(grid_failure_domain='rack-a')
        rack_b = gf.aggregate(grid_failure_domain='rack-b')
        hosts = [
            gf.host('a1', rack_a),
            gf.host('a2', rack_a),
            gf.host('b1', rack_b),
        ]
        # One atlas instance (another atlas project) in rack a, two cms
        # instances in rack b: rack b is the better place for atlas.
        hosts[0].instances = {'i1': instance('p-atlas2')}
        hosts[2].instances = {'i2': instance('p-cms'),
                              'i3': instance('p-cms')}

        self.assertEqual('b1', self.ranked(
            resilience.GridResilienceWeigher, hosts, gf.spec('p-atlas'))[0])
        self.assertNotEqual('b1', self.ranked(
            resilience.GridResilienceWeigher, hosts, gf.spec('p-cms'))[0])


class TestGridDrainWeigher(WeigherTestCase):

    def test_sign_chooses_fill_or_spare(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 's')
        with open(path, 'w') as stream:
            json.dump({'hosts': {'wn2': 'draining'}}, stream)
        self.flags(partition_status_file=path)
        hosts = [gf.host('wn1'), gf.host('wn2'), gf.host('wn3')]

        self.assertEqual('wn2',
                         self.ranked(drain.GridDrainWeigher, hosts)[0])
        self.flags(drain_weight_multiplier=-2.0)
        self.assertEqual('wn2',
                         self.ranked(drain.GridDrainWeigher, hosts)[-1])


class TestMultipliersThatAreNotFinite(WeigherTestCase):

    def hosts(self):
        return [gf.host('slow', gf.aggregate(grid_hepscore='10')),
                gf.host('fast', gf.aggregate(grid_hepscore='20'))]

    def test_option_is_ignored_with_one_warning(self):
        # grid_*_weight_multiplier = nan made every weight NaN.
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        self.flags(benchmark_weight_multiplier=float('nan'))
        weigher = benchmark.GridBenchmarkWeigher()
        for _ in range(3):
            weighed = weights.HostWeightHandler().get_weighed_objects(
                [weigher], self.hosts(), gf.spec())
            self.assertEqual(['fast', 'slow'],
                             [w.obj.host for w in weighed])
            self.assertEqual([1.0, 0.0], [w.weight for w in weighed])
        self.assertEqual(1, logs.output.count(
            '[grid_scheduler] benchmark_weight_multiplier=nan is not a '
            'number from -1e+06 to 1e+06; using the default, 1.0, instead.'))

    def test_aggregate_key_is_ignored_with_one_warning(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        self.flags(benchmark_weight_multiplier=-1.0)
        bad = gf.aggregate(name='rack9',
                           grid_benchmark_weight_multiplier='inf')
        hosts = [gf.host('slow', gf.aggregate(grid_hepscore='10')),
                 gf.host('fast', gf.aggregate(grid_hepscore='20'), bad)]
        for _ in range(3):
            # The option (-1) applies: the slow host first.
            self.assertEqual(['slow', 'fast'], self.ranked(
                benchmark.GridBenchmarkWeigher, hosts))
        self.assertEqual(1, logs.output.count('Aggregate rack9'))
