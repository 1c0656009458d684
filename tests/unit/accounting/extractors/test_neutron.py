"""The neutron extractor against recorded Neutron shapes over HTTP."""

import datetime

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import neutron
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting import fakes

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


class TestNeutronExtractor(testtools.TestCase):

    def setUp(self):
        super().setUp()
        fips = [fake_cloud.floating_ip(0, '192.0.2.10'),
                fake_cloud.floating_ip(1, '192.0.2.11'),
                fake_cloud.floating_ip(2, '2001:db8::1'),
                fake_cloud.floating_ip(3, '198.51.100.7', project='p2'),
                fake_cloud.floating_ip(4, 'not-an-ip', project='p2')]
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/v2.0/floatingips': ('floatingips', fips)}))
        self.conf = fakes.make_conf(accounting={'page_size': 2,
                                                'ip_records': True})

    def extractor(self):
        session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=self.cloud.url))
        return neutron.NeutronExtractor(self.conf, session)

    def test_one_record_per_project_and_version(self):
        extractor = self.extractor()
        found = list(extractor.extract(None, NOW, fakes.context()))

        self.assertEqual([('p1', 4, 2), ('p1', 6, 1), ('p2', 4, 1)],
                         [(r.local_group_id, r.ip_version, r.ip_count)
                          for r in found])
        self.assertEqual(3, extractor.calls)
        self.assertEqual(len({r.key for r in found}), len(found))
        self.assertEqual('vo.one', found[0].vo)
        self.assertEqual(NOW, found[0].measurement_time)

    def test_refusal_names_the_call(self):
        self.cloud.forbidden.add('/v2.0/floatingips')
        exc = self.assertRaises(exceptions.PermissionDenied, list,
                                self.extractor().extract(None, NOW,
                                                         fakes.context()))
        self.assertIn('Neutron refused GET /v2.0/floatingips', str(exc))

    def test_a_reader_reads_each_project_with_its_token(self):
        self.cloud.documents['/auth/projects'] = fake_cloud.keystone_projects(
            'p1', 'p2')
        # Neutron shows a project's reader that project's IPs only.
        self.cloud.view = (lambda fip, project: fip
                           if fip['project_id'] == project else None)
        self.conf.set_override('listing_scope', 'each_project', 'accounting')
        reach = fake_cloud.FakeProjectSessions(self.conf, self.cloud)
        extractor = neutron.NeutronExtractor(self.conf, reach.session,
                                             project_sessions=reach)

        found = list(extractor.extract(None, NOW, fakes.context()))

        self.assertEqual([('p1', 4, 2), ('p1', 6, 1), ('p2', 4, 1)],
                         [(r.local_group_id, r.ip_version, r.ip_count)
                          for r in found])
        self.assertEqual(['p1', 'p2'], reach.made)
        self.assertFalse(any(q for path, q in self.cloud.requests
                             if path == '/v2.0/floatingips'
                             and 'project_id' in q))
