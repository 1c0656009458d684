"""Intervals and usage from an instance's events, in any order."""

import itertools
import random

import testtools

from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import intervals
from tests.unit.accounting.usage import nova_payloads as nova

UUID = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0002'


def parsed(messages):
    return [events.parse_notification(*m) for m in messages]


def kinds(timeline):
    return [(i.kind, i.start, i.end) for i in timeline.intervals]


class TimelineTest(testtools.TestCase):

    def test_suspend_and_resume(self):
        timeline = intervals.build_timeline(parsed(nova.lifecycle(UUID, [
            (0, 'instance.create.end'),
            (10, 'instance.suspend.end'),
            (25, 'instance.resume.end'),
            (40, 'instance.delete.end')])))
        self.assertEqual([
            (events.RUNNING, nova.at(0), nova.at(10)),
            (events.SUSPENDED, nova.at(10), nova.at(25)),
            (events.RUNNING, nova.at(25), nova.at(40))], kinds(timeline))
        self.assertEqual(nova.at(40), timeline.deleted_at)
        usage = intervals.usage_until(timeline, nova.at(60))
        self.assertEqual((25 * 60, 15 * 60, 'deleted', nova.at(40)),
                         (usage.wall_seconds, usage.suspend_seconds,
                          usage.status, usage.ended_at))

    def test_any_order_and_duplicates_give_the_same_timeline(self):
        messages = nova.lifecycle(UUID, [
            (0, 'instance.create.end'), (5, 'instance.power_off.end'),
            (7, 'instance.power_on.end'), (9, 'instance.pause.end'),
            (11, 'instance.unpause.end'), (13, 'instance.shelve.end'),
            (15, 'instance.shelve_offload.end'),
            (20, 'instance.unshelve.end'), (30, 'instance.delete.end')])
        expected = intervals.build_timeline(parsed(messages))
        shuffler = random.Random(42)
        for _ in range(20):
            shuffled = parsed(messages) + parsed(
                shuffler.sample(messages, 3))
            shuffler.shuffle(shuffled)
            self.assertEqual(expected, intervals.build_timeline(shuffled))
        usage = intervals.usage_until(expected, nova.at(60))
        # running 0-5, 7-9, 11-13, 20-30; paused 9-11 and shelved on its
        # host 13-15 count as suspended; stopped 5-7 and offloaded 15-20
        # as neither.
        self.assertEqual((19 * 60, 4 * 60),
                         (usage.wall_seconds, usage.suspend_seconds))

    def test_resize_splits_the_interval_and_changes_the_flavor(self):
        messages = nova.lifecycle(UUID, [(0, 'instance.create.end')])
        messages.append(nova.notification(
            'instance.resize_finish.end', UUID, nova.at(30), nova.at(0),
            flavor=nova.flavor_payload(vcpus=8, memory_mb=16384,
                                       flavorid='m1.xlarge')))
        timeline = intervals.build_timeline(parsed(reversed(messages)))
        self.assertEqual([(2, nova.at(0), nova.at(30)),
                          (8, nova.at(30), None)],
                         [(i.flavor.vcpus, i.start, i.end)
                          for i in timeline.intervals])
        usage = intervals.usage_until(timeline, nova.at(45))
        self.assertEqual((45 * 60, 8, 16384, 'active', None),
                         (usage.wall_seconds, usage.vcpus, usage.memory_mb,
                          usage.status, usage.ended_at))
        before = intervals.usage_until(timeline, nova.at(20))
        self.assertEqual((20 * 60, 2), (before.wall_seconds, before.vcpus))

    def test_usage_until_a_time_inside_an_interval(self):
        timeline = intervals.build_timeline(parsed(nova.lifecycle(UUID, [
            (0, 'instance.create.end'), (10, 'instance.suspend.end')])))
        usage = intervals.usage_until(timeline, nova.at(30))
        self.assertEqual((600, 1200, 'suspended', None),
                         (usage.wall_seconds, usage.suspend_seconds,
                          usage.status, usage.ended_at))
        self.assertIsNone(intervals.usage_until(timeline, nova.at(-1)))

    def test_stopped_instance_has_ended_until_it_starts_again(self):
        timeline = intervals.build_timeline(parsed(nova.lifecycle(UUID, [
            (0, 'instance.create.end'), (10, 'instance.power_off.end'),
            (50, 'instance.power_on.end')])))
        self.assertEqual(nova.at(10), intervals.usage_until(
            timeline, nova.at(20)).ended_at)
        self.assertIsNone(intervals.usage_until(timeline,
                                                nova.at(60)).ended_at)

    def test_instance_older_than_the_listener_counts_as_running(self):
        # Only the periodic audit is seen, launched long before.
        messages = [nova.notification(events.EXISTS, UUID, nova.at(60),
                                      nova.at(0), state='suspended')]
        timeline = intervals.build_timeline(parsed(messages))
        self.assertEqual([(events.UNKNOWN, nova.at(0), nova.at(60)),
                          (events.SUSPENDED, nova.at(60), None)],
                         kinds(timeline))
        usage = intervals.usage_until(timeline, nova.at(90))
        self.assertEqual((3600, 1800), (usage.wall_seconds,
                                        usage.suspend_seconds))

    def test_only_a_delete_still_gives_the_lifetime(self):
        timeline = intervals.build_timeline(parsed([nova.notification(
            'instance.delete.end', UUID, nova.at(30), nova.at(0))]))
        self.assertEqual([(events.UNKNOWN, nova.at(0), nova.at(30))],
                         kinds(timeline))

    def test_exists_with_the_same_state_changes_nothing(self):
        base = nova.lifecycle(UUID, [(0, 'instance.create.end')])
        audits = [nova.notification(events.EXISTS, UUID, nova.at(m),
                                    nova.at(0)) for m in (60, 120)]
        self.assertEqual(intervals.build_timeline(parsed(base)).intervals,
                         intervals.build_timeline(
                             parsed(base + audits)).intervals)

    def test_events_after_delete_are_ignored(self):
        messages = nova.lifecycle(UUID, [
            (0, 'instance.create.end'), (10, 'instance.delete.end'),
            (11, 'instance.power_on.end')])
        timeline = intervals.build_timeline(parsed(messages))
        self.assertEqual([(events.RUNNING, nova.at(0), nova.at(10))],
                         kinds(timeline))

    def test_facts_come_from_the_latest_event(self):
        messages = nova.lifecycle(UUID, [(0, 'instance.create.end')],
                                  name='old')
        messages += [nova.notification('instance.power_off.end', UUID,
                                       nova.at(5), nova.at(0), name='new')]
        for ordering in itertools.permutations(messages):
            self.assertEqual('new', intervals.build_timeline(
                parsed(ordering)).facts.name)

    def test_no_event_is_an_error(self):
        self.assertRaises(ValueError, intervals.build_timeline, [])
