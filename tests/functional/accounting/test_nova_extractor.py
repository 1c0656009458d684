"""The nova extractor against a real Nova, booted in-process.

Starts Nova's API, conductor, scheduler, Placement and two fake computes
(the foundation's ``NovaTestCase``), boots servers in two projects,
resizes, stops and deletes some, and sets the grid benchmark on an
aggregate and on a flavor. python-novaclient then reads the real API
(served through wsgi-intercept) with a keystoneauth1 session, and the
records are checked field by field against what Nova itself reports.
Keystone is not part of the harness: the user names and the VO map are
given as plain data.
"""

import datetime

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from nova.tests.functional.api import client as nova_api_client

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import nova
from tests.functional import nova_base
from tests.unit.accounting import apel_oracle
from tests.unit.accounting import fakes

UTC = datetime.timezone.utc
OTHER_PROJECT = '2d6fb1a1aa5b4f7a9f0a0c6a0d2c9e11'


class TestNovaExtractor(nova_base.NovaTestCase):

    def setUp(self):
        super().setUp()
        self.start_computes('host1', 'host2')
        self.base_url = self.api.base_url
        self.other_api = nova_api_client.TestOpenStackClient(
            'bob', self.base_url, project_id=OTHER_PROJECT,
            roles=['reader', 'member'])
        self.other_api.microversion = self.api.microversion
        self.conf = fakes.make_conf(accounting={'page_size': 2})

    def session(self, user='admin', roles='admin,reader,member'):
        # Nova's functional API authenticates with the noauth headers its
        # test client sends; keystoneauth1's NoAuth plugin gives novaclient
        # the intercepted endpoint.
        return ks_session.Session(
            auth=noauth.NoAuth(endpoint=self.base_url),
            additional_headers={
                'X-Auth-User': user, 'X-User-Id': user,
                'X-Auth-Project-Id': self.api.project_id,
                'X-Roles': roles})

    def context(self):
        vos = {self.api.project_id: 'vo.one', OTHER_PROJECT: 'vo.two'}
        users = {'admin': 'Alice Example', 'fake': 'Alice Example',
                 'bob': 'Bob Example'}
        return builders.RecordContext(site_name='TEST-SITE',
                                      vo_for_project=vos.get,
                                      user_name_for=users.get)

    def extract(self, since, until=None, extractor_class=nova.NovaExtractor):
        extractor = extractor_class(self.conf, self.session())
        until = until or datetime.datetime.now(UTC)
        found = list(extractor.extract(since, until, self.context()))
        return {r.vm_uuid: r for r in found}, extractor, until

    def hs06_flavor(self, name, **sizes):
        """Create a flavor quoting an HS06 benchmark of 9.5 (cASO's keys)."""
        return self._create_flavor(name=name, extra_spec={
            'accounting:benchmark_type': 'HS06',
            'accounting:benchmark_value': '9.5'}, **sizes)

    def test_lifecycle_records(self):
        since = datetime.datetime.now(UTC) - datetime.timedelta(minutes=5)
        small = self.hs06_flavor('small', vcpu=1, memory_mb=512, disk=1,
                                 ephemeral=0)
        large = self._create_flavor(name='large', vcpu=2, memory_mb=1024,
                                    disk=2, ephemeral=1)
        aggregate = self.admin_api.post_aggregate(
            {'aggregate': {'name': 'fast'}})
        self.admin_api.add_host_to_aggregate(aggregate['id'], 'host2')
        self.admin_api.post_aggregate_action(aggregate['id'], {
            'set_metadata': {'metadata': {'grid_hepscore': '21.5'}}})

        running = self._create_server(name='running %% caf\u00e9',
                                      flavor_id=small, networks='none',
                                      host='host1')
        resized = self._create_server(name='resized', flavor_id=small,
                                      networks='none', host='host1')
        stopped = self._create_server(name='stopped', flavor_id=large,
                                      networks='none', host='host2')
        deleted = self._create_server(name='deleted', flavor_id=small,
                                      networks='none', host='host1')
        other = self._create_server(name='other', flavor_id=small,
                                    networks='none', api=self.other_api)
        resized = self._resize_server(resized, large)
        resized = self._confirm_resize(resized)
        stopped = self._stop_server(stopped)
        self._delete_server(deleted)

        found, extractor, until = self.extract(since)

        self.assertEqual(
            sorted(s['id'] for s in (running, resized, stopped, deleted,
                                     other)), sorted(found))
        # Both projects in paged all-tenants listings, 2 servers a page:
        # 3 running servers (2 pages), 5 changed since (3 pages), and the
        # aggregates; flavors come embedded. Never one query per project.
        self.assertEqual(6, extractor.calls)

        rec = found[running['id']]
        server = self.admin_api.get_server(running['id'])
        self.assertEqual('started', rec.status)
        self.assertIsNone(rec.end_time)
        self.assertEqual(self.api.project_id, rec.local_group_id)
        self.assertEqual(server['user_id'], rec.local_user_id)
        self.assertEqual('Alice Example', rec.global_user_name)
        self.assertEqual('vo.one', rec.vo)
        self.assertEqual((1.0, 512, 1), (rec.cpu_count, rec.memory,
                                         rec.disk))
        self.assertEqual(('HS06', 9.5), (rec.benchmark_type, rec.benchmark))
        self.assertEqual(nova.parse_time(server['created']), rec.start_time)
        self.assertEqual(int((until - rec.start_time).total_seconds()),
                         rec.wall_duration)
        self.assertIsNone(rec.cpu_duration)
        self.assertEqual(server['image']['id'], rec.image_id)

        rec = found[resized['id']]
        self.assertEqual('started', rec.status)
        self.assertEqual((2.0, 1024, 3), (rec.cpu_count, rec.memory,
                                          rec.disk))
        server = self.admin_api.get_server(resized['id'])
        # Nova moved launched_at at the resize; the record still starts
        # when the server was created.
        self.assertEqual(nova.parse_time(server['created']), rec.start_time)

        rec = found[stopped['id']]
        server = self.admin_api.get_server(stopped['id'])
        self.assertEqual('completed', rec.status)
        self.assertEqual(nova.parse_time(server['updated']), rec.end_time)
        self.assertEqual(('HEPscore23', 21.5),
                         (rec.benchmark_type, rec.benchmark))
        self.assertEqual(
            int((rec.end_time - rec.start_time).total_seconds()),
            rec.wall_duration)

        rec = found[deleted['id']]
        self.assertEqual('completed', rec.status)
        self.assertIsNotNone(rec.end_time)
        self.assertLessEqual(rec.end_time, until)

        rec = found[other['id']]
        self.assertEqual((OTHER_PROJECT, 'bob', 'Bob Example', 'vo.two'),
                         (rec.local_group_id, rec.local_user_id,
                          rec.global_user_name, rec.vo))

        # The whole run renders into messages the repository accepts.
        parsed = list(apel_oracle.parse_cloud_records(found.values()).values())
        self.assertEqual(5, len(parsed))
        self.assertIn('running % cafe', [p['MachineName'] for p in parsed])

    def test_long_running_server_is_reported_after_its_window(self):
        server = self._create_server(name='long', networks='none')
        later = datetime.datetime.now(UTC) + datetime.timedelta(hours=1)

        # A window that starts after the server last changed: cASO would
        # not see it; it is still reported, with its cumulative duration.
        found, _, until = self.extract(later, until=later)

        self.assertEqual([server['id']], list(found))
        self.assertGreaterEqual(found[server['id']].wall_duration, 3600)

    def test_flavor_sizes_below_microversion_2_47(self):
        # Nova before 2.47 (Pike) names the flavor by id only.
        class PikeNova(nova.NovaExtractor):
            microversion = '2.46'

        grid = self.hs06_flavor('grid', vcpu=2, memory_mb=1024, disk=3,
                                ephemeral=2)
        gone = self._create_flavor(name='gone', vcpu=1, memory_mb=512,
                                   disk=1, ephemeral=0)
        kept = self._create_server(name='kept', flavor_id=grid,
                                   networks='none')
        orphan = self._create_server(name='orphan', flavor_id=gone,
                                     networks='none')
        self.admin_api.delete_flavor(gone)
        since = datetime.datetime.now(UTC)

        old, _, _ = self.extract(since, extractor_class=PikeNova)
        new, _, _ = self.extract(since)

        def sizes(rec):
            return (rec.cpu_count, rec.memory, rec.disk, rec.benchmark_type,
                    rec.benchmark)
        self.assertEqual((2.0, 1024, 5, 'HS06', 9.5), sizes(old[kept['id']]))
        self.assertEqual(sizes(new[kept['id']]), sizes(old[kept['id']]))
        # The deleted flavor is unknown below 2.47, never 0; from 2.47 on
        # the server carries its own copy.
        self.assertEqual((None,) * 5, sizes(old[orphan['id']]))
        self.assertEqual((1.0, 512, 1, None, None), sizes(new[orphan['id']]))
        parsed = apel_oracle.parse_cloud_records(old.values())
        self.assertNotIn('Disk', parsed[orphan['id']])
        self.assertEqual(5, parsed[kept['id']]['Disk'])

    def test_missing_permission_names_the_call(self):
        self._create_server(name='x', networks='none')
        extractor = nova.NovaExtractor(
            self.conf, self.session(user='fake', roles='reader,member'))
        exc = self.assertRaises(
            exceptions.PermissionDenied, list,
            extractor.extract(datetime.datetime.now(UTC),
                              datetime.datetime.now(UTC), self.context()))
        self.assertIn('GET /', str(exc))
        self.assertIn('Nova refused', str(exc))
