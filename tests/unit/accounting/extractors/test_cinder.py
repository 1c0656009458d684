"""The cinder extractor against recorded Cinder v3 shapes over HTTP."""

import datetime

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import cinder
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting import fakes

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


class TestCinderExtractor(testtools.TestCase):

    def setUp(self):
        super().setUp()
        volumes = [fake_cloud.volume(i, project='p%d' % (i % 2 + 1))
                   for i in range(5)]
        volumes.append(fake_cloud.volume(9, status='creating'))
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/volumes/detail': ('volumes', volumes)}))
        self.conf = fakes.make_conf(accounting={'page_size': 2})

    def extractor(self):
        session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=self.cloud.url))
        return cinder.CinderExtractor(self.conf, session)

    def test_every_volume_in_paged_listings(self):
        extractor = self.extractor()
        found = list(extractor.extract(None, NOW, fakes.context()))

        self.assertEqual(['vol-%04d' % i for i in range(5)],
                         [r.record_id for r in found])
        self.assertEqual(3, extractor.calls)
        self.assertTrue(all(q['all_tenants'] == ['1']
                            for _, q in self.cloud.requests))
        rec = found[0]
        self.assertEqual(10 * 2 ** 30, rec.capacity_bytes)
        self.assertEqual(datetime.datetime(2026, 10, 15, 8, 30, tzinfo=UTC),
                         rec.start_time)
        self.assertEqual(NOW, rec.end_time)
        self.assertEqual(('p1', 'u1', 'alice', 'vo.one'),
                         (rec.local_group_id, rec.local_user_id,
                          rec.global_user_name, rec.vo))

    def test_project_subset(self):
        found = list(self.extractor().extract(None, NOW, fakes.context(),
                                              projects=['p2']))
        self.assertEqual({'p2'}, {r.local_group_id for r in found})
        self.assertEqual(2, len(found))

    def test_refusal_names_the_call(self):
        self.cloud.forbidden.add('/volumes/detail')
        exc = self.assertRaises(exceptions.PermissionDenied, list,
                                self.extractor().extract(None, NOW,
                                                         fakes.context()))
        self.assertIn('Cinder refused GET /volumes/detail?', str(exc))
        self.assertIn('volume:get_all', str(exc))


def reader_view(volume, project):
    """A volume as Cinder shows a reader of ``project`` (default policy).

    Only the project's own volumes, without the admin-only
    ``os-vol-tenant-attr:tenant_id``.
    """
    if volume['os-vol-tenant-attr:tenant_id'] != project:
        return None
    return {k: v for k, v in volume.items()
            if k != 'os-vol-tenant-attr:tenant_id'}


class TestCinderProjectByProject(testtools.TestCase):

    def test_a_reader_reads_each_project_with_its_token(self):
        volumes = [fake_cloud.volume(i, project='p%d' % (i % 2 + 1))
                   for i in range(5)]
        cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/volumes/detail': ('volumes', volumes)},
            documents={'/auth/projects': fake_cloud.keystone_projects(
                'p1', 'p2')}, view=reader_view))
        conf = fakes.make_conf(accounting={'listing_scope': 'each_project'})
        reach = fake_cloud.FakeProjectSessions(conf, cloud)
        extractor = cinder.CinderExtractor(conf, reach.session,
                                           project_sessions=reach)

        found = list(extractor.extract(None, NOW, fakes.context()))

        self.assertEqual({'vol-0000': 'p1', 'vol-0001': 'p2',
                          'vol-0002': 'p1', 'vol-0003': 'p2',
                          'vol-0004': 'p1'},
                         {r.record_id: r.local_group_id for r in found})
        self.assertEqual(['p1', 'p2'], reach.made)
        listings = [q for path, q in cloud.requests
                    if path == '/volumes/detail']
        self.assertEqual(2, len(listings))
        self.assertFalse(any('all_tenants' in q or 'project_id' in q
                             for q in listings))
