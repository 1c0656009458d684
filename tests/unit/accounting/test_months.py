"""Month attribution, checked against a model of the APEL repository.

Real pieces: the usage ledger (SQLite) fed with Nova-shaped notifications
and libvirt-agent readings, the manager and its state ledger, the ``ssm``
messenger's dirq queue, and the package's strict APEL reader. The
repository is :mod:`tests.unit.accounting.apel_repository`'s model of
APEL 2.5.0's documented REPLACE and summary rules. Expected figures are
computed here from each VM's script, not by the code under test.
"""

import datetime
import os
from unittest import mock

import fixtures
import testtools

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting.ledger import state as state_mod
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting import manager as manager_mod
from stratuslab_plugins.accounting.messengers import ssm
from stratuslab_plugins.accounting import months
from stratuslab_plugins.accounting import records
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import measured as measured_mod
from tests.unit.accounting import apel_repository
from tests.unit.accounting import fakes
from tests.unit.accounting.usage import nova_payloads as nova

UTC = datetime.timezone.utc
MINUTE = datetime.timedelta(minutes=1)
#: The agent's reading period in these scripts: off every month's grid,
#: so that month ends fall between two readings.
PERIOD = 97 * MINUTE

#: What each lifecycle event makes of a VM: running, suspended (its run
#: goes on, its CPU counter stands still) or gone (the run ends).
STARTS = {'instance.create.end', 'instance.power_on.end'}
RESUMES = {'instance.resume.end', 'instance.unpause.end'}
PAUSES = {'instance.suspend.end', 'instance.pause.end'}
ENDS = {'instance.power_off.end', 'instance.delete.end'}


def t(month, day, hour=0, year=2026):
    return datetime.datetime(year, month, day, hour, tzinfo=UTC)


def next_month(moment):
    return datetime.datetime(moment.year + moment.month // 12,
                             moment.month % 12 + 1, 1, tzinfo=UTC)


def seconds_by_month(spans):
    """Return ``{(year, month): seconds}`` of ``[start, end)`` spans."""
    result = {}
    for start, end in spans:
        while start < end:
            cut = min(end, next_month(start))
            key = (start.year, start.month)
            result[key] = result.get(key, 0) + int(
                (cut - start).total_seconds())
            start = cut
    return result


class VM:
    """A scripted VM: its notifications, and an agent reading it.

    The agent reads every :data:`PERIOD` from the start of each run, at
    each lifecycle event, and when asked (the reading just before a
    publication); the VM burns one CPU-second per running second.

    :param steps: ``[(time, event type)]``, oldest first.
    """

    def __init__(self, uuid, steps):
        self.uuid = uuid
        self.steps = steps
        self.extra_readings = set()

    def running_spans(self, until):
        spans, since = [], None
        for when, event_type in self.steps + [(until, None)]:
            when = min(when, until)
            if since is not None and when > since:
                spans.append((since, when))
            if event_type in STARTS | RESUMES:
                since = when
            elif event_type is not None:
                since = None
        return spans

    def runs(self, until):
        """Return ``[(start, end)]`` of each QEMU run by ``until``."""
        runs, start = [], None
        for when, event_type in self.steps:
            if when > until:
                break
            if event_type in STARTS:
                start = when
            elif event_type in ENDS and start is not None:
                runs.append((start, when))
                start = None
        if start is not None:
            runs.append((start, until))
        return runs

    def readings(self, until):
        self.extra_readings.add(until)
        spans = self.running_spans(until)
        samples = []
        for number, (start, end) in enumerate(self.runs(until)):
            times = {start + k * PERIOD
                     for k in range(int((end - start) / PERIOD) + 1)}
            times |= {when for when, _ in self.steps if start <= when <= end}
            times |= {when for when in self.extra_readings
                      if start <= when <= end}
            for when in sorted(times):
                busy = sum((min(e, when) - max(s, start)).total_seconds()
                           for s, e in spans if s < when and e > start)
                samples.append(cpu.CpuSample(
                    self.uuid, 'cn1', 'run-%d' % number, when,
                    int(busy) * cpu.NANOSECONDS))
        return samples

    def notifications(self, until):
        launched = self.steps[0][0]
        return [events.parse_notification(*nova.notification(
            event_type, self.uuid, when, launched, project_id='proj-a'))
            for when, event_type in self.steps if when <= until]

    def expected(self, until):
        return seconds_by_month(self.running_spans(until))


