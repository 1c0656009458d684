"""Downtime windows: aggregate values and the three file formats."""

import testtools

from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import exceptions

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


GOCDB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<results>
  <DOWNTIME ID="1" PRIMARY_KEY="1G0" CLASSIFICATION="SCHEDULED">
    <SEVERITY>OUTAGE</SEVERITY>
    <HOSTNAME>wn01.example.org</HOSTNAME>
    <START_DATE>1772438400</START_DATE>
    <END_DATE>1772474400</END_DATE>
  </DOWNTIME>
  <DOWNTIME ID="2" PRIMARY_KEY="2G0" CLASSIFICATION="SCHEDULED">
    <SEVERITY>WARNING</SEVERITY>
    <HOSTNAME>wn02.example.org</HOSTNAME>
    <START_DATE>1772438400</START_DATE>
    <END_DATE>1772474400</END_DATE>
  </DOWNTIME>
</results>
"""


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
