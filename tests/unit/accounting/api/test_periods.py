"""Periods and buckets of the usage API, from hostile query values."""

import datetime

import testtools

from stratuslab_plugins.accounting.api import periods

UTC = datetime.timezone.utc


def t(month, day, hour=0):
    return datetime.datetime(2026, month, day, hour, tzinfo=UTC)


class BoundariesTest(testtools.TestCase):

    def test_months_follow_the_calendar_and_are_cut_to_the_period(self):
        self.assertEqual(
            [t(1, 15), t(2, 1), t(3, 1), t(3, 10)],
            periods.boundaries(t(1, 15), t(3, 10), 'month', 10))

    def test_days_start_at_midnight(self):
        self.assertEqual([t(2, 27, 6), t(2, 28), t(3, 1), t(3, 1, 12)],
                         periods.boundaries(t(2, 27, 6), t(3, 1, 12), 'day',
                                            10))

    def test_too_many_buckets_are_refused_naming_the_option(self):
        error = self.assertRaises(periods.BadRequest, periods.boundaries,
                                  t(1, 1), t(3, 1), 'day', 30)
        self.assertIn('max_points', str(error))

    def test_exactly_max_points_buckets_are_allowed(self):
        self.assertEqual(31, len(periods.boundaries(t(1, 1), t(1, 31), 'day',
                                                    30)))


class PeriodTest(testtools.TestCase):

    def test_default_period_is_this_month_to_now(self):
        period = periods.period(None, None, t(11, 17, 9), 400)
        self.assertEqual((t(11, 1), t(11, 17, 9), t(11, 17, 9)),
                         (period.since, period.until,
                          period.requested_until))

    def test_an_end_at_midnight_on_the_first_defaults_to_the_month_before(
            self):
        period = periods.period(None, '2026-11-01', t(11, 17), 400)
        self.assertEqual(t(10, 1), period.since)

    def test_offsets_are_converted_to_utc(self):
        period = periods.period('2026-11-01T02:00:00+02:00', None, t(11, 17),
                                400)
        self.assertEqual(t(11, 1), period.since)

    def test_a_future_end_is_cut_at_the_time_of_the_request(self):
        period = periods.period('2026-11-01', '2026-12-01', t(11, 17, 9),
                                400)
        self.assertEqual((t(11, 17, 9), t(12, 1)),
                         (period.until, period.requested_until))

    def test_only_the_bucket_running_at_the_request_is_partial(self):
        period = periods.period('2026-11-01', '2026-12-01', t(11, 17, 9),
                                400)
        self.assertTrue(period.partial(t(11, 17), 'day'))
        self.assertFalse(period.partial(t(11, 16), 'day'))
        self.assertTrue(period.partial(t(11, 1), 'month'))

    def test_a_past_period_has_no_partial_bucket(self):
        period = periods.period('2026-11-01', '2026-11-03T12:00:00',
                                t(11, 17, 9), 400)
        self.assertFalse(period.partial(t(11, 3), 'day'))

    def test_a_request_at_midnight_has_no_partial_bucket(self):
        period = periods.period('2026-11-01', None, t(11, 17), 400)
        self.assertFalse(period.partial(t(11, 16), 'day'))

    def test_a_future_start_is_refused(self):
        error = self.assertRaises(periods.BadRequest, periods.period,
                                  '2026-11-18', None, t(11, 17), 400)
        self.assertIn('since=', str(error))
        self.assertIn('future', str(error))

    def test_the_length_bound_applies_to_the_computed_period(self):
        self.assertEqual(t(11, 17), periods.period(
            '2026-11-01', '9999-12-31', t(11, 17), 30).until)
        error = self.assertRaises(periods.BadRequest, periods.period,
                                  '2026-09-01', None, t(11, 17), 30)
        self.assertIn('max_period_days', str(error))


class BadValuesTest(testtools.TestCase):
    """Each refusal names its parameter; nothing but BadRequest escapes."""

    def assertRefused(self, name, since=None, until=None):
        error = self.assertRaises(periods.BadRequest, periods.period,
                                  since, until, t(11, 17), 400)
        self.assertIn(name + '=', str(error))
        return str(error)

    def test_times_outside_utc_are_refused_not_overflowing(self):
        # Issue 17: these were OverflowError, an HTTP 500.
        self.assertIn('range', self.assertRefused(
            'since', since='0001-01-01T00:00:00+01:00'))
        self.assertIn('range', self.assertRefused(
            'until', until='9999-12-31T23:59:59-01:00'))

    def test_an_end_at_the_first_instant_leaves_no_default_start(self):
        self.assertRefused('until', until='0001-01-01T00:00:00+00:00')

    def test_garbage_and_long_values_are_quoted_short(self):
        message = self.assertRefused('since', since='x' * 10000)
        self.assertLess(len(message), 200)
        self.assertRefused('until', until='2026-13-01')
        self.assertRefused('since', since='\x00')

    def test_unknown_choices_are_named(self):
        error = self.assertRaises(periods.BadRequest, periods.choice,
                                  'hour', 'step', periods.STEPS, 'day')
        self.assertIn("step='hour' is not one of day, month", str(error))
        self.assertEqual('day', periods.choice(None, 'step', periods.STEPS,
                                               'day'))


class QueryValuesTest(testtools.TestCase):

    def test_bytes_that_are_not_utf8_are_refused_by_name(self):
        # Found by the fuzz test: webob raised UnicodeDecodeError, a 500.
        error = self.assertRaises(periods.BadRequest, periods.query_values,
                                  'step=day&since=%80')
        self.assertEqual("since=b'\\x80' is not UTF-8 text", str(error))
        error = self.assertRaises(periods.BadRequest, periods.query_values,
                                  '%ff=1')
        self.assertIn('parameter name', str(error))

    def test_the_last_value_wins_and_an_empty_one_is_absent(self):
        self.assertEqual({'since': '2026-11-02', 'step': 'month day'},
                         periods.query_values(
                             'since=2026-11-01&since=2026-11-02&until='
                             '&step=month+day'))

    def test_query_strings_are_bounded(self):
        self.assertRaises(periods.BadRequest, periods.query_values,
                          'x=' + 'a' * periods.MAX_QUERY_LENGTH)
        self.assertRaises(periods.BadRequest, periods.query_values,
                          '&'.join(['a=1'] * (periods.MAX_PARAMETERS + 1)))
