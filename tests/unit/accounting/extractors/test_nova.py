"""The nova extractor's fallbacks, against Nova's JSON shapes over HTTP.

The record fields themselves are checked against a real in-process Nova
in ``tests/functional/accounting``; here the cases that Nova's harness
does not produce: flavors whose extra specs a policy hides, an aggregate
with a malformed ``grid_hepscore``, servers that never launched.
"""

import collections
import copy
import dataclasses
import datetime

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting.extractors import nova
from tests.unit.accounting import apel_oracle
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting import fakes
from tests.unit.cmd import test_accounting as cmd_tests

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 2, tzinfo=UTC)
NO_AGGREGATES = {'aggregates': []}


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


def recorded_cloud(test, servers_file, **documents):
    """Serve Nova's recorded servers and flavors over HTTP."""
    body = fake_cloud.nova_recording(servers_file)
    flavors = fake_cloud.nova_recording('flavors-detail-admin-v247.json')
    served = {'/flavors/detail': flavors, '/os-aggregates': NO_AGGREGATES}
    served.update(documents)
    cloud = test.useFixture(fake_cloud.FakeCloud(
        {'/servers/detail': ('servers', body['servers'])},
        documents=served))
    return cloud, ks_session.Session(auth=noauth.NoAuth(endpoint=cloud.url))


def grid_flavor_id():
    flavors = fake_cloud.nova_recording('flavors-detail-admin-v247.json')
    [flavor] = [f for f in flavors['flavors'] if f['name'] == 'm1.grid']
    return flavor['id']


class TestFlavorFallback(testtools.TestCase):
    """Sizes from the flavor list when the server does not embed them.

    ``grid-vm`` runs on ``m1.grid`` (2 vCPUs, 2048 MB, 20 GB root and
    5 GB ephemeral, a benchmark in its extra specs); ``orphan-vm`` on a
    flavor deleted since. Both as Nova 34 lists them to an admin.
    """

    def extract(self, session, context=None):
        extractor = nova.NovaExtractor(fakes.make_conf(), session)
        found = extractor.extract(NOW, NOW, context or fakes.context(
            vos={'6f70656e737461636b20342065766572': 'vo.one'}))
        return {r.machine_name: r for r in found}

    def sizes(self, record):
        return (record.cpu_count, record.memory, record.disk,
                record.benchmark_type, record.benchmark)

    def test_below_2_47_sizes_come_from_the_flavor_list(self):
        specs = fake_cloud.nova_recording(
            'flavor-extra-specs-reader-v247.json')
        cloud, session = recorded_cloud(
            self, 'servers-detail-all-tenants-admin-v246.json', **{
                '/flavors/%s/os-extra_specs' % grid_flavor_id(): specs})
        found = self.extract(session)

        self.assertEqual((2.0, 2048, 25, 'HEPscore23', 18.5),
                         self.sizes(found['grid-vm']))
        # Its flavor was deleted: unknown, not 0.
        self.assertEqual((None, None, None, None, None),
                         self.sizes(found['orphan-vm']))
        paths = [path for path, _ in cloud.requests]
        self.assertEqual(1, paths.count('/flavors/detail'))
        self.assertEqual(1, paths.count(
            '/flavors/%s/os-extra_specs' % grid_flavor_id()))

        # What is unknown is left out of the message, which APEL reads.
        parsed = {p['MachineName']: p for p in
                  apel_oracle.parse_cloud_records(found.values()).values()}
        self.assertEqual((2.0, 2048, 25), tuple(
            parsed['grid-vm'][k] for k in ('CpuCount', 'Memory', 'Disk')))
        orphan = parsed['orphan-vm']
        self.assertEqual((None, None, None), tuple(
            orphan.get(k) for k in ('CpuCount', 'Memory', 'Disk')))

    def test_embedded_flavor_needs_no_flavor_call(self):
        cloud, session = recorded_cloud(
            self, 'servers-detail-all-tenants-admin-v247.json')
        found = self.extract(session)

        self.assertEqual((2.0, 2048, 25, 'HEPscore23', 18.5),
                         self.sizes(found['grid-vm']))
        # Nova keeps the server's copy of a deleted flavor.
        self.assertEqual((1.0, 512, 1, None, None),
                         self.sizes(found['orphan-vm']))
        self.assertNotIn('/flavors/detail',
                         [path for path, _ in cloud.requests])

    def test_a_server_without_flavor_is_unknown_not_zero(self):
        # What a proxy that drops the field passes on.
        body = fake_cloud.nova_recording(
            'servers-detail-all-tenants-admin-v247.json')
        for server in body['servers']:
            del server['flavor']
        cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/servers/detail': ('servers', body['servers'])},
            documents={'/os-aggregates': NO_AGGREGATES}))
        session = ks_session.Session(auth=noauth.NoAuth(endpoint=cloud.url))
        found = self.extract(session)

        self.assertEqual({(None, None, None, None, None)},
                         {self.sizes(r) for r in found.values()})
        self.assertNotIn('/flavors/detail',
                         [path for path, _ in cloud.requests])


