"""HEPiX entries: AppDB's spelling read and written, hostile lists refused.

The AppDB material is tests/fixtures/appdb (a VO-wide list in AppDB's
exact spelling); the hostile values are the ones a review fed through
the sync (issue 17) and the failures the fuzz suite found.
"""

import dataclasses
import json

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hepix
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from tests.fixtures import appdb
from tests.unit.appliance import test_model

SOURCE = 'image list appdb.list'
#: What atrope requires in every entry (atrope/image.py, HepixImage).
ATROPE_REQUIRED = (
    'ad:group', 'ad:mpuri', 'ad:user:fullname', 'ad:user:guid',
    'ad:user:uri', 'dc:description', 'dc:identifier', 'dc:title',
    'hv:hypervisor', 'hv:format', 'hv:size', 'hv:uri', 'hv:version',
    'sl:arch', 'sl:checksum:sha512', 'sl:comments', 'sl:os', 'sl:osname',
    'sl:osversion')


def read(doc=None):
    return image_list.ImageList.from_document(doc or appdb.document(),
                                              SOURCE)


def entry_of(**fields):
    image = {'dc:identifier': '7f1c5d25-614e-4409-bfa6-625d3ae7b9d4',
             'hv:size': '10', 'sl:checksum:sha512': 'a' * 128}
    image.update(fields)
    return {'hv:image': image}


class AppDBSpellingTest(testtools.TestCase):

    def test_appdb_list_is_read(self):
        listed = read()
        self.assertEqual(('vo.example.org', '20261002081400',
                          'EGI Applications Database'),
                         (listed.vo, listed.version, listed.endorser.name))
        ubuntu, centos, alma, rocky = listed.appliances
        self.assertEqual(
            ('ubuntu', 'Linux', '22.04', 683671552, 512, 1, 'qcow2',
             'bare', 'KVM', '2026.09.28'),
            (ubuntu.os, ubuntu.os_family, ubuntu.os_version, ubuntu.size,
             ubuntu.ram_minimum, ubuntu.core_minimum, ubuntu.disk_format,
             ubuntu.container_format, ubuntu.hypervisor, ubuntu.version))
        self.assertEqual(appdb.entries()[appdb.UBUNTU]['ad:mpuri'],
                         ubuntu.mpuri)
        # OVA is Glance's container format, of a vmdk disk.
        self.assertEqual(('vmdk', 'ova', 'centos', None, 'VirtualBox,KVM'),
                         (centos.disk_format, centos.container_format,
                          centos.os, centos.ram_minimum, centos.hypervisor))
        self.assertEqual(('raw', 'almalinux', None, 10737418240),
                         (alma.disk_format, alma.os, alma.expires,
                          alma.size))
        self.assertEqual('rocky', rocky.os)

    def test_formats_in_any_case(self):
        for spelling, formats in (('qcow2', ('qcow2', 'bare')),
                                  ('Qcow2', ('qcow2', 'bare')),
                                  ('VMDK', ('vmdk', 'bare')),
                                  ('ova', ('vmdk', 'ova')),
                                  ('Ova', ('vmdk', 'ova'))):
            item = hepix.from_entry(entry_of(**{'hv:format': spelling}))
            self.assertEqual(formats, (item.disk_format,
                                       item.container_format))

    def test_ova_disk_named_by_the_list(self):
        item = hepix.from_entry(entry_of(**{
            'hv:format': 'OVA', 'org.openstack.glance.disk_format': 'qcow2',
            'org.openstack.glance.os_type': 'linux'}))
        self.assertEqual(('qcow2', 'ova'), (item.disk_format,
                                            item.container_format))
        self.assertEqual({'org.openstack.glance.os_type': 'linux'},
                         item.glance_properties)
        again = hepix.to_entry(item)['hv:image']
        self.assertEqual(('OVA', 'qcow2'), (
            again['hv:format'], again['org.openstack.glance.disk_format']))

    def test_numbers_as_strings_or_numbers(self):
        for size in ('121243136', 121243136):
            item = hepix.from_entry(entry_of(**{'hv:size': size,
                                                'hv:ram_minimum': '512'}))
            self.assertEqual((121243136, 512), (item.size,
                                                item.ram_minimum))

    def test_missing_optional_fields_are_tolerated(self):
        item = hepix.from_entry(entry_of())
        self.assertEqual(('', None, None, 'qcow2', [], None),
                         (item.title, item.os, item.expires,
                          item.disk_format, item.locations, item.mpuri))

    def test_distribution_names(self):
        for osname, distro in (('Ubuntu', 'ubuntu'), ('CentOS', 'centos'),
                               ('AlmaLinux', 'almalinux'),
                               ('Rocky Linux', 'rocky'),
                               ('Debian', 'debian'), ('Fedora', 'fedora'),
                               ('Scientific Linux', 'scientificlinux'),
                               ('Red Hat Enterprise Linux', 'rhel'),
                               ('Oracle Linux', 'oraclelinux')):
            item = hepix.from_entry(entry_of(**{'sl:os': 'Linux',
                                                'sl:osname': osname}))
            self.assertEqual((distro, 'Linux'), (item.os, item.os_family))

    def test_our_earlier_spelling_still_reads(self):
        # Lists we signed before put the distribution in sl:os.
        item = hepix.from_entry(entry_of(**{'sl:os': 'ubuntu',
                                            'hv:size': 10,
                                            'hv:format': 'qcow2'}))
        self.assertEqual(('ubuntu', 'Linux'), (item.os, item.os_family))

    def test_written_in_appdb_spelling(self):
        appliance = test_model.make_appliance(hypervisor='KVM')
        image = hepix.to_entry(appliance)['hv:image']
        self.assertEqual(
            ('QCOW2', str(appliance.size), '1024', '1', 'Linux', 'Ubuntu',
             '22.04'),
            (image['hv:format'], image['hv:size'], image['hv:ram_minimum'],
             image['hv:core_minimum'], image['sl:os'], image['sl:osname'],
             image['sl:osversion']))
        missing = [key for key in ATROPE_REQUIRED if image.get(key) is None]
        self.assertEqual([], missing)
        # cloudkeeper needs ad:mpuri; without one it is the location.
        self.assertEqual(appliance.locations[0], image['ad:mpuri'])

    def test_appdb_fields_survive_a_round_trip(self):
        ubuntu, centos, _, _ = read().appliances
        again = hepix.to_entry(ubuntu)['hv:image']
        original = appdb.entries()[appdb.UBUNTU]
        for key in ('ad:group', 'ad:user:guid', 'ad:base_mpuri', 'ad:appid',
                    'ad:ram_recommended', 'ad:mpuri', 'hv:format',
                    'hv:size', 'sl:os', 'sl:osname', 'hv:ram_minimum'):
            self.assertEqual(original[key], again[key], key)
        self.assertEqual('OVA', hepix.to_entry(centos)['hv:image'][
            'hv:format'])
        for item in (ubuntu, centos):
            self.assertEqual(item, hepix.from_entry(hepix.to_entry(item),
                                                    item.endorser))

    def test_entry_round_trip(self):
        appliance = test_model.make_appliance(
            deprecated='use 2.0', replaced_by='MMZu9WvwKIro-rtBQfDk4PsKO7_')
        again = hepix.from_entry(hepix.to_entry(appliance),
                                 appliance.endorser)
        # Writing adds what atrope and cloudkeeper require: ad:mpuri (the
        # location) and AppDB's fields, empty.
        self.assertEqual(appliance.locations[0], again.mpuri)
        self.assertEqual({'ad:user:fullname': 'Jane'},
                         {k: v for k, v in again.other_fields.items() if v})
        self.assertEqual(appliance, dataclasses.replace(again, mpuri=None,
                                                        other_fields={}))
        entry = hepix.to_entry(appliance)['hv:image']
        self.assertEqual(appliance.stratuslab_id, entry['sl:identifier'])
        self.assertEqual('linux', entry['org.openstack.glance.os_type'])