class LedgerExtractor(base.Extractor):
    """Cloud records of every VM the usage ledger saw in the window.

    The Nova extractor's ledger-only path (VMs the API no longer lists),
    without an API: the ledger is the whole cloud here.
    """

    kinds = ('cloud',)
    service = 'ledger'

    def extract(self, since, until, context, projects=None):
        for usage in context.unseen_usages(since, until, set(), projects):
            yield builders.build_cloud_record(usage, context)


class APIExtractor(base.Extractor):
    """One VM as Nova's API alone tells it: created at ``STARTED``."""

    kinds = ('cloud',)
    service = 'api'
    UUID = '4b0e7c1e-0000-4000-8000-00000000a001'
    STARTED = t(10, 20, 8)

    def extract(self, since, until, context, projects=None):
        yield builders.build_cloud_record(builders.ServerUsage(
            uuid=self.UUID, project_id='proj-a', started_at=self.STARTED,
            measured_at=until, status='ACTIVE', vcpus=2), context)


class MonthAttributionTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.queue = os.path.join(self.tmp, 'outgoing')
        self.ledger = usage_ledger.UsageLedger.from_url(
            'sqlite:///%s' % os.path.join(self.tmp, 'usage.sqlite'))
        self.addCleanup(self.ledger.engine.dispose)
        self.state = state_mod.StateLedger.from_url(
            'sqlite:///%s' % os.path.join(self.tmp, 'state.sqlite'))
        self.repository = apel_repository.Repository()
        self.vms = []

    def manager(self, first_publication_months=12, extractor=LedgerExtractor,
                fallback=builders.CPU_FALLBACK_NONE):
        conf = fakes.make_conf(
            accounting={'first_publication_months': first_publication_months,
                        'first_run_lookback_days': 31},
            accounting_ssm={'output_path': self.queue})
        measured = measured_mod.LedgerUsage(self.ledger)
        context = builders.RecordContext(
            site_name='TEST-SITE', vo_for_project={'proj-a': 'vo.a'}.get,
            refine_usages=measured.refine, unseen_usages=measured.unseen,
            cpu_fallback=fallback)
        return manager_mod.Manager(
            conf, {'fake': extractor},
            [ssm.SSMMessenger(conf, manager_mod.enabled_kinds(conf))],
            self.state, context, measured=measured)

    def vm(self, steps, number=1):
        vm = VM('4b0e7c1e-0000-4000-8000-%012d' % number, steps)
        self.vms.append(vm)
        return vm

    def publish(self, until, **kwargs):
        """Bring the ledger to ``until``, publish, let the model load."""
        options = {k: kwargs.pop(k) for k in list(kwargs)
                   if k in ('first_publication_months', 'extractor',
                            'fallback')}
        for vm in self.vms:
            self.ledger.record(events=vm.notifications(until),
                               samples=vm.readings(until))
        result = self.manager(**options).publish(until=until, **kwargs)
        self.repository.drain(self.queue)
        return result

    def monthly(self, field, vm):
        return {(year, month): value for (uuid, year, month), value
                in self.repository.monthly(field).items()
                if uuid == vm.uuid}

    def assertExact(self, vm, until):
        expected = vm.expected(until)
        self.assertEqual(expected, self.monthly('WallDuration', vm))
        # One CPU-second per running second, read by the agent.
        self.assertEqual(expected, self.monthly('CpuDuration', vm))

    def test_a_window_across_a_month_end_books_each_month_its_own(self):
        vm = self.vm([(t(11, 20, 10), 'instance.create.end'),
                      (t(11, 27), 'instance.suspend.end'),
                      (t(11, 28, 6), 'instance.resume.end')])
        self.publish(t(11, 25))
        result = self.publish(t(12, 2, 12))

        self.assertEqual({(2026, 11): 224 * 3600, (2026, 12): 36 * 3600},
                         vm.expected(t(12, 2, 12)))
        self.assertExact(vm, t(12, 2, 12))
        # The month-end record, then the window's end: two records.
        self.assertEqual(2, result.records)
        month_end = self.repository.records[(vm.uuid, 2026, 11)][1]
        self.assertEqual((records.epoch(t(12, 1)) - 1, 30 * 3600, 'started'),
                         (month_end['RecordCreateTime'],
                          month_end['SuspendDuration'],
                          month_end['Status']))

    def test_first_publication_of_a_months_old_vm(self):
        vm = self.vm([(t(8, 15, 8), 'instance.create.end'),
                      (t(9, 10), 'instance.power_off.end'),
                      (t(9, 20, 12), 'instance.power_on.end'),
                      (t(10, 31, 18), 'instance.suspend.end'),
                      (t(11, 2, 6), 'instance.resume.end')])
        # Stopped before November began and started again in December:
        # no record for November, which it did not use.
        idle = self.vm([(t(10, 1), 'instance.create.end'),
                        (t(10, 25), 'instance.power_off.end'),
                        (t(12, 1, 6), 'instance.power_on.end')], number=2)
        self.publish(t(12, 2, 12))

        self.assertEqual([(2026, m) for m in (8, 9, 10, 11, 12)],
                         sorted(vm.expected(t(12, 2, 12))))
        self.assertExact(vm, t(12, 2, 12))
        self.assertExact(idle, t(12, 2, 12))
        self.assertNotIn((idle.uuid, 2026, 11), self.repository.records)

    def test_first_publication_is_capped(self):
        vm = self.vm([(t(8, 15, 8), 'instance.create.end')])
        self.publish(t(12, 2, 12), first_publication_months=2)

        exact = vm.expected(t(12, 2, 12))
        before_november = sum(v for (_, month), v in exact.items()
                              if month < 11)
        # Two months before December's own: August and September are
        # booked into October, the oldest of them.
        self.assertEqual({(2026, 10): before_november,
                          (2026, 11): exact[(2026, 11)],
                          (2026, 12): exact[(2026, 12)]},
                         self.monthly('WallDuration', vm))

    def test_republishing_a_window_changes_nothing(self):
        vm = self.vm([(t(11, 20, 10), 'instance.create.end')])
        self.publish(t(11, 25))
        self.publish(t(12, 2, 12))
        booked = dict(self.repository.records)

        result = self.publish(t(12, 2, 12), since=t(11, 25))
        self.assertFalse(result.windows_moved)
        self.assertEqual(booked, self.repository.records)
        # A run whose bookkeeping failed after the hand-over is resent
        # whole by the next: the same records again.
        with mock.patch.object(
                self.state, 'advance',
                side_effect=exceptions.LedgerError('injected')):
            self.assertRaises(exceptions.LedgerError, self.publish,
                              t(12, 9))
        self.publish(t(12, 9))
        self.assertExact(vm, t(12, 9))

    def test_an_older_window_republished_is_set_right_by_the_next_run(self):
        vm = self.vm([(t(11, 20, 10), 'instance.create.end')])
        for until in (t(11, 25), t(12, 2, 12), t(12, 9)):
            self.publish(until)
        # Its window-end record REPLACEs December's later one until the
        # next regular run: November stays exact throughout.
        self.publish(t(12, 2, 12), since=t(11, 25))
        self.assertEqual(vm.expected(t(12, 2, 12)),
                         self.monthly('WallDuration', vm))
        self.publish(t(12, 16))
        self.assertExact(vm, t(12, 16))

    def test_stopped_across_a_month_end_then_deleted(self):
        vm = self.vm([(t(11, 10), 'instance.create.end'),
                      (t(11, 28), 'instance.power_off.end'),
                      (t(12, 1, 6), 'instance.power_on.end'),
                      (t(12, 2), 'instance.delete.end')])
        self.publish(t(11, 25))
        self.publish(t(12, 3))
        self.assertEqual({(2026, 11): 18 * 86400, (2026, 12): 18 * 3600},
                         vm.expected(t(12, 3)))
        self.assertExact(vm, t(12, 3))
        november = self.repository.records[(vm.uuid, 2026, 11)][1]
        self.assertEqual(('completed', records.epoch(t(11, 28))),
                         (november['Status'], november['EndTime']))

    def test_a_vm_only_the_api_knows_is_split_by_calendar(self):
        self.publish(t(11, 25), extractor=APIExtractor,
                     fallback=builders.CPU_FALLBACK_WALL_X_VCPUS)
        self.publish(t(12, 2, 12), extractor=APIExtractor,
                     fallback=builders.CPU_FALLBACK_WALL_X_VCPUS)
        vm = VM(APIExtractor.UUID, [(APIExtractor.STARTED,
                                     'instance.create.end')])
        expected = vm.expected(t(12, 2, 12))
        self.assertEqual([(2026, 10), (2026, 11), (2026, 12)],
                         sorted(expected))
        self.assertEqual(expected, self.monthly('WallDuration', vm))
        self.assertEqual({k: 2 * v for k, v in expected.items()},
                         self.monthly('CpuDuration', vm))


