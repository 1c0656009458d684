"""The sandbox scenario, run by the functional suite.

Starts what ``stratuslab-sandbox`` starts (Nova in-process with our
filters and weighers over four fake computes, Debian's docker-registry, a
real glance-api with the ``appliance`` store, the accounting on SQLite)
and runs the same scenario, then checks the placements, the appliance's
trust and checksums, and that every queued APEL message parses back, as
the repository reads it, into one record per server.
"""

import hashlib
import io
import json
import os

import fixtures

from stratuslab_plugins.sandbox import runner
from stratuslab_plugins.sandbox import site


class TestSandboxScenario(runner.SandboxNovaCase):

    def setUp(self):
        self.workdir = self.useFixture(fixtures.TempDir()).path
        self.out = io.StringIO()
        super().setUp()

    def test_scenario(self):
        report = self.run_scenario()

        hosts = {p['server']: p['host'] for p in report['placements']}
        # atlas-wn2 is in downtime; biomed hosts are biomed's.
        self.assertEqual('atlas-wn1', hosts['atlas-simulation-1'])
        self.assertEqual('atlas-wn1', hosts['atlas-simulation-2'])
        self.assertEqual('atlas-wn1', hosts['atlas-hostile-name'])
        # biomed-wn2 is lent to the batch system: preemptible work only.
        self.assertEqual('biomed-wn1', hosts['biomed-analysis'])
        self.assertIn(hosts['biomed-preemptible'],
                      ('biomed-wn1', 'biomed-wn2'))

        why = {p['server']: p['why'] for p in report['placements']}
        self.assertIn('GridDowntimeFilter refused atlas-wn2',
                      why['atlas-simulation-1'])
        self.assertIn('GridPartitionFilter refused biomed-wn2',
                      why['biomed-analysis'])

        appliance = report['appliance']
        self.assertTrue(all(v['trusted'] for v in appliance['verdicts']))
        image = site.appliance_image()
        self.assertEqual(hashlib.sha512(image).hexdigest(),
                         appliance['sha512'])
        self.assertEqual(appliance['sha512'],
                         report['glance_image']['os_hash_value'])
        self.assertEqual('appliance', report['glance_image']['stores'])

        # Every server, the deleted one included, is in the queue once.
        records = {r['VMUUID']: r for r in report['records']}
        self.assertEqual(sorted(p['id'] for p in report['placements']),
                         sorted(records))
        self.assertEqual(len(site.SERVERS),
                         report['accounting']['queued_records'])
        self.assertEqual(report['accounting']['messages'],
                         report['accounting']['queued_messages'])
        by_name = {p['server']: records[p['id']]
                   for p in report['placements']}
        self.assertEqual('completed', by_name['biomed-analysis']['Status'])
        self.assertEqual('suspended', by_name['atlas-simulation-2']['Status'])
        self.assertEqual('/atlas/Role=NULL/Capability=NULL',
                         by_name['atlas-simulation-1']['FQAN'])
        hostile = by_name['atlas-hostile-name']['MachineName']
        self.assertNotIn('\n', hostile)
        self.assertNotIn('%%', hostile)
        hostile.encode('ascii')

        with open(os.path.join(self.workdir, 'report.json')) as f:
            self.assertEqual(len(site.SERVERS),
                             len(json.load(f)['placements']))
        self.assertIn('[9/9]', self.out.getvalue())
