"""Fuzzing APEL record fields: any value in, messages the repository reads.

Hypothesis fills every text field a record takes from Nova, Keystone or
Cinder (server, user, project and volume names, VOs, image ids, the
flavor's benchmark type and accelerator specs) with hostile text: record
separators (``%%``), newlines and ``Key: value`` injections, markup,
non-ASCII, lone surrogates, values past the field size. The records are
built as the extractors build them, packed as the messengers pack them,
and read back as the repository does: the cloud message with the strict
APEL reader (:mod:`stratuslab_plugins.accounting.apel_reader`), StAR with
ElementTree, the public-IP and accelerator messages with a JSON parser
that refuses ``NaN``. Only ``RecordError`` (a mandatory field empty once
sanitised) escapes; every record comes back whole, alone and in order;
every value is printable ASCII within its field size; packing costs
bounded memory. Failures found are kept as plain tests at the end.
"""

import datetime
import json
import logging
from xml.etree import ElementTree

import fixtures
import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.accounting import accelerators as gpus
from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting import records
from tests.unit.accounting import apel_oracle
from tests.unit.grid import fuzzing

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)

# What broke or could break a line-based message, beside any text.
text_values = st.one_of(
    fuzzing.request_text,
    st.sampled_from(['%%', '\n%%\n', 'x\nSiteName: OTHER', 'a: b',
                     '<x>&amp;</x>', ']]>', '"\\u0000', 'none', 'null',
                     ' ', '\u200b', 'caf\u00e9', '\ud800']),
    st.integers(1, 300).map(lambda n: 'y' * n))
optional_text = st.none() | text_values
# Accelerator specs as a flavor may hold them, counts of any shape.
alias_specs = st.lists(
    st.tuples(text_values, fuzzing.numbers_as_text).map(':'.join),
    max_size=3).map(','.join)
flavor_specs = st.fixed_dictionaries({}, optional={
    'pci_passthrough:alias': alias_specs | fuzzing.json_values,
    'resources:VGPU': fuzzing.numbers_as_text | fuzzing.json_values,
    'accounting:benchmark_type': optional_text,
    'accounting:benchmark_value': st.sampled_from(['10.5', '7', '']),
})
usages = st.builds(
    builders.ServerUsage,
    uuid=text_values, project_id=text_values, user_id=optional_text,
    started_at=st.just(T0), measured_at=st.just(T0 + 10 * HOUR),
    status=optional_text, vcpus=st.just(2), memory_mb=st.just(2048),
    disk_gb=st.just(20), name=optional_text, image_id=optional_text,
    host=optional_text, flavor_extra_specs=flavor_specs)
contexts = st.builds(
    lambda site, vo, user, service: builders.RecordContext(
        site_name=site, vo_for_project=lambda project: vo,
        user_name_for=lambda user_id: user, cloud_compute_service=service),
    text_values, optional_text, optional_text, optional_text)
volumes = st.builds(
    builders.VolumeUsage, uuid=text_values, project_id=text_values,
    created_at=st.just(T0), measured_at=st.just(T0 + HOUR),
    size_gb=st.integers(0, 10 ** 6), user_id=optional_text,
    name=optional_text, volume_type=optional_text)


def refuse_constant(name):
    raise ValueError('%s is not JSON a strict parser reads' % name)


def strict_json(body):
    return json.loads(body.decode('ascii'), parse_constant=refuse_constant)


def packed(fmt, recs):
    packer = messages.Packer(fmt)
    out = [m for rec in recs for m in packer.add(rec)]
    return out + packer.flush()


def size_of(value):
    return len(str(value).encode('utf-8', 'surrogatepass'))


class RecordFieldFuzzTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # Hostile specs warn; keep the output of a run readable.
        self.useFixture(fixtures.FakeLogger(level=logging.ERROR))

    def assert_safe(self, value, field):
        if isinstance(value, str):
            self.assertTrue(value.isascii() and value.isprintable(),
                            '%s: %r' % (field, value))
            self.assertLessEqual(len(value), messages.FIELD_SIZES.get(
                field, messages.DEFAULT_FIELD_SIZE), field)

    def pack_contained(self, fmt, recs, budget):
        """Pack ``recs``; only RecordError escapes, in bounded memory."""
        outcome, peak = fuzzing.peak_memory(packed, fmt, recs)
        self.assertLessEqual(peak, fuzzing.MEMORY_FACTOR * budget
                             + fuzzing.MEMORY_SLACK)
        if isinstance(outcome, exceptions.RecordError):
            return None
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    @hypothesis.settings(fuzzing.FUZZ)
    @hypothesis.given(st.lists(usages, min_size=1, max_size=4), contexts)
    def test_cloud_and_accelerator_records(self, found, context):
        built = [builders.build_cloud_record(usage, context)
                 for usage in found]
        for record in built:
            for accelerator in record.accelerators:
                self.assertTrue(0 < accelerator.count
                                <= gpus.MAX_ACCELERATOR_COUNT)
        # A record that cannot be written is refused alone.
        writable = []
        for record in built:
            try:
                messages.render_cloud(record)
            except exceptions.RecordError:
                continue
            writable.append(record)
        budget = sum(size_of(vars(usage)) for usage in found)
        out = self.pack_contained(messages.CLOUD, writable, budget)
        parsed = [fields for message in out
                  for fields in apel_oracle.parse(message.body)]
        self.assertEqual([messages.sanitise(r.vm_uuid) for r in writable],
                         [fields['VMUUID'] for fields in parsed])
        for fields in parsed:
            for field, value in fields.items():
                self.assert_safe(value, field)
        accelerators = [a for r in built for a in r.accelerators]
        out = self.pack_contained(messages.ACCELERATOR, accelerators,
                                  budget) or []
        documents = [document for message in out
                     for document in strict_json(message.body)[
                         'UsageRecords']]
        self.assertLessEqual(len(documents), len(accelerators))
        for document in documents:
            for field, value in document.items():
                self.assert_safe(value, field)

    @hypothesis.settings(fuzzing.FUZZ)
    @hypothesis.given(st.lists(volumes, min_size=1, max_size=4), contexts)
    def test_storage_records(self, found, context):
        recs = [builders.build_storage_record(volume, context)
                for volume in found]
        out = self.pack_contained(messages.STORAGE, recs, sum(
            size_of(vars(volume)) for volume in found))
        if out is None:
            return
        ns = {'sr': messages.STAR_NAMESPACE}
        elements = []
        for message in out:
            message.body.decode('ascii')
            elements += ElementTree.fromstring(message.body).findall(
                'sr:StorageUsageRecord', ns)
        self.assertEqual(len(recs), len(elements))
        for element in elements:
            for node in element.iter():
                self.assert_safe(node.text, node.tag.split('}')[1])

    @hypothesis.settings(fuzzing.FUZZ)
    @hypothesis.given(st.lists(st.tuples(text_values, optional_text,
                                         st.sampled_from([4, 6]),
                                         st.integers(0, 10 ** 6)),
                               min_size=1, max_size=4), contexts)
    def test_public_ip_records(self, found, context):
        recs = [builders.build_ip_record(project, user, version, count,
                                         T0, context)
                for project, user, version, count in found]
        out = self.pack_contained(messages.IP, recs, sum(
            size_of(item) for item in found))
        documents = [document for message in out
                     for document in strict_json(message.body)[
                         'UsageRecords']]
        self.assertEqual([r.ip_count for r in recs],
                         [d['IPCount'] for d in documents])
        for document in documents:
            for field, value in document.items():
                self.assert_safe(value, field)


class FoundTest(testtools.TestCase):
    """Inputs that broke records or messages, kept as plain tests."""

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(
            level=logging.WARNING))

    def accelerators(self, **specs):
        usage = builders.ServerUsage(
            uuid='vm-1', project_id='p1', started_at=T0,
            measured_at=T0 + HOUR, vcpus=1, memory_mb=1, disk_gb=1,
            flavor_extra_specs=specs)
        record = builders.build_cloud_record(usage, builders.RecordContext(
            site_name='S', vo_for_project=lambda project: 'vo.x',
            user_name_for=lambda user: None))
        return [(a.model, a.count) for a in record.accelerators]

    def test_counts_that_are_not_counts_are_left_out(self):
        # int('x'), int('²') and int('1e999') raised ValueError out of
        # build_cloud_record: the run failed for every VM of the site.
        self.assertEqual([('a2', 2)], self.accelerators(**{
            'pci_passthrough:alias': 'a1:x,a2:2'}))
        for vgpus in ('²', '1e999', '9' * 5000, '-1', '1025'):
            self.assertEqual([], self.accelerators(**{
                'resources:VGPU': vgpus}))
        self.assertIn('resources:VGPU gives', self.logs.output)
        self.assertIn("pci_passthrough:alias gives 'x'", self.logs.output)

    def test_negative_and_huge_counts_are_not_written(self):
        # "a1:-3" wrote Count: -3; forty nines, a forty-digit Count.
        self.assertEqual([], self.accelerators(**{
            'pci_passthrough:alias': 'a1:-3,a2:' + '9' * 40}))

    def test_specs_that_are_not_text(self):
        self.assertEqual([], self.accelerators(**{
            'pci_passthrough:alias': ['gpu:1'], 'resources:VGPU': 10 ** 400}))
        self.assertIn('is a list, not text', self.logs.output)

    def test_mandatory_value_the_repository_reads_as_null(self):
        # VMUUID "none" was written; APEL reads none and null, in any
        # case, as NULL, and refuses the whole message for it.
        for uuid, site in (('none', 'S'), ('NULL', 'S'), ('vm-1', 'None')):
            record = records.CloudRecord(vm_uuid=uuid, site_name=site,
                                         start_time=T0)
            error = self.assertRaises(exceptions.RecordError,
                                      messages.render_cloud, record)
            self.assertIn('reads as NULL', str(error))
        self.assertRaises(apel_oracle.Rejected, apel_oracle.parse,
                          b'APEL-cloud-message: v0.4\nVMUUID: NULL\n'
                          b'SiteName: S\n%%\n')
