"""GridPartitionFilter on Nova's FakeHostState."""

import json
import os

import fixtures

from stratuslab_plugins.scheduler.filters import partition
from tests.unit.scheduler import grid_fakes as gf


class TestGridPartitionFilter(gf.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.filt = partition.GridPartitionFilter()
        self.hosts = [
            gf.host('batch1', gf.aggregate(grid_partition='batch')),
            gf.host('mixed', gf.aggregate(grid_partition='cloud'),
                    gf.aggregate(grid_partition='batch')),
            gf.host('shared', gf.aggregate(grid_partition='shared')),
            gf.host('typo', gf.aggregate(grid_partition='bacth')),
            gf.host('wn01.example.org'),
        ]

    def run_filter(self, spec):
        return self.passing(self.filt, self.hosts, spec)

    def test_batch_hosts_take_preemptible_only(self):
        self.assertEqual(['shared', 'typo', 'wn01.example.org'],
                         self.run_filter(gf.spec()))
        self.assertEqual(5, len(self.run_filter(
            gf.spec(grid__preemptible='true'))))

    def test_status_file_wins_over_aggregates(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'batch.json')
        with open(path, 'w') as stream:
            json.dump({'hosts': {'batch1': 'draining', 'wn01': 'batch'}},
                      stream)
        self.flags(partition_status_file=path)

        self.assertEqual(['batch1', 'shared', 'typo'],
                         self.run_filter(gf.spec()))
