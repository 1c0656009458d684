"""What the sync's functional tests share: real services and sources.

:class:`SyncCase` starts, once for its class, Debian's docker-registry
with its access log (tests/functional/registry_fixture.py) and a
glance-api process (tests/functional/glance_fixture.py) with two stores:
``repo``, a read-only ``appliance`` store on that registry, and
``local``, a file store; a class sets :attr:`SyncCase.glance_options`
and :attr:`SyncCase.store_options` to configure them as a site would.
Tests push appliances to the registry, list them in HEPiX image lists
signed by a CA made for the class (tests/pki.py), and sync them with
:class:`Synchronizer` over :class:`GlanceCatalog` (openstacksdk). Each
test uses its own VO and tag, so tests share the services without
seeing each other's images.
"""

import io
import os
import time

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack.connection
import testtools

from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import plan
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins.grid import vo_map
from stratuslab_plugins.image import sync as glance_sync
from tests.functional import glance_fixture
from tests.functional import registry_fixture
from tests import pki

KiB = 1024
TASK_TIMEOUT = 60
PROJECTS = ['11111111111111111111111111111111',
            '22222222222222222222222222222222']


class SyncCase(testtools.TestCase):

    #: ``{section: {option: value}}`` of glance-api.conf.
    glance_options = {}
    #: Options of the ``repo`` appliance store, beyond its registry URL.
    store_options = {}

    @classmethod
    def _start(cls, fixture):
        fixture.setUp()
        cls._fixtures.append(fixture)
        return fixture

    @classmethod
    def start_glance(cls, **store_options):
        """Start one more glance-api on the class's registry."""
        return cls._start(glance_fixture.GlanceAPIFixture(
            enabled_backends={'local': 'file', 'repo': 'appliance'},
            default_backend='local',
            backend_options={'repo': dict(
                store_options, appliance_registry_url=cls.registry.url)},
            options=cls.glance_options))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._fixtures = []
        try:
            cls.registry = cls._start(registry_fixture.RegistryFixture(
                access_log=True))
            cls.glance = cls.start_glance(**cls.store_options)
            cls.dir = cls._start(fixtures.TempDir()).path
        except BaseException:
            cls.tearDownClass()
            raise
        cls.ca = pki.make_ca()
        cls.ca_path = pki.write_ca_dir(os.path.join(cls.dir, 'cas'), cls.ca)
        cls.endorser = pki.issue(cls.ca, 'Jane Endorser',
                                 email='jane@example.org')
        cls.client = registry.RegistryClient(cls.registry.url, retries=0)

    @classmethod
    def tearDownClass(cls):
        for fixture in reversed(cls._fixtures):
            fixture.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.vo = 'vo%d.example.org' % id(self)
        self.writes = []
        self.requests = []
        self.conn = self.connect(self.glance)
        self.catalog = glance_sync.GlanceCatalog(self.conn)
        self.vos = vo_map.VOMap({PROJECTS[0]: self.vo, PROJECTS[1]: self.vo,
                                 '33333333333333333333333333333333':
                                 'other.example.org'})

    def connect(self, glance):
        """An openstacksdk Connection to ``glance`` as the sync's user.

        Its calls are recorded in :attr:`requests`, its write calls in
        :attr:`writes` (``METHOD URL``).
        """
        headers = dict(glance.api.identity_headers)
        # Adding a location of a non-http store needs the service role
        # (Glance 33), which a site gives the sync's credentials.
        headers['X-Service-Roles'] = 'service'
        session = ks_session.Session(
            auth=noauth.NoAuth(endpoint=glance.url),
            additional_headers=headers)
        session.session.hooks['response'].append(self._count)
        return openstack.connection.Connection(
            session=session, image_endpoint_override=glance.url)

    def _count(self, response, *args, **kwargs):
        call = '%s %s' % (response.request.method, response.request.url)
        self.requests.append(call)
        if response.request.method not in ('GET', 'HEAD'):
            self.writes.append(call)

    # -- building sources --------------------------------------------------

    @property
    def repository(self):
        return 'lists/' + self.vo.split('.')[0]

    def push(self, size=64 * KiB):
        data = os.urandom(size)
        checksums = self.client.push_blob(self.repository, io.BytesIO(data))
        return data, checksums

    def appliance(self, title, checksums, identifier=None, **fields):
        if identifier:
            fields['identifier'] = identifier
        return model.new_appliance(
            checksums, title, disk_format='raw', version='1',
            os='Ubuntu', os_version='22.04', arch='x86_64', ram_minimum=512,
            locations=[self.client.blob_url(self.repository,
                                            checksums.digest)],
            **fields)

    def write_list(self, appliances, name='vo.list', signer=None):
        signer = signer or self.endorser
        listed = image_list.ImageList.new(
            'Images of %s' % self.vo, model.Endorser(dn='x', ca='y'),
            appliances, vo=self.vo)
        document = listed.sign(signer.cert_pem(), signer.key_pem())
        path = os.path.join(self.dir, '%s-%s' % (self.vo, name))
        with open(path, 'wb') as f:
            f.write(document)
        return path

    def subscription(self, sources, **settings):
        settings.setdefault('trust_policy', {
            'endorsers': {'allow': ['jane@example.org']}})
        data = {'vos': {self.vo: dict(
            sources=sources, ca_path=self.ca_path,
            tag='sync-' + self.vo, **settings)}}
        return subscriptions.parse(data)[self.vo]

    def sync(self, subscription, at=None, client_for=None, catalog=None):
        del self.writes[:]
        del self.requests[:]
        syncer = runner.Synchronizer(
            catalog or self.catalog, client_for or registry.RegistryClient,
            vo_map=self.vos)
        report, = syncer.run([subscription], at=at)
        return report

    # -- reading Glance ----------------------------------------------------

    def images(self, subscription, catalog=None):
        return {image.get(plan.APPDB_ID) + '/' + image.get(plan.IMAGE_HASH):
                image for image in (catalog or self.catalog).managed_images(
                    subscription.tag)}

    def wait_active(self, subscription, catalog=None):
        deadline = time.monotonic() + TASK_TIMEOUT
        while True:
            images = self.images(subscription, catalog)
            pending = [i for i in images.values()
                       if i.status not in ('active', 'deactivated')]
            if not pending:
                return images
            if time.monotonic() > deadline:
                self.fail('images never became active: %s'
                          % [(i.id, i.status) for i in pending])
            time.sleep(0.3)

    def download(self, image_id, glance=None):
        glance = glance or self.glance
        response = self.conn.session.get(
            '%s/v2/images/%s/file' % (glance.url, image_id))
        response.raise_for_status()
        return response.content

    def assertSynced(self, report):
        self.assertTrue(report.ok, '%s %s' % (report.summary(),
                                              report.failed))