class RefusalTest(testtools.TestCase):
    """Every refusal names the list, the entry index and the field."""

    def refused(self, entry, raw=None, index=1):
        """Refusal of the AppDB list with ``entry`` fields in an entry.

        ``raw`` replaces the value ``"@RAW@"`` with JSON text (1e999,
        a repeated key...) that no Python value dumps to.
        """
        doc = appdb.document()
        doc['hv:imagelist']['hv:images'][index]['hv:image'].update(entry)
        text = json.dumps(doc)
        if raw is not None:
            text = text.replace('"@RAW@"', raw)
        return self.assertRaises(
            exceptions.InvalidInput, image_list.ImageList.from_document,
            hepix.loads(text, SOURCE), SOURCE)

    def assertNamed(self, error, *parts):
        for part in (SOURCE,) + parts:
            self.assertIn(part, str(error))

    def test_wrong_types_and_ranges(self):
        for field, value, problem in (
                ('hv:size', '1e999', 'a whole number of bytes'),
                ('hv:size', '-1', 'is not a whole number'),
                ('hv:size', '\u00b2', 'is not a whole number'),
                ('hv:size', '1125899906842625', 'not between 0 and'),
                ('hv:ram_minimum', [1], 'is a list, not a whole number'),
                ('hv:core_minimum', 70000, 'not between 0 and 65536'),
                ('dc:title', {'a': 1}, 'is an object, not a string'),
                ('sl:checksum:sha512', 5, 'is a number, not a string'),
                ('sl:checksum:sha512', 'ab', 'not 128'),
                ('sl:vos', [1, 2], 'must be a list of strings'),
                ('dc:date:expires', '\uff12\uff10\uff12\uff16-01-01',
                 'not an ISO 8601 date'),
                ('dc:date:expires', '0001-01-01T00:00:00+01:00',
                 'not between the years'),
                ('dc:date:expires', 12, 'is a number, not a string'),
                ('hv:format', 'exe', 'not a format Glance knows'),
                ('org.openstack.glance.os_type', [], 'is a list')):
            error = self.refused({field: value})
            self.assertNamed(error, 'entry 1', 'field ' + field, problem)
            self.assertIn('662b0e71-3e21-4bbb-b6a1-cc2f51319fa7', str(error))

    def test_values_only_raw_json_carries(self):
        for raw, problem in (('1e999', 'is a number, not a whole number'),
                             ('-1', 'not between 0')):
            error = self.refused({'hv:size': '@RAW@'}, raw)
            self.assertNamed(error, 'entry 1', 'field hv:size', problem)

    def test_repeated_keys(self):
        error = self.assertRaises(
            exceptions.InvalidInput, self.refused, {'hv:size': '@RAW@'},
            '"1", "hv:size": "2"')
        self.assertNamed(error, 'entry 1, field hv:size',
                         'appears more than once')

    def test_duplicate_list_field(self):
        text = json.dumps(appdb.document()).replace(
            '"ad:vo": "vo.example.org"',
            '"ad:vo": "vo.example.org", "ad:vo": "other.vo"')
        error = self.assertRaises(exceptions.InvalidInput, hepix.loads,
                                  text, SOURCE)
        self.assertNamed(error, 'field ad:vo', 'more than once')

    def test_list_structure(self):
        for body, named in (({'hv:endorser': ['x']}, 'field hv:endorser'),
                            ({'hv:images': {}}, 'field hv:images'),
                            ({'dc:identifier': '../x'}, 'field dc:identifier'),
                            ({'dc:date:expires': 'soon'},
                             'field dc:date:expires')):
            error = self.assertRaises(
                exceptions.InvalidInput, read, dict(appdb.document(), **{
                    'hv:imagelist': dict(appdb.document()['hv:imagelist'],
                                         **body)}))
            self.assertNamed(error, named)
        doc = appdb.document()
        doc['hv:imagelist']['hv:images'][2] = 'an entry'
        self.assertNamed(self.assertRaises(exceptions.InvalidInput, read,
                                           doc), 'entry 2', 'not an')

    def test_not_json_numbers_and_depth(self):
        deep = '[' * 100000 + ']' * 100000
        for text, problem in (
                ('{"a": NaN}', 'NaN is not a JSON number'),
                ('{"a": %s}' % ('9' * 30), 'an integer of 30 digits'),
                ('{"hv:imagelist": {"x": %s}}' % deep, 'nested deeper'),
                (b'\xff\xfe\x00', 'is not JSON')):
            error = self.assertRaises(exceptions.InvalidInput, hepix.loads,
                                      text, SOURCE)
            self.assertNamed(error, problem)
        nested = json.dumps(appdb.document()).replace(
            '"ad:appid": "1017"', '"ad:appid": %s' % ('[' * 14 + ']' * 14))
        self.assertNamed(self.assertRaises(
            exceptions.InvalidInput, hepix.loads, nested, SOURCE),
            'entry 0, field ad:appid', 'nested deeper than 16')

    def test_sha512_is_mandatory(self):
        entry = hepix.to_entry(test_model.make_appliance())
        del entry['hv:image']['sl:checksum:sha512']
        e = self.assertRaises(exceptions.InvalidInput, hepix.from_entry,
                              entry)
        self.assertIn('sl:checksum:sha512', str(e))

    def test_bad_fields_are_named(self):
        entry = hepix.to_entry(test_model.make_appliance())
        for key, value, named in [
                ('dc:identifier', '../../etc', 'identifier'),
                ('hv:size', '-3', 'hv:size'),
                ('hv:size', 'big', 'hv:size'),
                ('sl:checksum:sha512', 'abc', 'sha512'),
                ('dc:date:expires', 'tomorrow', 'dc:date:expires'),
                ('hv:format', 'exe', 'hv:format')]:
            bad = {'hv:image': dict(entry['hv:image'], **{key: value})}
            e = self.assertRaises(exceptions.InvalidInput, hepix.from_entry,
                                  bad)
            self.assertIn(named, str(e))

    def test_glance_refuses_ova_as_a_disk_format(self):
        e = self.assertRaises(exceptions.InvalidInput, model.Appliance,
                              identifier='x', title='t', sha512='a' * 128,
                              size=1, disk_format='ova')
        self.assertIn('disk format', str(e))
