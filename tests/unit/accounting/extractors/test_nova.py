"""The nova extractor's fallbacks, against Nova's JSON shapes over HTTP.

The record fields themselves are checked against a real in-process Nova
in ``tests/functional/accounting``; here the cases that Nova's harness
does not produce: flavors whose extra specs a policy hides, an aggregate
with a malformed ``grid_hepscore``, servers that never launched.
"""

import dataclasses
import datetime

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting.extractors import nova
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting import fakes
from tests.unit.cmd import test_accounting as cmd_tests

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 2, tzinfo=UTC)


class TestNovaFallbacks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        servers = [cmd_tests.server(i, 'p1') for i in range(4)]
        for server in servers:
            # What a user without the flavor-extra-specs policy sees.
            del server['flavor']['extra_specs']
        servers[3]['OS-SRV-USG:launched_at'] = None
        servers[2]['status'] = 'SHUTOFF'
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/servers/detail': ('servers', servers)},
            documents={
                '/os-aggregates': {'aggregates': [
                    {'name': 'bad', 'hosts': ['host1'],
                     'metadata': {'grid_hepscore': 'fast'}},
                    {'name': 'fast', 'hosts': ['host9'],
                     'metadata': {'grid_hepscore': '12.5'}}]},
                '/flavors/detail': {'flavors': [
                    {'id': 'f1', 'name': 'm1.small'}]},
                '/flavors/f1/os-extra_specs': {'extra_specs': {
                    'accounting:benchmark_type': 'HS06',
                    'accounting:benchmark_value': '8'}},
            }))
        self.session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=self.cloud.url))

    def test_hidden_extra_specs_and_bad_hepscore(self):
        extractor = nova.NovaExtractor(fakes.make_conf(), self.session)
        found = list(extractor.extract(NOW - datetime.timedelta(days=1),
                                       NOW, fakes.context()))

        # Server 3 never launched; server 2 is shut off: reported once,
        # from the changes-since listing, ended at its last update.
        self.assertEqual(3, len(found))
        self.assertEqual({('HS06', 8.0)},
                         {(r.benchmark_type, r.benchmark) for r in found})
        paths = [path for path, _ in self.cloud.requests]
        self.assertEqual(1, paths.count('/flavors/detail'))
        self.assertEqual(1, paths.count('/flavors/f1/os-extra_specs'))
        stopped = [r for r in found if r.status == 'completed']
        self.assertEqual([nova.parse_time('2026-11-01T01:00:00Z')],
                         [r.end_time for r in stopped])
        self.assertEqual([3600], [r.wall_duration for r in stopped])

    def test_measured_usage_replaces_the_api_estimate(self):
        seen = []

        def refine(usages):
            seen.append(len(usages))
            for usage in usages:
                usage.cpu_seconds = 42
                usage.suspend_seconds = 7
            return usages

        context = fakes.context()
        context.refine_usages = refine
        extractor = nova.NovaExtractor(fakes.make_conf(
            accounting={'page_size': 2}), self.session)
        found = list(extractor.extract(NOW, NOW, context))
        self.assertEqual({(42, 7)}, {(r.cpu_duration, r.suspend_duration)
                                     for r in found})
        self.assertEqual([2, 1], seen)

    def test_purged_vms_get_their_host_benchmark(self):
        # VMs only the usage ledger saw (created and purged between runs).
        purged = [dataclasses.replace(usage, host=host) for usage, host in
                  zip(fakes.usages(3, project='p2'),
                      ('host9', 'elsewhere', None))]
        context = fakes.context()
        context.unseen_usages = (
            lambda since, until, seen, projects=None: purged)
        extractor = nova.NovaExtractor(fakes.make_conf(), self.session)
        found = {r.vm_uuid: r for r in extractor.extract(NOW, NOW, context)}
        self.assertEqual(
            [('HEPscore23', 12.5), (None, None), (None, None)],
            [(found[u.uuid].benchmark_type, found[u.uuid].benchmark)
             for u in purged])
        paths = [path for path, _ in self.cloud.requests]
        self.assertEqual(1, paths.count('/os-aggregates'))
