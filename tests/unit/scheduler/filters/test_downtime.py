"""GridDowntimeFilter on Nova's FakeHostState."""

import datetime
import logging
import os

import fixtures

from stratuslab_plugins.scheduler.filters import downtime
from tests import gocdb
from tests.unit.scheduler import grid_fakes as gf

NOW = 1772438400.0  # 2026-03-02T08:00Z
HOUR = 3600


def iso(hours):
    return datetime.datetime.fromtimestamp(
        NOW + hours * HOUR, datetime.timezone.utc).isoformat()


def window(start_h, end_h):
    return '%s/%s' % (iso(start_h), iso(end_h))


class TestGridDowntimeFilter(gf.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.scheduler.site.now', lambda: NOW))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.filt = downtime.GridDowntimeFilter()
        self.hosts = [
            gf.host('now', gf.aggregate(grid_downtime=window(-1, 1))),
            gf.host('soon', gf.aggregate(grid_downtime=window(2, 3))),
            gf.host('past', gf.aggregate(grid_downtime=window(-3, -2))),
            gf.host('bad', gf.aggregate(grid_downtime='tomorrow')),
            gf.host('wn05.example.org'),
        ]

    def run_filter(self, spec):
        return self.passing(self.filt, self.hosts, spec)

    def test_window_in_progress(self):
        self.assertEqual(['soon', 'past', 'bad', 'wn05.example.org'],
                         self.run_filter(gf.spec()))

    def test_window_before_expected_end(self):
        self.assertEqual(['past', 'bad', 'wn05.example.org'],
                         self.run_filter(gf.spec(grid__max_lifetime='9000')))
        self.assertEqual(['soon', 'past', 'bad', 'wn05.example.org'],
                         self.run_filter(gf.spec(
                             hints={'grid_lifetime': '3600'},
                             grid__max_lifetime='9000')))

    def test_malformed_window_fails_open_with_one_warning(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        for _ in range(3):
            self.assertIn('bad', self.run_filter(gf.spec()))
        self.assertEqual(1, logs.output.count("grid_downtime='tomorrow'"))

    def write_file(self, text):
        path = os.path.join(self.tmp, 'downtimes')
        with open(path, 'w') as stream:
            stream.write(text)
        return path

    def test_downtime_file_by_short_name(self):
        self.flags(downtime_file=self.write_file(
            'wn05 %s\n' % window(-1, 1)))

        self.assertNotIn('wn05.example.org', self.run_filter(gf.spec()))

    def test_site_endpoint_downtime_applies_everywhere(self):
        path = self.write_file(
            '[{"HOSTNAME": "cloud.example.org", "SEVERITY": "OUTAGE",'
            ' "START_DATE": %d, "END_DATE": %d}]'
            % (NOW + HOUR, NOW + 2 * HOUR))
        self.flags(downtime_file=path,
                   downtime_site_endpoints=['cloud.example.org'])

        self.assertEqual(['soon', 'past', 'bad', 'wn05.example.org'],
                         self.run_filter(gf.spec()))
        self.assertEqual([], self.run_filter(gf.spec(
            grid__max_lifetime='7200')))

    def test_a_hostile_lifetime_hint_is_ignored(self):
        # now + 10**401 raised OverflowError for every host.
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        self.assertEqual(['soon', 'past', 'bad', 'wn05.example.org'],
                         self.run_filter(gf.spec(
                             hints={'grid_lifetime': '9' * 401})))
        self.assertIn("grid_lifetime='99999", logs.output)

    def rewrite(self, path, text, mtime):
        with open(path, 'w') as stream:
            stream.write(text)
        os.utime(path, ns=(mtime, mtime))

    def test_a_broken_file_keeps_the_last_good_windows(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        path = self.write_file(gocdb.get_downtime(gocdb.downtime(
            'wn05.example.org', int(NOW - HOUR), int(NOW + HOUR))))
        self.flags(downtime_file=path)
        self.assertNotIn('wn05.example.org', self.run_filter(gf.spec()))

        broken = (
            # A Unicode digit in a date: ValueError from the filter.
            gocdb.get_downtime(gocdb.downtime(
                'wn05.example.org', '177243840²', int(NOW + HOUR))),
            # RecursionError from the filter.
            '[' * 100000,
        )
        for mtime, text in enumerate(broken, 1):
            self.rewrite(path, text, mtime)
            for _ in range(3):
                self.assertNotIn('wn05.example.org',
                                 self.run_filter(gf.spec()))
        self.assertEqual(2, logs.output.count('keeping its last good'))

    def test_a_file_over_the_cap_is_not_read(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        text = 'wn05 %s\n' % window(-1, 1)
        self.flags(downtime_file=self.write_file(text),
                   site_file_max_bytes=len(text) - 1)

        self.assertIn('wn05.example.org', self.run_filter(gf.spec()))
        self.assertIn('is larger than %d bytes' % (len(text) - 1),
                      logs.output)
