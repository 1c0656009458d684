"""Parsers of the contract's string values, and their patterns."""

import math
import re

import hypothesis
from hypothesis import strategies as st
from oslo_utils import strutils
import testtools

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import values
from tests.unit.grid import fuzzing


class TestValues(testtools.TestCase):

    def test_positive_number(self):
        self.assertEqual(12.5, values.parse_positive_number('k', '12.5'))
        for bad in ('fast', '0', '-1', 'inf', 'nan', None):
            exc = self.assertRaises(exceptions.MetadataValueError,
                                    values.parse_positive_number, 'k', bad)
            self.assertIn('positive number', str(exc))

    def test_number_pattern_agrees_with_parser(self):
        pattern = re.compile(values.POSITIVE_NUMBER_PATTERN + r'\Z')
        for good in ('12', '12.5', '.5', '12.'):
            self.assertTrue(pattern.match(good))
            values.parse_positive_number('k', good)
        for bad in ('fast', '-1', '1e3', ''):
            self.assertFalse(pattern.match(bad))

    def test_seconds(self):
        self.assertEqual(3600, values.parse_seconds('k', '3600'))
        self.assertRaises(exceptions.MetadataValueError,
                          values.parse_seconds, 'k', '-5')
        self.assertRaises(exceptions.MetadataValueError,
                          values.parse_seconds, 'k', '1.5')

    def test_bool(self):
        self.assertTrue(values.parse_bool('k', 'True'))
        self.assertFalse(values.parse_bool('k', 'no'))
        exc = self.assertRaises(exceptions.MetadataValueError,
                                values.parse_bool, 'k', 'maybe')
        self.assertEqual("k='maybe' is not true or false", str(exc))

    def test_list_and_choice(self):
        self.assertEqual(('atlas', 'cms'),
                         values.parse_list(' atlas, ,cms '))
        self.assertEqual('batch',
                         values.parse_choice('k', 'Batch', ('batch',)))
        self.assertRaises(exceptions.MetadataValueError,
                          values.parse_choice, 'k', 'x', ('batch',))

    def test_timestamp(self):
        self.assertEqual(0.0, values.parse_timestamp('k', '1970-01-01T00:00Z'))
        self.assertEqual(0.0, values.parse_timestamp('k', '1970-01-01T00:00'))
        self.assertEqual(-3600.0,
                         values.parse_timestamp('k', '1970-01-01T00:00+01:00'))
        exc = self.assertRaises(exceptions.MetadataValueError,
                                values.parse_timestamp, 'grid_downtime',
                                'tomorrow')
        self.assertIn("grid_downtime='tomorrow'", str(exc))


class TestBounds(testtools.TestCase):
    """Numbers are bounded and ASCII; the review's probes, kept."""

    def assertRefused(self, parse, value, *args):
        exc = self.assertRaises(exceptions.MetadataValueError, parse, 'k',
                                value, *args)
        self.assertLess(len(str(exc)), 300)
        return exc

    def test_numbers_of_hundreds_of_digits(self):
        self.assertRefused(values.parse_seconds, '9' * 401)
        self.assertRefused(values.parse_positive_number, '9' * 401)
        self.assertRefused(values.parse_positive_number, '1e308')
        self.assertEqual(999999999.999999999,
                         values.parse_positive_number('k', '999999999.'
                                                      '999999999'))
        # What str() writes for 0.1 * 3, as scripts setting metadata do.
        self.assertEqual(0.1 * 3, values.parse_positive_number(
            'k', str(0.1 * 3)))
        self.assertRefused(values.parse_positive_number, '0.' + '1' * 21)

    def test_lifetime_bounds(self):
        self.assertEqual(0, values.parse_seconds('k', '0'))
        self.assertEqual(values.MAX_LIFETIME,
                         values.parse_seconds('k', str(values.MAX_LIFETIME)))
        self.assertRefused(values.parse_seconds, str(values.MAX_LIFETIME + 1))

    def test_unicode_digits_in_numbers_and_dates(self):
        # float() reads '١٢' as 12 and str.isdigit() takes '²'.
        for bad in ('١٢', '１２', '²'):
            self.assertRefused(values.parse_positive_number, bad)
        self.assertRefused(values.parse_timestamp, '2026-03-0²T08:00Z')

    def test_non_finite_and_huge_multipliers(self):
        self.assertEqual(-2.5, values.parse_multiplier('k', '-2.5'))
        for bad in ('nan', 'inf', '-inf', '1e999', '1e7', 10 ** 400, None):
            self.assertRefused(values.parse_multiplier, bad)

    def test_text_only(self):
        # A hint given twice arrives as a list.
        exc = self.assertRefused(values.parse_seconds, ['60', '70'])
        self.assertIn('k=a list is not', str(exc))
        self.assertRefused(values.parse_vo, ['atlas', 'cms'])
        self.assertRefused(values.parse_vo, 'a' * 256)
        self.assertEqual('a' * 255, values.parse_vo('k', 'a' * 255))

    def test_dates_far_away(self):
        self.assertRefused(values.parse_timestamp, '2026-02-30T00:00Z')
        self.assertLess(
            values.parse_timestamp('k', '0001-01-01T00:00:00+01:00'), 0)

    def test_long_values_are_quoted_short(self):
        exc = self.assertRefused(values.parse_bool, 'x' * 10000)
        self.assertIn("'xxxx", str(exc))
        self.assertIn('... (10000 characters)', str(exc))

    @fuzzing.FUZZ
    @hypothesis.given(st.one_of(fuzzing.numbers_as_text, st.lists(
        fuzzing.hostile_text, max_size=3), st.none(), st.integers()))
    def test_parsers_raise_only_metadata_value_error(self, value):
        for parse in (values.parse_positive_number, values.parse_seconds,
                      values.parse_bool, values.parse_vo,
                      values.parse_multiplier, values.parse_timestamp):
            result = fuzzing.assert_bounded(
                self, parse, 'k', value,
                documented=exceptions.MetadataValueError)
            if isinstance(result, exceptions.MetadataValueError):
                str(result)
                continue
            if isinstance(result, float):
                self.assertTrue(math.isfinite(result))
                self.assertLessEqual(abs(result), 1e12)

    @fuzzing.FUZZ
    @hypothesis.given(st.one_of(fuzzing.hostile_text, st.sampled_from(
        ['t', 'Y', ' yes ', 'On', 'F', 'n', '0', '1', 'TRUE', 'İ'])))
    def test_bool_reads_as_oslo_utils_strict_bool(self, text):
        # Nova's bool validator is strutils.bool_from_string(strict=True).
        try:
            expected = strutils.bool_from_string(text, strict=True)
        except ValueError:
            expected = None
        try:
            found = values.parse_bool('k', text)
        except exceptions.MetadataValueError:
            found = None
        self.assertEqual(expected, found)
