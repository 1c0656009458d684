"""Appliances published in Debian's docker-registry, and read back.

Starts a real registry (registry_fixture) and proves that the artifact
layout is EGI's, that every appliance field survives the round trip, and
that altered content or hostile references are refused.
"""

import hashlib
import io
import os

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository
from tests.functional import registry_fixture

REF = 'vo.example.org/ubuntu:22.04'


class RepositoryTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.client = registry.RegistryClient(self.registry.url,
                                              chunk_size=65536)
        self.addCleanup(self.client.close)
        self.repo = repository.ApplianceRepository(self.client)
        self.data = os.urandom(200000)

    def create(self, reference=REF, **fields):
        fields.setdefault('os', 'ubuntu')
        return self.repo.create(reference, io.BytesIO(self.data),
                                title='Ubuntu 22.04',
                                file_name='ubuntu.qcow2', **fields)

    def test_create_show_list(self):
        created = self.create(arch='x86_64', vos=['vo.example.org'],
                              ram_minimum=2048)
        self.assertEqual(hashlib.sha512(self.data).hexdigest(),
                         created.sha512)
        self.assertEqual('22.04', created.version)
        shown = self.repo.show(REF)
        self.assertEqual(created, shown)
        self.assertEqual([(REF, shown)], list(self.repo.list()))
        # EGI's layout: one qcow2 layer with the Glance annotations.
        _, manifest = self.client.get_manifest('vo.example.org/ubuntu',
                                               '22.04')
        (layer,) = manifest['layers']
        self.assertEqual('application/x-qemu-disk', layer['mediaType'])
        self.assertEqual('ubuntu', layer['annotations'][
            'org.openstack.glance.os_distro'])
        self.assertEqual('ubuntu.qcow2', layer['annotations'][
            'org.opencontainers.image.title'])
        self.assertEqual(registry.EMPTY_CONFIG_TYPE,
                         manifest['config']['mediaType'])

    def test_download_verifies_everything(self):
        created = self.create()
        out = io.BytesIO()
        self.repo.download(REF, out)
        self.assertEqual(self.data, out.getvalue())
        with open(self.registry.blob_path(created.digest), 'r+b') as f:
            f.seek(100)
            f.write(b'\0\1\2')
        e = self.assertRaises(exceptions.IntegrityError, self.repo.download,
                              REF, io.BytesIO())
        self.assertIn(created.identifier, str(e))

    def test_wrong_size_is_refused_before_reading(self):
        created = self.create()
        created.size += 1
        e = self.assertRaises(exceptions.IntegrityError,
                              self.repo.check_content, created)
        self.assertIn('endorsed size', str(e))

    def test_deprecate_then_delete(self):
        self.create()
        deprecated = self.repo.deprecate(REF, 'CVE-2026-0001',
                                         replaced_by='MMZu9WvwKIro-rtBQfDk4PsK'
                                         'O7_')
        self.assertEqual('CVE-2026-0001', self.repo.show(REF).deprecated)
        self.assertEqual(deprecated.sha512, self.repo.show(REF).sha512)
        self.repo.delete(REF)
        self.assertRaises(exceptions.RegistryNotFound, self.repo.show, REF)

    def test_existing_tag_is_not_overwritten(self):
        self.create()
        e = self.assertRaises(exceptions.InvalidInput, self.create)
        self.assertIn('already holds', str(e))
        self.create(replace=True)

    def test_hostile_references_touch_nothing(self):
        for reference in ('../../etc:x', 'vo/ubuntu:a/../../b',
                          'vo/ubuntu:$(reboot)', 'VO/Ubuntu:1'):
            e = self.assertRaises(exceptions.InvalidInput, self.create,
                                  reference)
            self.assertIn('Reference', str(e))
        self.assertEqual([], self.client.list_repositories())

    def test_bad_fields_are_refused_before_upload(self):
        e = self.assertRaises(exceptions.InvalidInput, self.create,
                              disk_format='exe')
        self.assertIn('disk format', str(e))
        self.assertEqual([], self.client.list_repositories())
