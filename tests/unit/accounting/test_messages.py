"""Wire formats: what the repository's parsers read, hostile values too."""

import datetime
import json
from xml.etree import ElementTree

import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting import records
from tests.unit.accounting import apel_oracle

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC)
HOSTILE_NAMES = [
    'evil\nSiteName: OTHER-SITE',
    'a %% b',
    '%%',
    '\n%%\n',
    'caf\u00e9 \u2603 \u65e5\u672c',
    'x' * 10000,
    '\r\n\t\x00\x1b[31m',
    '%' * 50,
    '\u200b\u202e',
]


def cloud_record(uuid='vm-1', name='vm', **kwargs):
    values = dict(vm_uuid=uuid, site_name='TEST-SITE', start_time=T0,
                  machine_name=name, local_user_id='u1',
                  local_group_id='p1', global_user_name='alice',
                  vo='vo.example.org', status='started', wall_duration=3600,
                  cpu_count=2.0, memory=2048, disk=20, image_id='img',
                  cloud_type='OpenStack')
    values.update(kwargs)
    return records.CloudRecord(**values)


def pack(fmt, recs, **kwargs):
    packer = messages.Packer(fmt, **kwargs)
    out = []
    for rec in recs:
        out.extend(packer.add(rec))
    out.extend(packer.flush())
    return out


class TestSanitise(testtools.TestCase):

    def test_hostile_values_become_one_safe_line(self):
        for name in HOSTILE_NAMES:
            value = messages.sanitise(name)
            if value is None:
                continue
            self.assertLessEqual(len(value), 255, name)
            value.encode('ascii')
            self.assertNotIn('\n', value)
            self.assertNotIn('%%', value)
            self.assertTrue(value.isprintable(), repr(value))

    def test_accents_are_kept_as_letters(self):
        self.assertEqual('cafe', messages.sanitise('caf\u00e9'))

    def test_truncation_is_marked(self):
        value = messages.sanitise('x' * 10000)
        self.assertEqual('x' * 252 + '...', value)

    def test_nothing_left_is_none(self):
        self.assertIsNone(messages.sanitise('\u65e5\u672c'))
        self.assertIsNone(messages.sanitise('  \n '))

    def test_percent_runs_collapse(self):
        self.assertEqual('100% done %', messages.sanitise('100%% done %%%'))


class TestCloudMessage(testtools.TestCase):

    def test_message_parses_field_by_field(self):
        record = cloud_record(end_time=T0 + datetime.timedelta(hours=1),
                              status='completed', benchmark=12.5,
                              benchmark_type='HEPscore23', cpu_duration=1800,
                              suspend_duration=0)
        [message] = pack(messages.CLOUD, [record])
        [parsed] = apel_oracle.parse(message.body)
        self.assertEqual({
            'VMUUID': 'vm-1', 'SiteName': 'TEST-SITE', 'MachineName': 'vm',
            'LocalUserId': 'u1', 'LocalGroupId': 'p1',
            'GlobalUserName': 'alice',
            'FQAN': '/vo.example.org/Role=NULL/Capability=NULL',
            'Status': 'completed', 'StartTime': int(T0.timestamp()),
            'EndTime': int(T0.timestamp()) + 3600, 'SuspendDuration': 0,
            'WallDuration': 3600, 'CpuDuration': 1800, 'CpuCount': 2.0,
            'Memory': 2048, 'Disk': 20, 'BenchmarkType': 'HEPscore23',
            'Benchmark': 12.5, 'ImageId': 'img', 'CloudType': 'OpenStack',
        }, parsed)

    def test_running_vm_has_end_time_zero(self):
        [message] = pack(messages.CLOUD, [cloud_record()])
        [parsed] = apel_oracle.parse(message.body)
        self.assertEqual(0, parsed['EndTime'])
        self.assertNotIn('CpuDuration', parsed)

    def test_hostile_names_do_not_spoil_neighbours(self):
        recs = [cloud_record('vm-%d' % i, name)
                for i, name in enumerate(HOSTILE_NAMES)]
        recs.append(cloud_record('vm-last', 'fine',
                                 global_user_name='b\u00f6b\n%%'))
        [message] = pack(messages.CLOUD, recs)
        parsed = apel_oracle.parse(message.body)
        self.assertEqual(['vm-%d' % i for i in range(len(HOSTILE_NAMES))]
                         + ['vm-last'], [p['VMUUID'] for p in parsed])
        self.assertEqual('TEST-SITE', parsed[0]['SiteName'])
        self.assertEqual('evil SiteName: OTHER-SITE', parsed[0]['MachineName'])
        self.assertEqual('bob %', parsed[-1]['GlobalUserName'])
        for p in parsed:
            self.assertLessEqual(len(p.get('MachineName') or ''), 255)

    def test_empty_mandatory_field_is_an_error(self):
        self.assertRaises(exceptions.RecordError, messages.render_cloud,
                          cloud_record(site_name='\u65e5'))

    def test_100_records_a_message(self):
        recs = [cloud_record('vm-%d' % i) for i in range(250)]
        out = pack(messages.CLOUD, recs)
        self.assertEqual([100, 100, 50], [len(m.keys) for m in out])
        self.assertEqual(250, sum(len(apel_oracle.parse(m.body))
                                  for m in out))

    def test_byte_limit_is_respected(self):
        recs = [cloud_record('vm-%d' % i, 'n' * 250) for i in range(100)]
        out = pack(messages.CLOUD, recs, max_bytes=4000)
        self.assertGreater(len(out), 1)
        for message in out:
            self.assertLess(len(message.body), 4000)
        self.assertEqual(100, sum(len(apel_oracle.parse(m.body))
                                  for m in out))

    def test_default_limits_with_10000_character_names(self):
        recs = [cloud_record('vm-%d' % i, 'y' * 10000) for i in range(300)]
        out = pack(messages.CLOUD, recs)
        for message in out:
            self.assertLess(len(message.body), messages.MAX_BYTES)
            self.assertLessEqual(len(message.keys), 100)

    def test_record_larger_than_limit_names_it(self):
        exc = self.assertRaises(exceptions.RecordError, pack, messages.CLOUD,
                                [cloud_record('vm-big')], max_bytes=50)
        self.assertIn('vm-big', str(exc))

    def test_bad_limit(self):
        self.assertRaises(exceptions.ConfigurationError, messages.Packer,
                          messages.CLOUD, max_records=0)