class MonthEndsTest(testtools.TestCase):

    def test_month_ends_after_and_up_to(self):
        self.assertEqual([t(12, 1), t(1, 1, year=2027)], months.month_ends(
            t(11, 1), t(1, 1, year=2027)))
        self.assertEqual([], months.month_ends(t(11, 2), t(11, 30, 23)))
        self.assertEqual([t(12, 1)], months.month_ends(t(11, 30, 23),
                                                       t(12, 1)))

    def test_first_publication_floor(self):
        self.assertEqual(t(12, 1, year=2025),
                         months.first_publication_floor(t(12, 2, 12), 12))
        self.assertEqual(t(12, 1), months.first_publication_floor(
            t(12, 2, 12), 0))

    def test_a_vm_that_ended_needs_no_month_end_after(self):
        record = records.CloudRecord(
            vm_uuid='x', site_name='S', start_time=t(10, 5),
            end_time=t(11, 10), status='completed')
        self.assertEqual([t(11, 1)], months.boundaries(
            record, t(9, 1), t(12, 2)))

    def test_stopped_at_the_month_end_instant_is_booked_before_it(self):
        record = records.CloudRecord(
            vm_uuid='x', site_name='S', start_time=t(11, 5),
            end_time=t(12, 1), status='completed', wall_duration=0,
            measured_at=t(12, 2))
        at_end = months.at_month_end(record, t(12, 1))
        self.assertEqual(('started', None, t(12, 1) - months.LAST_SECOND,
                          26 * 86400),
                         (at_end.status, at_end.end_time, at_end.measured_at,
                          at_end.wall_duration))

    def test_cpu_of_a_vm_an_agent_read_is_never_estimated(self):
        record = records.CloudRecord(
            vm_uuid='x', site_name='S', start_time=t(11, 5), cpu_count=2.0,
            status='started')
        fallback = builders.CPU_FALLBACK_WALL_X_VCPUS
        self.assertIsNone(months.at_month_end(
            record, t(12, 1), sampled=True,
            cpu_fallback=fallback).cpu_duration)
        self.assertEqual(2 * 26 * 86400, months.at_month_end(
            record, t(12, 1), cpu_fallback=fallback).cpu_duration)
