"""Parsers of the contract's string values, and their patterns."""

import re

import testtools

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import values


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
