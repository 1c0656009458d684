"""Record builders: usage in, APEL's terms out."""

import datetime
import logging
import math

import fixtures
import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting import records
from tests.unit.accounting import apel_oracle
from tests.unit.grid import fuzzing

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


def usage(**kwargs):
    values = dict(uuid='vm-1', project_id='p1', user_id='u1',
                  started_at=T0, measured_at=T0 + 10 * HOUR, status='ACTIVE',
                  vcpus=4, memory_mb=8192, disk_gb=40, name='vm one',
                  image_id='img-1', host='host1')
    values.update(kwargs)
    return builders.ServerUsage(**values)


def context(**kwargs):
    values = dict(site_name='TEST-SITE',
                  vo_for_project={'p1': 'vo.example.org'}.get,
                  user_name_for={'u1': 'alice'}.get)
    values.update(kwargs)
    return builders.RecordContext(**values)


class TestBuildCloudRecord(testtools.TestCase):

    def test_running_vm_is_cumulative_since_start(self):
        record = builders.build_cloud_record(usage(), context())

        self.assertEqual('started', record.status)
        self.assertIsNone(record.end_time)
        self.assertEqual(36000, record.wall_duration)
        self.assertEqual(T0, record.start_time)
        self.assertEqual(4.0, record.cpu_count)
        self.assertEqual(8192, record.memory)
        self.assertEqual(40, record.disk)
        self.assertEqual('vm.example.org'.replace('vm', 'vo'), record.vo)
        self.assertEqual('/vo.example.org/Role=NULL/Capability=NULL',
                         record.fqan)
        self.assertEqual('alice', record.global_user_name)
        self.assertEqual('p1', record.local_group_id)
        self.assertEqual('TEST-SITE', record.site_name)

    def test_cpu_duration_is_not_invented(self):
        record = builders.build_cloud_record(usage(), context())
        self.assertIsNone(record.cpu_duration)

    def test_measured_cpu_time_is_used(self):
        record = builders.build_cloud_record(usage(cpu_seconds=1234),
                                             context())
        self.assertEqual(1234, record.cpu_duration)

    def test_wall_x_vcpus_fallback_is_opt_in(self):
        record = builders.build_cloud_record(
            usage(), context(cpu_fallback=builders.CPU_FALLBACK_WALL_X_VCPUS))
        self.assertEqual(36000 * 4, record.cpu_duration)

    def test_deleted_vm_ends_at_termination(self):
        record = builders.build_cloud_record(
            usage(status='DELETED', ended_at=T0 + 2 * HOUR), context())
        self.assertEqual('completed', record.status)
        self.assertEqual(T0 + 2 * HOUR, record.end_time)
        self.assertEqual(7200, record.wall_duration)

    def test_naive_times_are_utc(self):
        naive = T0.replace(tzinfo=None)
        record = builders.build_cloud_record(
            usage(started_at=naive, measured_at=naive + HOUR), context())
        self.assertEqual(int(T0.timestamp()), records.epoch(record.start_time))
        self.assertEqual(3600, record.wall_duration)

    def test_host_hepscore_wins_over_flavor(self):
        specs = {'accounting:benchmark_type': 'HEPSPEC06',
                 'accounting:benchmark_value': '10.5'}
        record = builders.build_cloud_record(
            usage(host_benchmark='17.25', flavor_extra_specs=specs),
            context())
        self.assertEqual(('HEPscore23', 17.25),
                         (record.benchmark_type, record.benchmark))

    def test_flavor_benchmark_when_host_unknown(self):
        specs = {'accounting:benchmark_type': 'HEPSPEC06',
                 'accounting:benchmark_value': '10.5'}
        record = builders.build_cloud_record(
            usage(flavor_extra_specs=specs), context())
        self.assertEqual(('HEPSPEC06', 10.5),
                         (record.benchmark_type, record.benchmark))

    def test_no_benchmark_at_all(self):
        record = builders.build_cloud_record(usage(), context())
        self.assertEqual((None, None),
                         (record.benchmark_type, record.benchmark))

    def test_bad_benchmark_names_the_extra_spec(self):
        exc = self.assertRaises(
            exceptions.RecordError, builders.build_cloud_record,
            usage(flavor_extra_specs={'accounting:benchmark_value': 'fast'}),
            context())
        self.assertIn('accounting:benchmark_value', str(exc))
        self.assertIn("'fast'", str(exc))

    def test_never_started_vm_is_an_error(self):
        self.assertRaises(exceptions.RecordError, builders.build_cloud_record,
                          usage(started_at=None), context())

    def test_unknown_vo_and_user(self):
        record = builders.build_cloud_record(
            usage(project_id='p2', user_id='u2'), context())
        self.assertIsNone(record.vo)
        self.assertIsNone(record.fqan)
        self.assertIsNone(record.global_user_name)

    def test_gpu_flavor_gives_accelerator_record(self):
        specs = {'pci_passthrough:alias': 'a100:2'}
        record = builders.build_cloud_record(
            usage(flavor_extra_specs=specs), context())
        [acc] = record.accelerators
        self.assertEqual(('vm-1', 2, 'a100', 11, 2026),
                         (acc.associated_record, acc.count, acc.model,
                          acc.measurement_month, acc.measurement_year))
        self.assertEqual(36000, acc.available_duration)
        self.assertEqual('vo.example.org', acc.vo)

    def test_accelerator_duration_is_clipped_to_the_month(self):
        specs = {'resources:VGPU': '1'}
        start = datetime.datetime(2026, 10, 31, 0, 0, tzinfo=UTC)
        measured = datetime.datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
        record = builders.build_cloud_record(
            usage(started_at=start, measured_at=measured,
                  flavor_extra_specs=specs), context())
        [acc] = record.accelerators
        self.assertEqual(6 * 3600, acc.available_duration)


