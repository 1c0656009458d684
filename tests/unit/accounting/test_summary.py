"""Usage over a period, from cumulative cloud records."""

import datetime

import testtools

from stratuslab_plugins.accounting import records
from stratuslab_plugins.accounting import summary

UTC = datetime.timezone.utc
D1 = datetime.datetime(2026, 11, 1, tzinfo=UTC)
H = datetime.timedelta(hours=1)


def rec(uuid, vo, project, start, end=None, measured=None, cpu=None,
        vcpus=2.0):
    wall = int(((end or measured) - start).total_seconds())
    return records.CloudRecord(
        vm_uuid=uuid, site_name='S', start_time=start, end_time=end,
        measured_at=measured, vo=vo, local_group_id=project,
        wall_duration=wall, cpu_duration=cpu, cpu_count=vcpus)


class TestSummary(testtools.TestCase):

    def test_overlap_is_clipped_to_the_period(self):
        since, until = D1, D1 + 10 * H
        self.assertEqual(4 * 3600, summary.overlap_seconds(
            rec('a', 'v', 'p', D1 - 5 * H, end=D1 + 4 * H), since, until))
        self.assertEqual(10 * 3600, summary.overlap_seconds(
            rec('b', 'v', 'p', D1 - 5 * H, measured=D1 + 20 * H),
            since, until))
        self.assertEqual(0, summary.overlap_seconds(
            rec('c', 'v', 'p', D1 - 5 * H, end=D1 - H), since, until))

    def test_sums_by_vo_and_project(self):
        since, until = D1, D1 + 10 * H
        recs = [
            rec('a', 'atlas', 'p1', D1, end=D1 + 2 * H, cpu=3600),
            rec('b', 'atlas', 'p2', D1 - 10 * H, measured=D1 + 10 * H,
                cpu=20 * 3600),
            rec('c', None, 'p3', D1, end=D1 + H),
            rec('d', 'cms', 'p4', D1 - 3 * H, end=D1 - H),
        ]
        by_vo = summary.summarise(recs, 'vo', since, until)
        self.assertEqual(['(no VO)', 'atlas'], [r.key for r in by_vo])
        atlas = by_vo[1]
        self.assertEqual(2, atlas.servers)
        self.assertAlmostEqual(12.0, atlas.wall_hours)
        self.assertAlmostEqual(24.0, atlas.vcpu_hours)
        # a: all its hour; b: half of its 20 CPU hours fall in the period.
        self.assertAlmostEqual(11.0, atlas.cpu_hours)
        self.assertEqual(2, atlas.cpu_known)
        by_project = summary.summarise(recs, 'project', since, until)
        self.assertEqual(['p1', 'p2', 'p3'], [r.key for r in by_project])
        self.assertEqual(0, by_project[2].cpu_known)

    def test_bad_grouping(self):
        self.assertRaises(ValueError, summary.summarise, [], 'user', D1, D1)
