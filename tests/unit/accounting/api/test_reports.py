"""Bucket arithmetic and send states of the usage API's reports."""

import datetime

import testtools

from stratuslab_plugins.accounting.api import reports
from stratuslab_plugins.accounting.usage import intervals

UTC = datetime.timezone.utc


def t(month, day, hour=0):
    return datetime.datetime(2026, month, day, hour, tzinfo=UTC)


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