class TestOtherRecords(testtools.TestCase):

    def test_storage_record_in_bytes_and_utc(self):
        record = builders.build_storage_record(
            builders.VolumeUsage(uuid='vol-1', project_id='p1', user_id='u1',
                                 created_at=T0.replace(tzinfo=None),
                                 measured_at=T0 + HOUR, size_gb=10),
            context())
        self.assertEqual(10 * 2 ** 30, record.capacity_bytes)
        self.assertEqual(UTC, record.start_time.tzinfo)
        self.assertEqual('vo.example.org', record.vo)
        self.assertEqual('alice', record.global_user_name)

    def test_ip_records_are_keyed_by_version(self):
        v4 = builders.build_ip_record('p1', 'u1', 4, 2, T0, context())
        v6 = builders.build_ip_record('p1', 'u1', 6, 1, T0, context())
        self.assertNotEqual(v4.key, v6.key)


NOT_FINITE = (float('nan'), float('inf'), float('-inf'), 10 ** 400)
whole_numbers = st.one_of(st.none(), st.integers(0, 10 ** 12),
                          st.sampled_from(NOT_FINITE))


class TestNumericFieldsAreFinite(testtools.TestCase):
    """APEL's repository refuses a message over one nan or inf."""

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(
            name=builders.__name__, level=logging.WARNING))

    def rendered(self, record):
        packer = messages.Packer(messages.CLOUD)
        packer.add(record)
        [message] = packer.flush()
        [parsed] = apel_oracle.parse(message.body)
        for value in parsed.values():
            if isinstance(value, float):
                self.assertTrue(math.isfinite(value), parsed)
        return parsed

    def test_flavor_benchmark_nan_is_dropped_with_a_warning(self):
        # accounting:benchmark_value = nan wrote "Benchmark: nan".
        for value in ('nan', 'inf', '-inf', '1e999'):
            record = builders.build_cloud_record(usage(flavor_extra_specs={
                'accounting:benchmark_value': value}), context())
            self.assertEqual((None, None),
                             (record.benchmark_type, record.benchmark))
            self.assertNotIn('Benchmark', self.rendered(record))
        self.assertEqual(4, self.logs.output.count(
            'flavor extra spec accounting:benchmark_value is'))
        self.assertIn("is '1e999', not a finite number: no benchmark is "
                      'written', self.logs.output)

    def test_host_benchmark_nan_leaves_the_flavor_one(self):
        record = builders.build_cloud_record(usage(
            host_benchmark=float('nan'),
            flavor_extra_specs={'accounting:benchmark_value': '10.5'}),
            context())
        self.assertEqual(('HEPscore23', 10.5),
                         (record.benchmark_type, record.benchmark))
        self.assertIn('Server vm-1: host_benchmark=nan not a finite number',
                      self.logs.output)

    def test_other_numbers_that_are_not_finite_are_left_out(self):
        record = builders.build_cloud_record(usage(
            vcpus=float('inf'), memory_mb=10 ** 400,
            wall_seconds=float('nan'), cpu_seconds=float('inf')), context())
        parsed = self.rendered(record)
        self.assertEqual(36000, parsed['WallDuration'])
        for field in ('CpuCount', 'Memory', 'CpuDuration'):
            self.assertNotIn(field, parsed)
        self.assertEqual(1, self.logs.output.count('Server vm-1: '))
        self.assertIn('memory_mb=a huge integer', self.logs.output)

    @fuzzing.FUZZ
    @hypothesis.given(
        st.fixed_dictionaries({
            'vcpus': whole_numbers, 'memory_mb': whole_numbers,
            'disk_gb': whole_numbers, 'public_ip_count': whole_numbers,
            'wall_seconds': whole_numbers, 'suspend_seconds': whole_numbers,
            'cpu_seconds': whole_numbers,
            'host_benchmark': st.one_of(
                st.none(), st.floats(), fuzzing.numbers_as_text)}),
        st.one_of(st.none(), fuzzing.numbers_as_text))
    def test_any_numbers(self, numbers, quoted):
        specs = {} if quoted is None else {
            'accounting:benchmark_value': quoted}
        record = fuzzing.assert_bounded(
            self, builders.build_cloud_record,
            usage(flavor_extra_specs=specs, **numbers), context(),
            documented=exceptions.RecordError,
            size=fuzzing.input_size((numbers, quoted)))
        if isinstance(record, exceptions.RecordError):
            # Only a benchmark that is not a number at all.
            self.assertIn('not a number', str(record))
            return
        self.rendered(record)
