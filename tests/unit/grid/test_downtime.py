"""Downtime windows: aggregate values and the three file formats."""

import json

import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import exceptions
from tests import gocdb
from tests.unit.grid import fuzzing

H = 3600.0
DAY1 = '2026-03-02T08:00Z/2026-03-02T18:00Z'
DAY1_START = 1772438400.0


class TestWindows(testtools.TestCase):

    def test_parse_windows(self):
        windows = downtime.parse_windows(
            'grid_downtime', DAY1 + ';2026-03-05T00:00Z/2026-03-05T01:00Z')

        self.assertEqual(2, len(windows))
        self.assertEqual(downtime.Window(DAY1_START, DAY1_START + 10 * H),
                         windows[0])

    def test_bad_windows(self):
        for bad in ('2026-03-02T08:00Z', 'x/y',
                    '2026-03-02T18:00Z/2026-03-02T08:00Z'):
            self.assertRaises(exceptions.MetadataValueError,
                              downtime.parse_windows, 'grid_downtime', bad)

    def test_blocks(self):
        window = downtime.Window(100 * H, 110 * H)
        self.assertTrue(downtime.blocks([window], 105 * H))
        self.assertFalse(downtime.blocks([window], 110 * H))
        self.assertFalse(downtime.blocks([window], 90 * H))
        self.assertTrue(downtime.blocks([window], 90 * H, lifetime=10 * H))
        self.assertFalse(downtime.blocks([window], 90 * H, lifetime=9 * H))

    def test_host_names(self):
        self.assertEqual({'wn01.example.org', 'wn01', 'node1'},
                         downtime.host_names('WN01.example.org', 'node1'))


GOCDB_XML = gocdb.get_downtime(
    gocdb.downtime('wn01.example.org', 1772438400, 1772474400, ident=1),
    gocdb.downtime('wn02.example.org', 1772438400, 1772474400,
                   severity='WARNING', ident=2))


class TestDowntimeFile(testtools.TestCase):

    def test_text(self):
        table = downtime.parse_downtime_file(
            'dt', '# site downtimes\nWN01.example.org %s  # disk\n\n' % DAY1)

        self.assertEqual(
            {'wn01.example.org': (downtime.Window(DAY1_START,
                                                  DAY1_START + 10 * H),)},
            table)

    def test_gocdb_xml_keeps_outages_only(self):
        table = downtime.parse_downtime_file('dt.xml', GOCDB_XML)

        self.assertEqual(
            {'wn01.example.org': (downtime.Window(DAY1_START,
                                                  DAY1_START + 10 * H),)},
            table)

    def test_json(self):
        text = ('{"results": [{"hostname": "wn01", "severity": "OUTAGE",'
                ' "start_date": "2026-03-02T08:00Z",'
                ' "end_date": 1772474400}]}')

        table = downtime.parse_downtime_file('dt.json', text)

        self.assertEqual({'wn01': (downtime.Window(DAY1_START,
                                                   DAY1_START + 10 * H),)},
                         table)

    def assertBad(self, text, fragment):
        exc = self.assertRaises(exceptions.SourceFileError,
                                downtime.parse_downtime_file, '/etc/dt',
                                text)
        self.assertIn('/etc/dt', str(exc))
        self.assertIn(fragment, str(exc))

    def test_bad_files(self):
        self.assertBad('wn01\n', 'line 1: expected "HOSTNAME START/END"')
        self.assertBad('wn01 x/y\n', 'line 1: wn01=')
        self.assertBad('<results><DOWNTIME>', 'is not valid XML')
        self.assertBad('[{"HOSTNAME": "wn01"}]', 'lacks START_DATE')
        self.assertBad('{"x": 1}', 'must hold a list')
        self.assertBad('[1', 'is not valid JSON')

    def test_xml_bombs_are_refused(self):
        bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
                '<results>&a;</results>')
        self.assertBad(bomb, 'refused for safety')

    def test_table_with_site_endpoints(self):
        site = downtime.Window(1, 2)
        host = downtime.Window(3, 4)
        table = downtime.DowntimeTable(
            {'cloud.example.org': (site,), 'wn01': (host,)},
            site_endpoints=['Cloud.example.org'])

        self.assertEqual((site, host), table.windows_for({'wn01'}))
        self.assertEqual((site,), table.windows_for({'wn02'}))