class TestImageIdOfRecords(testtools.TestCase):

    def test_listed_and_purged_vms_are_named_alike(self):
        uri = 'https://appdb.egi.eu/store/vm/image/c0ffee00:8021/'
        servers = [cmd_tests.server(i, 'p1') for i in range(3)]
        cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/servers/detail': ('servers', servers)},
            documents={'/os-aggregates': NO_AGGREGATES,
                       '/v2/images': {'images': [fake_cloud.glance_image(
                           'img-1', vmcatcher_event_ad_mpuri=uri)]}}))
        session = ks_session.Session(auth=noauth.NoAuth(endpoint=cloud.url))
        # A VM only the usage ledger saw, its Glance id from a
        # notification.
        [purged] = fakes.usages(1, project='p2')
        purged.image_id = 'img-1'
        context = fakes.context()
        context.unseen_usages = (
            lambda since, until, seen, projects=None: [purged])

        extractor = nova.NovaExtractor(fakes.make_conf(), session)
        found = list(extractor.extract(NOW, NOW, context))

        self.assertEqual(4, len(found))
        self.assertEqual({uri}, {r.image_id for r in found})
        self.assertEqual(1, [p for p, _ in cloud.requests].count(
            '/v2/images'))


class TestProjectByProject(testtools.TestCase):
    """A reader's run on Nova's answers to a reader (hosts hidden)."""

    def test_each_project_with_its_token_and_no_admin_call(self):
        own = fake_cloud.nova_recording('servers-detail-reader-v247.json')
        project = own['servers'][0]['tenant_id']
        other = []
        for server in copy.deepcopy(own['servers']):
            server['id'] = server['id'][:-4] + 'beef'
            server['tenant_id'] = 'p2'
            other.append(server)
        cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/servers/detail': ('servers', own['servers'] + other)},
            documents={'/auth/projects': fake_cloud.keystone_projects(
                project, 'p2')},
            view=lambda server, scope: (server if server['tenant_id'] == scope
                                        else None)))
        log = self.useFixture(fixtures.FakeLogger())
        conf = fakes.make_conf(accounting={'listing_scope': 'each_project'})
        reach = fake_cloud.FakeProjectSessions(conf, cloud)
        extractor = nova.NovaExtractor(conf, reach.session,
                                       project_sessions=reach)

        found = list(extractor.extract(NOW, NOW, fakes.context(
            vos={project: 'vo.one', 'p2': 'vo.two'})))

        self.assertEqual({project: 2, 'p2': 2}, dict(collections.Counter(
            r.local_group_id for r in found)))
        self.assertEqual({('HEPscore23', 18.5), (None, None)},
                         {(r.benchmark_type, r.benchmark) for r in found})
        paths = [path for path, _ in cloud.requests]
        self.assertNotIn('/os-aggregates', paths)
        self.assertFalse(any('all_tenants' in query or 'project_id' in query
                             for path, query in cloud.requests
                             if path == '/servers/detail'))
        self.assertEqual(sorted([project, 'p2']), reach.made)
        self.assertEqual(1, log.output.count("Nova hides the servers' host"))
