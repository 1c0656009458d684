"""Periods, buckets and send states of the usage API's reports."""

import datetime

import testtools

from stratuslab_plugins.accounting.api import reports
from stratuslab_plugins.accounting.usage import intervals

UTC = datetime.timezone.utc


def t(month, day, hour=0):
    return datetime.datetime(2026, month, day, hour, tzinfo=UTC)


class BoundariesTest(testtools.TestCase):

    def test_months_follow_the_calendar_and_are_cut_to_the_period(self):
        self.assertEqual(
            [t(1, 15), t(2, 1), t(3, 1), t(3, 10)],
            reports.boundaries(t(1, 15), t(3, 10), 'month', 10))

    def test_days_start_at_midnight(self):
        self.assertEqual([t(2, 27, 6), t(2, 28), t(3, 1), t(3, 1, 12)],
                         reports.boundaries(t(2, 27, 6), t(3, 1, 12), 'day',
                                            10))

    def test_too_many_buckets_are_refused_naming_the_option(self):
        error = self.assertRaises(reports.BadRequest, reports.boundaries,
                                  t(1, 1), t(3, 1), 'day', 30)
        self.assertIn('max_points', str(error))

    def test_default_period_is_this_month(self):
        self.assertEqual((t(11, 1), t(11, 17, 9)),
                         reports.period(None, None, t(11, 17, 9), 400))

    def test_offsets_are_converted_to_utc(self):
        since, _until = reports.period('2026-11-01T02:00:00+02:00', None,
                                       t(11, 17), 400)
        self.assertEqual(t(11, 1), since)


class SendStateTest(testtools.TestCase):

    def usage(self, started, ended):
        return intervals.Usage(uuid='u', started_at=started,
                               measured_at=t(11, 20), ended_at=ended,
                               status='active', wall_seconds=1,
                               suspend_seconds=0)

    def test_states_against_the_window_end(self):
        end = t(11, 10)
        self.assertEqual('sent', reports.send_state(
            self.usage(t(11, 1), t(11, 9)), end))
        self.assertEqual('partial', reports.send_state(
            self.usage(t(11, 1), t(11, 11)), end))
        self.assertEqual('partial', reports.send_state(
            self.usage(t(11, 1), None), end))
        self.assertEqual('pending', reports.send_state(
            self.usage(t(11, 12), None), end))
        self.assertEqual('pending', reports.send_state(
            self.usage(t(11, 1), t(11, 2)), None))