class TestHostileDowntimeFiles(testtools.TestCase):
    """Seeds the fuzz tests found, and the review's probes, kept as is."""

    def assertBad(self, text, *fragments):
        exc = fuzzing.assert_contained(
            self, lambda t: downtime.parse_downtime_file('/etc/dt', t),
            text, exceptions.SourceFileError)
        self.assertIsInstance(exc, exceptions.SourceFileError)
        for fragment in fragments:
            self.assertIn(fragment, str(exc))
        # One line, and short, whatever the file held.
        self.assertLess(len(str(exc)), 400)
        return exc

    def test_unicode_digit_in_a_gocdb_date(self):
        # '17²'.isdigit() is True, and float() then raised ValueError.
        self.assertBad(gocdb.get_downtime(gocdb.downtime(
            'wn01.example.org', '177243840²', 1772474400)),
            "downtime of wn01.example.org: START_DATE='177243840²' "
            'is not POSIX seconds')

    def test_huge_posix_dates(self):
        self.assertBad(gocdb.get_downtime(gocdb.downtime(
            'wn01', '9' * 401, '9' * 402)), '(401 characters)')
        self.assertBad('[{"HOSTNAME": "wn01", "START_DATE": %s,'
                       ' "END_DATE": 1}]' % ('9' * 300), 'a huge integer')

    def test_separator_characters_around_posix_dates(self):
        # Found by the fuzz test: strip() takes '\x1f', float() did not.
        table = downtime.parse_downtime_file(
            'dt', '[{"HOSTNAME": "wn01", "START_DATE": "0\\u001f",'
            ' "END_DATE": "\\u001c60"}]')
        self.assertEqual({'wn01': (downtime.Window(0.0, 60.0),)}, table)

    def test_deeply_nested_json(self):
        self.assertBad(fuzzing.nested(100000), 'nested too deeply')

    def test_json_entries_of_the_wrong_type(self):
        self.assertBad('[{"HOSTNAME": ["wn01"], "START_DATE": 1,'
                       ' "END_DATE": 2}]', 'HOSTNAME=a list, not text')
        self.assertBad('[{"HOSTNAME": "wn01", "SEVERITY": {"a": 1},'
                       ' "START_DATE": 1, "END_DATE": 2}]',
                       'SEVERITY=a dict')
        self.assertBad('[{"HOSTNAME": "wn01", "START_DATE": true,'
                       ' "END_DATE": 2}]', 'START_DATE=True')

    def test_window_ending_before_it_starts(self):
        # Such a window blocked every request between its two dates.
        self.assertBad(gocdb.get_downtime(gocdb.downtime(
            'wn01', 1772474400, 1772438400)),
            'not a window whose end comes after its start')

    def test_long_lines_are_quoted_short(self):
        self.assertBad('x' * 100000, "line 1: expected", '(100000 characters)')


gocdb_downtimes = st.builds(
    gocdb.downtime,
    hostname=st.one_of(st.just('wn01.example.org'), fuzzing.hostile_text),
    start=fuzzing.dates_as_text, end=fuzzing.dates_as_text,
    severity=st.sampled_from(['OUTAGE', 'WARNING', 'outage', '']),
    description=fuzzing.hostile_text)

json_downtimes = st.fixed_dictionaries({}, optional={
    'HOSTNAME': st.one_of(st.just('wn01'), fuzzing.json_values),
    'hostname': fuzzing.json_values,
    'SEVERITY': st.one_of(st.just('OUTAGE'), fuzzing.json_values),
    'START_DATE': st.one_of(fuzzing.dates_as_text, fuzzing.json_values),
    'END_DATE': st.one_of(fuzzing.dates_as_text, fuzzing.json_values),
})


class TestDowntimeFileFuzz(testtools.TestCase):
    """Any downtime file: a table or SourceFileError, in bounded memory."""

    def check(self, text):
        table = fuzzing.assert_contained(
            self, lambda t: downtime.parse_downtime_file('dt', t), text,
            exceptions.SourceFileError)
        if not isinstance(table, exceptions.SourceFileError):
            for name, windows in table.items():
                self.assertIsInstance(name, str)
                for window in windows:
                    self.assertLess(window.start, window.end)
                    # Finite, so that now + lifetime compares.
                    self.assertLess(abs(window.end), 1e13)

    @fuzzing.FUZZ
    @hypothesis.given(st.lists(gocdb_downtimes, max_size=4))
    def test_gocdb_xml(self, downtimes):
        self.check(gocdb.get_downtime(*downtimes))

    @fuzzing.FUZZ
    @hypothesis.given(st.one_of(
        st.lists(json_downtimes, max_size=4),
        st.fixed_dictionaries({'results': st.lists(json_downtimes)}),
        fuzzing.json_values))
    def test_json(self, content):
        self.check(json.dumps(content))

    @fuzzing.FUZZ
    @hypothesis.given(st.lists(st.tuples(
        fuzzing.hostile_text, fuzzing.dates_as_text, fuzzing.dates_as_text,
        st.sampled_from(['/', ';', ' ', '#'])), max_size=5))
    def test_text(self, lines):
        self.check(''.join('%s %s%s%s\n' % line for line in lines))

    @fuzzing.FUZZ
    @hypothesis.given(st.integers(1, 3000), st.sampled_from(['[]', '{}']),
                      st.sampled_from(['<a>', '[', '{"a":']))
    def test_nesting(self, depth, pair, opening):
        self.check(fuzzing.nested(depth, *pair))
        closing = {'<a>': '</a>', '[': ']', '{"a":': '}'}[opening]
        self.check(opening * depth + '1' + closing * depth)

    @fuzzing.FUZZ
    @hypothesis.given(fuzzing.hostile_text)
    def test_any_text(self, text):
        self.check(text)
