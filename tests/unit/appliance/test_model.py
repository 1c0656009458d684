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

    def test_entry_round_trip(self):
        appliance = make_appliance(deprecated='use 2.0',
                                   replaced_by='MMZu9WvwKIro-rtBQfDk4PsKO7_')
        again = model.Appliance.from_entry(appliance.to_entry(),
                                           endorser=appliance.endorser)
        self.assertEqual(appliance, again)
        entry = appliance.to_entry()['hv:image']
        self.assertEqual(appliance.stratuslab_id, entry['sl:identifier'])
        self.assertEqual('linux', entry['org.openstack.glance.os_type'])

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

    def test_sha512_is_mandatory(self):
        entry = make_appliance().to_entry()
        del entry['hv:image']['sl:checksum:sha512']
        e = self.assertRaises(exceptions.InvalidInput,
                              model.Appliance.from_entry, entry)
        self.assertIn('sl:checksum:sha512', str(e))

    def test_bad_fields_are_named(self):
        entry = make_appliance().to_entry()
        for key, value, named in [
                ('dc:identifier', '../../etc', 'identifier'),
                ('hv:size', '-3', 'size'),
                ('hv:size', 'big', 'size'),
                ('sl:checksum:sha512', 'abc', 'sha512'),
                ('dc:date:expires', 'tomorrow', 'dc:date:expires'),
                ('hv:format', 'exe', 'disk format')]:
            bad = {'hv:image': dict(entry['hv:image'], **{key: value})}
            e = self.assertRaises(exceptions.InvalidInput,
                                  model.Appliance.from_entry, bad)
            self.assertIn(named, str(e))

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
