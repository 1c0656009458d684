"""Batch/cloud partition states and the batch side's status file."""

import json

import hypothesis
from hypothesis import strategies as st
import testtools
import yaml

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import partition
from tests.unit.grid import fuzzing


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


class TestHostileStatusFiles(testtools.TestCase):

    def parse(self, text):
        return fuzzing.assert_contained(
            self, lambda t: partition.parse_status_file('/run/batch.json', t),
            text, exceptions.SourceFileError)

    def assertRefused(self, text, fragment):
        exc = self.parse(text)
        self.assertIsInstance(exc, exceptions.SourceFileError)
        self.assertIn(fragment, str(exc))

    def test_review_probes(self):
        # Each raised RecursionError, ValueError or ran for minutes.
        self.assertRefused(fuzzing.nested(100000), 'nested more than')
        self.assertRefused('hosts: {wn01: 2026-13-01}', 'month must be')
        self.assertRefused(fuzzing.alias_bomb(6), 'YAML alias')

    def test_entries_of_the_wrong_type(self):
        self.assertRefused('{"hosts": {"wn01": ["batch"]}}',
                           "host wn01 has state a list")
        self.assertRefused('hosts: {[a, b]: batch}', 'neither JSON nor YAML')
        self.assertRefused('hosts: {12: batch}', 'names a host 12')

    @fuzzing.FUZZ
    @hypothesis.given(st.one_of(
        st.fixed_dictionaries({'hosts': st.dictionaries(
            fuzzing.hostile_text,
            st.one_of(st.sampled_from(partition.STATES),
                      fuzzing.json_values), max_size=5)}),
        fuzzing.json_values), st.booleans())
    def test_any_document(self, content, as_yaml):
        text = yaml.safe_dump(content) if as_yaml else json.dumps(content)
        table = self.parse(text)
        if isinstance(table, dict):
            self.assertTrue(set(table.values()) <= set(partition.STATES))
