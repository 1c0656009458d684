"""A real glance-api serving images from the ``appliance`` store.

Starts Debian's docker-registry and a glance-api process from the
``glance`` package (tests/functional/glance_fixture.py: sqlite,
``glance-manage db_sync``, no Keystone) with ``enabled_backends =
repo:appliance,local:file``, and drives it with openstacksdk, as a user
would: upload, ``checksum`` and ``os_hash_value``, download (whole and
ranged), ``copy-image`` to the file store, delete; then it looks in the
registry. The registry is reached through a TCP proxy
(tests/functional/appliance/flaky_proxy.py), which makes it disappear in
the middle of an upload on demand.
"""

import hashlib
import os
import time

import fixtures
from openstack import exceptions as sdk_exceptions
import testtools
import yaml

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.image import appliance
from tests.functional.appliance import flaky_proxy
from tests.functional.appliance import hostile_http
from tests.functional import glance_fixture
from tests.functional.image import store_base
from tests.functional import registry_fixture

MiB = 1024 * 1024
REPO = 'glance/images'
TASK_TIMEOUT = 60


class GlanceAPIApplianceStoreTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.proxy = self.useFixture(flaky_proxy.FlakyProxy(
            self.registry.port))
        self.glance = self.useFixture(glance_fixture.GlanceAPIFixture(
            enabled_backends={'repo': 'appliance', 'local': 'file'},
            default_backend='repo',
            backend_options={'repo': {
                'appliance_registry_url': self.proxy.url,
                'appliance_repository': REPO,
                'appliance_chunk_size': 1,
                'appliance_retries': 1,
                'store_description': 'Appliance repository'}}))
        self.conn = self.glance.api.connection()
        self.client = registry.RegistryClient(self.registry.url, retries=0)
        self.addCleanup(self.client.close)

    def image_record(self, image_id):
        """The image as Glance's API returns it (a dict)."""
        response = self.conn.session.get(
            '%s/v2/images/%s' % (self.glance.url, image_id))
        response.raise_for_status()
        return response.json()

    def wait_for_stores(self, image_id, stores):
        deadline = time.monotonic() + TASK_TIMEOUT
        while True:
            record = self.image_record(image_id)
            if set(stores) <= set(record.get('stores', '').split(',')):
                return record
            failed = record.get('os_glance_failed_import')
            if failed:
                self.fail('copy-image failed for stores %s' % failed)
            if time.monotonic() > deadline:
                self.fail('image %s never reached stores %s: %s'
                          % (image_id, stores, record))
            time.sleep(0.2)

    def test_upload_download_copy_delete(self):
        data = os.urandom(3 * MiB + 4321)
        image = self.conn.image.create_image(
            name='appliance-e2e', data=data, disk_format='raw',
            container_format='bare')
        record = self.image_record(image.id)
        self.assertEqual('active', record['status'])
        self.assertEqual('repo', record['stores'])
        self.assertEqual(len(data), record['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), record['checksum'])
        self.assertEqual('sha512', record['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         record['os_hash_value'])

        # The registry holds the image as an appliance.
        tag = appliance.TAG_PREFIX + image.id
        _, manifest = self.client.get_manifest(REPO, tag)
        self.assertEqual(image.id, manifest['annotations'][
            appliance.IMAGE_ID_ANNOTATION])
        self.assertEqual('sha256:' + hashlib.sha256(data).hexdigest(),
                         manifest['layers'][0]['digest'])

        response = self.conn.image.download_image(image, stream=True)
        self.assertEqual(data, b''.join(response.iter_content(MiB)))
        ranged = self.conn.session.get(
            '%s/v2/images/%s/file' % (self.glance.url, image.id),
            headers={'Range': 'bytes=%d-%d' % (MiB - 5, 2 * MiB + 4)})
        self.assertEqual(206, ranged.status_code)
        self.assertEqual(data[MiB - 5:2 * MiB + 5], ranged.content)

        self.conn.image.import_image(image, method='copy-image',
                                     stores=['local'])
        self.wait_for_stores(image.id, ['repo', 'local'])
        with open(os.path.join(self.glance.api.store_dir('local'),
                               image.id), 'rb') as copy:
            self.assertEqual(data, copy.read())

        self.conn.image.delete_image(image)
        self.assertRaises(appliance_exceptions.RegistryNotFound,
                          self.client.resolve, REPO, tag)
        self.assertFalse(os.path.exists(os.path.join(
            self.glance.api.store_dir('local'), image.id)))
        self.assertRaises(sdk_exceptions.NotFoundException,
                          self.conn.image.get_image, image.id)

    def test_altered_registry_bytes_are_caught_by_os_hash_value(self):
        # The store does not re-hash reads of its own registry by default
        # (appliance_read_verification = auto): Glance's consumers check
        # os_hash_value, as they do for every store.
        data = os.urandom(2 * MiB + 3)
        image = self.conn.image.create_image(
            name='appliance-altered', data=data, disk_format='raw',
            container_format='bare')
        digest = 'sha256:' + hashlib.sha256(data).hexdigest()
        with open(self.registry.blob_path(digest), 'r+b') as blob:
            blob.write(bytes([data[0] ^ 0xff]))
        error = self.assertRaises(sdk_exceptions.InvalidResponse,
                                  self.conn.image.download_image, image)
        self.assertIn('checksum mismatch (sha512)', str(error))

        self.conn.image.import_image(image, method='copy-image',
                                     stores=['local'])
        deadline = time.monotonic() + TASK_TIMEOUT
        record = self.image_record(image.id)
        while not record.get('os_glance_failed_import'):
            self.assertLess(time.monotonic(), deadline, record)
            time.sleep(0.2)
            record = self.image_record(image.id)
        self.assertEqual('local', record['os_glance_failed_import'])
        self.assertEqual('repo', record['stores'])

    def test_registry_down_during_upload(self):
        data = os.urandom(4 * MiB)
        image = self.conn.image.create_image(
            name='appliance-outage', disk_format='raw',
            container_format='bare')
        self.proxy.down_after_request_bytes = (self.proxy.request_bytes
                                               + 2 * MiB)
        response = self.conn.session.put(
            '%s/v2/images/%s/file' % (self.glance.url, image.id),
            data=data, raise_exc=False,
            headers={'Content-Type': 'application/octet-stream'})
        self.assertGreaterEqual(response.status_code, 500, response.text)
        self.proxy.heal()
        self.assertEqual('queued', self.image_record(image.id)['status'])
        self.assertFalse(self.client.blob_exists(
            REPO, 'sha256:' + hashlib.sha256(data).hexdigest()))
        self.assertRaises(appliance_exceptions.RegistryNotFound,
                          self.client.resolve, REPO,
                          appliance.TAG_PREFIX + image.id)


class LocationsAPITestCase(testtools.TestCase):
    """Adding ``appliance://`` locations through Glance's locations API."""

    ENDORSER = '/C=EU/O=Example/CN=Jane Doe'
    PUBLISHED = 'vo.example.org/ubuntu'

    def start_glance(self, **endorsed_options):
        """Start glance-api: ``repo`` for uploads, read-only ``endorsed``.

        Both on ``self.registry``; ``endorsed`` takes the options given.
        Locations are shown (``show_multiple_locations``), so that a test
        sees that a refused one left nothing behind, and may be PATCHed.
        """
        endorsed_options['appliance_registry_url'] = self.registry.url
        self.glance = self.useFixture(glance_fixture.GlanceAPIFixture(
            enabled_backends={'repo': 'appliance', 'endorsed': 'appliance'},
            default_backend='repo',
            backend_options={
                'repo': {'appliance_registry_url': self.registry.url,
                         'appliance_repository': REPO},
                'endorsed': endorsed_options},
            options={'DEFAULT': {'show_multiple_locations': True}},
            debug=True))
        self.conn = self.glance.api.connection()

    def publish(self, data, tag):
        return store_base.publish_endorsed(self.client, self.PUBLISHED, data,
                                           tag, self.ENDORSER, title='Ubuntu')

    def add_location(self, url, data):
        """Add ``url`` to a new image; return the image and Glance's task.

        The endorsed SHA-512 goes with it as validation data, so Glance
        reads the appliance (through the store) before activating it.
        """
        image = self.conn.image.create_image(
            name=self.getUniqueString('endorsed'), disk_format='raw',
            container_format='bare')
        # Adding a location of a store other than http needs the service
        # role (Glance 33's add_location), which a deployment gives to
        # the tool that syncs image lists.
        response = self.conn.session.post(
            '%s/v2/images/%s/locations' % (self.glance.url, image.id),
            json={'url': url, 'validation_data': {
                'os_hash_algo': 'sha512',
                'os_hash_value': hashlib.sha512(data).hexdigest()}},
            raise_exc=False, headers={'X-Service-Roles': 'service'})
        self.assertEqual(202, response.status_code, response.text)
        return image, self.wait_for_task(image.id)

    def wait_for_task(self, image_id):
        deadline = time.monotonic() + TASK_TIMEOUT
        while True:
            tasks = self.conn.session.get(
                '%s/v2/images/%s/tasks' % (self.glance.url, image_id)
            ).json()['tasks']
            if tasks and tasks[0]['status'] in ('success', 'failure'):
                return tasks[0]
            if time.monotonic() > deadline:
                self.fail('location import of %s did not end: %s'
                          % (image_id, tasks))
            time.sleep(0.2)

    def image_record(self, image_id):
        return self.conn.session.get(
            '%s/v2/images/%s' % (self.glance.url, image_id)).json()

    def assert_refused(self, image_id):
        """The image is still queued, with no location."""
        record = self.image_record(image_id)
        self.assertEqual(('queued', []),
                         (record['status'], record['locations']))


class GlanceAPIEndorsedApplianceTest(LocationsAPITestCase):
    """Appliances published in the registry, served by Glance in place.

    A second store, ``endorsed``, is read-only (no repository) and has a
    trust policy; locations added through Glance's locations API go to it
    by their prefix, and Glance reads them through it (the location import
    task hashes the data), so no copy is made.
    """

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.client = registry.RegistryClient(self.registry.url, retries=0)
        self.addCleanup(self.client.close)
        self.denied = os.urandom(MiB + 17)
        policy = self.useFixture(fixtures.TempDir()).join('policy.yaml')
        with open(policy, 'w') as f:
            yaml.safe_dump({'checksums': {'deny': [
                hashlib.sha256(self.denied).hexdigest()]}}, f)
        self.start_glance(appliance_trust_policy_file=policy)

    def test_trusted_appliance_is_served_without_a_copy(self):
        data = os.urandom(2 * MiB + 3)
        image, task = self.add_location(self.publish(data, '22.04'), data)
        self.assertEqual('success', task['status'], task)
        record = self.image_record(image.id)
        self.assertEqual('active', record['status'])
        self.assertEqual('endorsed', record['stores'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         record['os_hash_value'])
        response = self.conn.image.download_image(image, stream=True)
        self.assertEqual(data, b''.join(response.iter_content(MiB)))
        self.assertEqual([], self.client.list_tags(REPO)
                         if REPO in self.client.list_repositories() else [])

    def test_denied_appliance_is_refused(self):
        image, task = self.add_location(self.publish(self.denied, '23.04'),
                                        self.denied)
        self.assertEqual('failure', task['status'], task)
        self.assert_refused(image.id)
        # The task says only "Internal Error"; glance-api's debug log has
        # the store's reason.
        self.assertIn('checksums.deny of the site trust policy',
                      self.glance.api.log_tail(10 ** 6))


class GlanceAPIAllowedRegistriesTest(LocationsAPITestCase):
    """Locations on other registries: a partner's served, others refused.

    Starts a glance-api whose read-only ``endorsed`` store reads its own
    registry and, through ``appliance_allowed_registries``, a partner's
    (both Debian docker-registry) and a registry gone bad; a loopback
    server (tests/functional/appliance/hostile_http.py) plays that bad
    registry (hostile manifests), another one any host no option names
    (it records every request it gets). A location on the partner's
    registry is imported and served; one on the other host, or one whose
    manifest is hostile, is refused when added (the locations API's
    import task) or set (PATCH), leaving the image queued with no
    location, and nothing is asked of the other host.
    """

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.partner = self.useFixture(registry_fixture.RegistryFixture())
        self.stranger = self.useFixture(hostile_http.HostileServer(
            host='127.0.0.1'))
        self.bad = self.useFixture(hostile_http.HostileServer(
            host='127.0.0.1'))
        self.bad.answer(
            '/v2/%s/manifests/' % self.PUBLISHED, 200,
            body=store_base.manifest_with_layers([{
                'mediaType': 'a/b', 'digest': 'sha256:' + 'ab' * 32,
                'size': 1e999}]))
        self.client = registry.RegistryClient(self.partner.url, retries=0)
        self.addCleanup(self.client.close)
        self.start_glance(appliance_allowed_registries=','.join(
            (self.partner.url, self.bad.url)))

    def location(self, server, data):
        return 'appliance://%s/%s:1@sha256:%s' % (
            server.url.split('//')[1], self.PUBLISHED,
            hashlib.sha256(data).hexdigest())

    def patch_location(self, url):
        """Set ``url`` on a new image with a locations PATCH; return both."""
        image = self.conn.image.create_image(
            name=self.getUniqueString('patched'), disk_format='raw',
            container_format='bare')
        response = self.conn.session.patch(
            '%s/v2/images/%s' % (self.glance.url, image.id),
            json=[{'op': 'add', 'path': '/locations/-',
                   'value': {'url': url, 'metadata': {}}}],
            headers={'Content-Type':
                     'application/openstack-images-v2.1-json-patch'},
            raise_exc=False)
        return image, response

    def test_partner_served_others_refused(self):
        data = os.urandom(MiB + 1)
        image, task = self.add_location(self.publish(data, '1'), data)
        self.assertEqual('success', task['status'], task)
        record = self.image_record(image.id)
        self.assertEqual(('active', 'endorsed'),
                         (record['status'], record['stores']))
        response = self.conn.image.download_image(image, stream=True)
        self.assertEqual(data, b''.join(response.iter_content(MiB)))

        for server in (self.stranger, self.bad):
            with self.subTest(server=server.url):
                image, task = self.add_location(
                    self.location(server, data), data)
                self.assertEqual('failure', task['status'], task)
                self.assert_refused(image.id)
                image, response = self.patch_location(
                    self.location(server, data))
                self.assertEqual(400, response.status_code, response.text)
                self.assert_refused(image.id)
        self.assertEqual([], self.stranger.requests)
        self.assertNotEqual([], self.bad.requests)
        log = self.glance.api.log_tail(10 ** 6)
        self.assertIn('appliance_allowed_registries in [endorsed]', log)
        self.assertIn('layers[0].size', log)