class TestStorageMessage(testtools.TestCase):

    def test_star_xml_in_utc_with_hostile_values(self):
        record = records.StorageRecord(
            record_id='vol-1', site_name='TEST-SITE', storage_system='cloud',
            start_time=T0.replace(tzinfo=None),
            end_time=T0 + datetime.timedelta(days=1),
            capacity_bytes=10 * 2 ** 30, local_user_id='u1',
            local_group_id='p1', global_user_name='\u00e9ve <&> \n%%',
            vo='vo.example.org')
        [message] = pack(messages.STORAGE, [record, record])
        message.body.decode('ascii')
        root = ElementTree.fromstring(message.body)
        ns = {'sr': messages.STAR_NAMESPACE}
        recs = root.findall('sr:StorageUsageRecord', ns)
        self.assertEqual(2, len(recs))
        rec = recs[0]
        ident = rec.find('sr:RecordIdentity', ns)
        self.assertEqual('vol-1',
                         ident.get('{%s}recordId' % messages.STAR_NAMESPACE))
        self.assertEqual('2026-11-01T10:00:00Z',
                         rec.find('sr:StartTime', ns).text)
        self.assertEqual('2026-11-02T10:00:00Z',
                         rec.find('sr:EndTime', ns).text)
        self.assertEqual(str(10 * 2 ** 30),
                         rec.find('sr:ResourceCapacityUsed', ns).text)
        subject = rec.find('sr:SubjectIdentity', ns)
        self.assertEqual('eve <&> %',
                         subject.find('sr:UserIdentity', ns).text)
        self.assertEqual('vo.example.org', subject.find('sr:Group', ns).text)
        order = [child.tag.split('}')[1] for child in rec]
        self.assertEqual(['RecordIdentity', 'StorageSystem', 'Site',
                          'StorageMedia', 'SubjectIdentity', 'StartTime',
                          'EndTime', 'ResourceCapacityUsed'], order)


class TestJSONMessages(testtools.TestCase):

    def test_ip_message(self):
        recs = [records.IPRecord(measurement_time=T0, site_name='S',
                                 local_group_id='p1', local_user_id='u1',
                                 ip_version=v, ip_count=n, vo='vo.x',
                                 global_user_name='\u00e1l\nice',
                                 cloud_type='OpenStack')
                for v, n in ((4, 2), (6, 1))]
        [message] = pack(messages.IP, recs)
        document = json.loads(message.body.decode('ascii'))
        self.assertEqual('APEL Public IP message', document['Type'])
        self.assertEqual('v0.2', document['Version'])
        self.assertEqual([(4, 2), (6, 1)],
                         [(r['IPVersion'], r['IPCount'])
                          for r in document['UsageRecords']])
        first = document['UsageRecords'][0]
        self.assertEqual('al ice', first['GlobalUserName'])
        self.assertEqual(int(T0.timestamp()), first['MeasurementTime'])
        self.assertIsNone(first['CloudComputeService'])
        self.assertEqual('/vo.x/Role=NULL/Capability=NULL', first['FQAN'])

    def test_accelerator_message(self):
        rec = records.AcceleratorRecord(
            associated_record='vm-1', site_name='S', measurement_month=11,
            measurement_year=2026, count=2, available_duration=3600,
            vo='vo.x')
        [message] = pack(messages.ACCELERATOR, [rec])
        document = json.loads(message.body)
        self.assertEqual('APEL-accelerator-message', document['Type'])
        [r] = document['UsageRecords']
        for key in ('MeasurementMonth', 'MeasurementYear',
                    'AssociatedRecordType', 'AssociatedRecord', 'FQAN',
                    'SiteName', 'Count', 'AvailableDuration', 'Type'):
            self.assertIn(key, r)
        self.assertEqual('cloud', r['AssociatedRecordType'])
        self.assertEqual('GPU', r['Type'])

    def test_message_set_drops_disabled_kinds(self):
        rec = records.IPRecord(measurement_time=T0, site_name='S',
                               local_group_id='p1', ip_version=4, ip_count=1)
        mset = messages.MessageSet(['cloud'])
        self.assertEqual([], mset.add(rec))
        mset.add(cloud_record())
        self.assertEqual(['cloud'], [m.kind for m in mset.flush()])

    def test_record_document_is_typed(self):
        document = messages.record_document(cloud_record(benchmark=1.5,
                                                         benchmark_type='B'))
        self.assertEqual(3600, document['WallDuration'])
        self.assertEqual(1.5, document['Benchmark'])
        self.assertEqual('cloud', document['RecordType'])
        self.assertEqual('vo.example.org', document['VO'])
        self.assertNotIn('\n', messages.render_document(
            cloud_record(name='a\nb')))
