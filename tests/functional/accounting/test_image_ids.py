"""ImageId from a real Glance, for servers of a real Nova.

Starts Nova in-process (the foundation's ``NovaTestCase``) and a
glance-api process (``GlanceAPIFixture``, Glance 33 on sqlite with its
default policy). The images Nova's harness boots servers from are given
twins of the same id in the real Glance, as the appliance sync registers
them: one with an AppDB marketplace URI (``vmcatcher_event_ad_mpuri``),
one without, one with a URI but hidden (a retired appliance); the fourth
image is in no Glance (deleted since). The nova extractor then reads both
services through one keystoneauth1 session and the records' ImageId is
checked for each ``[accounting] image_id_source``, with the number of
Glance calls: one listing and one read per image the listing lacks,
whatever the number of servers.
"""

import datetime

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting.extractors import nova
from tests.functional.accounting import header_auth
from tests.functional import glance_fixture
from tests.functional import nova_base
from tests.unit.accounting import apel_oracle
from tests.unit.accounting import fakes

UTC = datetime.timezone.utc
# Images of Nova's harness (nova.tests.fixtures.GlanceFixture).
WITH_URI = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
WITHOUT_URI = '76fa36fc-c930-4bf3-8c8a-ea2a2420deb6'
HIDDEN = 'a2459075-d96c-40d5-893e-577ff92e721c'
DELETED = 'cedef40a-ed67-4d10-800e-17455edce175'
APPDB = 'https://appdb.egi.eu/store/vm/image/'
URI = APPDB + 'c0ffee00-1d3a-4c5e-9b21-0a1b2c3d4e5f:8021/'
HIDDEN_URI = APPDB + '0ddba11c-2e4f-4a6b-8c9d-1e2f3a4b5c6d:77/'


class TestImageIds(nova_base.NovaTestCase):

    def setUp(self):
        super().setUp()
        self.glance = self.useFixture(glance_fixture.GlanceAPIFixture())
        self.start_computes('host1')
        glance = self.glance.api.session()
        for image_id, properties in ((WITH_URI, {
                'vmcatcher_event_ad_mpuri': URI}), (WITHOUT_URI, {}), (
                HIDDEN, {'vmcatcher_event_ad_mpuri': HIDDEN_URI,
                         'os_hidden': True})):
            glance.post(self.glance.url + '/v2/images', json=dict(
                id=image_id, name='appliance', disk_format='qcow2',
                container_format='bare', visibility='public', **properties))
        self.servers = {}
        for name, image_id in (('a1', WITH_URI), ('a2', WITH_URI),
                               ('a3', WITH_URI), ('local', WITHOUT_URI),
                               ('retired', HIDDEN), ('gone', DELETED)):
            self.servers[name] = self._create_server(
                name=name, image_uuid=image_id, networks='none')['id']

    def extract(self, source):
        conf = fakes.make_conf(accounting={'image_id_source': source})
        session = header_auth.header_session(
            {'compute': self.api.base_url, 'image': self.glance.url},
            'admin', self.api.project_id, ['admin', 'reader', 'member'])
        extractor = nova.NovaExtractor(conf, session)
        context = builders.RecordContext(
            site_name='TEST-SITE',
            vo_for_project={self.api.project_id: 'vo.one'}.get)
        now = datetime.datetime.now(UTC)
        found = list(extractor.extract(now, now, context))
        return {r.machine_name: r.image_id for r in found}, extractor, found

    def test_image_id_sources(self):
        # One Nova and one glance-api serve the three runs: starting them
        # is most of this test's time.
        names, extractor, found = self.extract('auto')
        self.assertEqual({'a1': URI, 'a2': URI, 'a3': URI,
                          'local': WITHOUT_URI, 'retired': HIDDEN_URI,
                          'gone': DELETED}, names)
        # One listing; the hidden and the deleted image read once each.
        self.assertEqual(3, extractor.images.calls)
        parsed = apel_oracle.parse_cloud_records(found)
        self.assertEqual(URI, parsed[self.servers['a1']]['ImageId'])

        names, _, found = self.extract('mpuri')
        self.assertEqual({'a1': URI, 'a2': URI, 'a3': URI, 'local': None,
                          'retired': HIDDEN_URI, 'gone': None}, names)
        parsed = apel_oracle.parse_cloud_records(found)
        self.assertNotIn('ImageId', parsed[self.servers['local']])

        names, extractor, _ = self.extract('glance')
        self.assertEqual({'a1': WITH_URI, 'a2': WITH_URI, 'a3': WITH_URI,
                          'local': WITHOUT_URI, 'retired': HIDDEN,
                          'gone': DELETED}, names)
        self.assertEqual(0, extractor.images.calls)
