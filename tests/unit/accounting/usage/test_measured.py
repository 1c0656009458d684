"""The usage ledger as the record builder's source of measured usage."""

import dataclasses
import os

import fixtures
import testtools

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import intervals
from stratuslab_plugins.accounting.usage import measured
from tests.unit.accounting.usage import nova_payloads as nova

KNOWN = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0d01'
PURGED = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0d02'
UNKNOWN = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0d03'
SAMPLED = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0d04'
OTHER = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0d05'


def api_usage(uuid, until):
    """What the Nova API alone says: running since minute 0, no suspend."""
    return builders.ServerUsage(
        uuid=uuid, project_id='proj-a', started_at=nova.at(0),
        measured_at=until, status='ACTIVE', vcpus=2, memory_mb=4096,
        disk_gb=20)


class LedgerUsageTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        path = self.useFixture(fixtures.TempDir()).path
        self.ledger = usage_ledger.UsageLedger.from_url(
            'sqlite:///%s' % os.path.join(path, 'ledger.sqlite'))
        self.addCleanup(self.ledger.engine.dispose)
        messages = nova.lifecycle(KNOWN, [(0, 'instance.create.end'),
                                          (20, 'instance.suspend.end'),
                                          (50, 'instance.resume.end')])
        messages += nova.lifecycle(PURGED, [(5, 'instance.create.end'),
                                            (15, 'instance.delete.end')],
                                   name='short')
        messages += nova.lifecycle(OTHER, [(5, 'instance.create.end')],
                                   project_id='proj-b')
        self.ledger.record_events(
            [events.parse_notification(*m) for m in messages])
        self.ledger.record_cpu_samples([
            cpu.CpuSample(KNOWN, 'cn1', '1', nova.at(30), 600 * 10 ** 9),
            cpu.CpuSample(SAMPLED, 'cn1', '2', nova.at(30), 90 * 10 ** 9)])
        self.source = measured.LedgerUsage(self.ledger)
        self.context = builders.RecordContext(
            site_name='TEST', vo_for_project=lambda p: 'vo.test',
            cpu_fallback=builders.CPU_FALLBACK_WALL_X_VCPUS)

    def test_the_ledger_wins_where_it_knows_the_instance(self):
        until = nova.at(60)
        known, unknown, sampled = self.source.refine(
            [api_usage(u, until) for u in (KNOWN, UNKNOWN, SAMPLED)])
        record = builders.build_cloud_record(known, self.context)
        self.assertEqual((30 * 60, 30 * 60, 600, 'started', None),
                         (record.wall_duration, record.suspend_duration,
                          record.cpu_duration, record.status,
                          record.end_time))
        # Unknown to the ledger: the API's estimate, unchanged.
        self.assertEqual(api_usage(UNKNOWN, until), unknown)
        self.assertEqual(60 * 60 * 2, builders.build_cloud_record(
            unknown, self.context).cpu_duration)
        # Known only to an agent: its CPU time, the API's intervals.
        self.assertEqual((90, None), (sampled.cpu_seconds,
                                      sampled.wall_seconds))

    def test_status_follows_the_ledger_at_the_period_end(self):
        [known] = self.source.refine([api_usage(KNOWN, nova.at(30))])
        self.assertEqual('suspended', builders.build_cloud_record(
            known, self.context).status)

    def test_vms_purged_between_runs_still_get_a_record(self):
        unseen = self.source.unseen(nova.at(0), nova.at(60), {KNOWN})
        self.assertEqual({PURGED, OTHER}, {u.uuid for u in unseen})
        purged = [u for u in unseen if u.uuid == PURGED][0]
        record = builders.build_cloud_record(purged, self.context)
        self.assertEqual((600, 'completed', nova.at(15), 'short', 'proj-a'),
                         (record.wall_duration, record.status,
                          record.end_time, record.machine_name,
                          record.local_group_id))
        self.assertEqual([PURGED], [u.uuid for u in self.source.unseen(
            nova.at(0), nova.at(60), {KNOWN}, projects=['proj-a'])])
        self.assertEqual([], self.source.unseen(
            nova.at(16), nova.at(60), {KNOWN, OTHER}))

    def test_empty_batch(self):
        self.assertEqual([], self.source.refine([]))


class ApplyMeasuredTest(testtools.TestCase):

    def test_nothing_measured_changes_nothing(self):
        usage = api_usage(KNOWN, nova.at(10))
        self.assertEqual(usage, measured.apply_measured(usage))

    def test_api_facts_stay_where_the_ledger_has_none(self):
        usage = dataclasses.replace(api_usage(KNOWN, nova.at(10)),
                                    name='from-api')
        ledger_view = intervals.Usage(
            uuid=KNOWN, started_at=nova.at(1), measured_at=nova.at(10),
            ended_at=None, status='active', wall_seconds=540,
            suspend_seconds=0, name='from-ledger', vcpus=None)
        got = measured.apply_measured(usage, ledger_view, cpu_seconds=7)
        self.assertEqual(('from-api', 2, nova.at(1), 540, 7),
                         (got.name, got.vcpus, got.started_at,
                          got.wall_seconds, got.cpu_seconds))
