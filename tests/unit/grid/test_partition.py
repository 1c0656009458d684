"""Batch/cloud partition states and the batch side's status file."""

import testtools

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import partition


class TestPartition(testtools.TestCase):

    def test_accepts(self):
        self.assertFalse(partition.accepts('batch', preemptible=False))
        self.assertTrue(partition.accepts('batch', preemptible=True))
        for state in ('cloud', 'shared', 'draining', None):
            self.assertTrue(partition.accepts(state, preemptible=False))

    def test_slurm(self):
        self.assertEqual('batch', partition.state_from_slurm('mixed'))
        self.assertEqual('batch', partition.state_from_slurm('ALLOCATED*'))
        self.assertEqual('draining', partition.state_from_slurm('draining'))
        self.assertEqual('cloud', partition.state_from_slurm('drained'))
        self.assertIsNone(partition.state_from_slurm('down'))

    def test_htcondor(self):
        self.assertEqual('batch', partition.state_from_htcondor('Claimed',
                                                                'Busy'))
        self.assertEqual('draining',
                         partition.state_from_htcondor('Drained', 'Retiring'))
        self.assertEqual('cloud',
                         partition.state_from_htcondor('Drained', 'Idle'))
        self.assertEqual('cloud', partition.state_from_htcondor('Owner'))
        self.assertIsNone(partition.state_from_htcondor('Weird'))

    def test_status_file(self):
        table = partition.parse_status_file(
            'f', '{"hosts": {"WN01.example.org": "Batch", "wn02": "cloud"}}')

        self.assertEqual({'wn01.example.org': 'batch', 'wn02': 'cloud'},
                         table)
        self.assertEqual('batch', partition.status_for(
            table, ['x', 'wn01.example.org']))
        self.assertIsNone(partition.status_for(table, ['x']))

    def test_bad_status_file(self):
        for text, fragment in (('[1]', 'must hold'),
                               ('hosts: {wn01: idle}', "state 'idle'"),
                               ('hosts: [', 'neither JSON nor YAML')):
            exc = self.assertRaises(exceptions.SourceFileError,
                                    partition.parse_status_file,
                                    '/run/batch.json', text)
            self.assertIn('/run/batch.json', str(exc))
            self.assertIn(fragment, str(exc))
