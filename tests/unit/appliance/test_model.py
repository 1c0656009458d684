"""The appliance model: round trips and refusal of bad fields."""

import dataclasses
import datetime
import io

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import model


def make_appliance(**fields):
    checksums = hashing.checksum_file(io.BytesIO(b'disk image'))
    values = dict(
        version='1.0', os='ubuntu', os_version='22.04', arch='x86_64',
        ram_minimum=1024, core_minimum=1, vos=['vo.example.org'],
        endorser=model.Endorser(dn='/DC=test/CN=Jane', ca='/DC=test/CN=CA',
                                email='jane@example.org', name='Jane'),
        expires=model.now() + datetime.timedelta(days=30),
        locations=['https://registry.example/v2/a/blobs/' + checksums.digest],
        glance_properties={'org.openstack.glance.os_type': 'linux'})
    values.update(fields)
    title = values.pop('title', 'Ubuntu')
    return model.new_appliance(checksums, title, **values)


class ApplianceTest(testtools.TestCase):

    def test_manifest_round_trip(self):
        appliance = make_appliance()
        notes, layer_notes = appliance.to_annotations('ubuntu.qcow2')
        manifest = {'annotations': notes, 'layers': [{
            'mediaType': appliance.media_type, 'digest': appliance.digest,
            'size': appliance.size, 'annotations': layer_notes}]}
        again = model.Appliance.from_manifest(
            manifest, location=appliance.locations[0])
        # The layer gains the Glance properties derived from the fields.
        self.assertEqual('linux',
                         again.glance_properties.pop(
                             'org.openstack.glance.os_type'))
        self.assertEqual(appliance, dataclasses.replace(
            again, glance_properties=appliance.glance_properties))
        self.assertEqual('application/x-qemu-disk', appliance.media_type)
        self.assertEqual('qcow2',
                         layer_notes['org.openstack.glance.disk_format'])
        self.assertEqual('ubuntu',
                         layer_notes['org.openstack.glance.os_distro'])
        self.assertEqual('ubuntu.qcow2',
                         layer_notes['org.opencontainers.image.title'])

    def test_ova_is_a_container_in_annotations(self):
        appliance = make_appliance(container_format='ova',
                                   disk_format='vmdk')
        notes, layer_notes = appliance.to_annotations()
        self.assertEqual(('vmdk', 'ova'), (
            layer_notes['org.openstack.glance.disk_format'],
            layer_notes['org.openstack.glance.container_format']))
        self.assertEqual('application/x-virtualbox-ova', appliance.media_type)
        self.assertTrue(layer_notes['org.opencontainers.image.title'].endswith(
            '.ova'))
        manifest = {'annotations': notes, 'layers': [{
            'mediaType': appliance.media_type, 'digest': appliance.digest,
            'size': appliance.size, 'annotations': layer_notes}]}
        again = model.Appliance.from_manifest(manifest)
        self.assertEqual(('vmdk', 'ova'), (again.disk_format,
                                           again.container_format))
        # A manifest written when OVA was taken for a disk format.
        notes['eu.stratuslab.appliance.disk_format'] = 'ova'
        del notes['eu.stratuslab.appliance.container_format']
        old = model.Appliance.from_manifest(manifest)
        self.assertEqual(('vmdk', 'ova'), (old.disk_format,
                                           old.container_format))

    def test_distribution_is_glance_os_distro(self):
        appliance = make_appliance(os='Rocky Linux')
        self.assertEqual(('rocky', 'Linux'), (appliance.os,
                                              appliance.os_family))
        _, layer_notes = appliance.to_annotations()
        self.assertEqual('rocky',
                         layer_notes['org.openstack.glance.os_distro'])

    def test_dates_are_bounded(self):
        for text in ('0001-01-01T00:00:00+01:00', '\u00b2026-01-01',
                     '9999-12-31T23:00:00-01:00', 20260101):
            self.assertRaises(exceptions.InvalidInput, model.parse_time,
                              text, 'since')

    def test_check_content(self):
        appliance = make_appliance()
        good = hashing.checksum_file(io.BytesIO(b'disk image'))
        appliance.check_content(good, 'file')
        bad = hashing.checksum_file(io.BytesIO(b'disk imagE'))
        e = self.assertRaises(exceptions.IntegrityError,
                              appliance.check_content, bad, 'file')
        self.assertIn('sha512', str(e))
        short = hashing.checksum_file(io.BytesIO(b'disk'))
        e = self.assertRaises(exceptions.IntegrityError,
                              appliance.check_content, short, 'file')
        self.assertIn('size', str(e))

    def test_expiry(self):
        self.assertFalse(make_appliance().is_expired())
        past = model.now() - datetime.timedelta(seconds=1)
        self.assertTrue(make_appliance(expires=past).is_expired())
