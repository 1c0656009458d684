"""``openstack accounting`` commands, the cloud faked at HTTP level.

Through the usage API, the API's answers are given at the client
(``AccountingClient.usage_api``) in the API's own spelling.
"""

import argparse
import csv
import io
from unittest import mock

from cliff.formatters import commaseparated
import fixtures

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from osc_lib import exceptions as osc_exceptions
import testtools

from stratuslab_plugins.osc import accounting
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.cmd import test_accounting as cmd_tests


class TestAccountingCommands(testtools.TestCase):

    def setUp(self):
        super().setUp()
        servers = [cmd_tests.server(i, 'p%d' % (i % 3)) for i in range(6)]
        servers[0]['status'] = 'DELETED'
        servers[0]['OS-SRV-USG:terminated_at'] = '2026-11-01T06:00:00.000000'
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/servers/detail': ('servers', servers)},
            documents={
                '/projects': {'projects': [
                    {'id': 'p0', 'egi.VO': 'vo.zero'},
                    {'id': 'p1', 'egi.VO': 'vo.one'},
                    {'id': 'p2'}], 'links': {}},
                '/users/u1': {'user': {'id': 'u1', 'name': 'alice'}},
                '/users': {'users': [{'id': 'u1', 'name': 'alice'}]},
                '/os-aggregates': {'aggregates': []},
            }))
        session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=self.cloud.url))
        self.app = mock.Mock()
        self.app.client_manager.accounting = accounting.AccountingClient(
            session)

    def run_command(self, cls, *argv):
        cmd = cls(self.app, None)
        parsed = cmd.get_parser('openstack accounting').parse_args(argv)
        return cmd.take_action(parsed)

    def test_record_list(self):
        columns, rows = self.run_command(
            accounting.ListRecord, '--since', '2026-11-01',
            '--until', '2026-11-01T12:00:00Z')
        rows = [dict(zip(columns, row)) for row in rows]
        self.assertEqual(6, len(rows))
        by_uuid = {r['VMUUID']: r for r in rows}
        deleted = by_uuid['00000000-0000-0000-0000-000000000000']
        self.assertEqual('completed', deleted['Status'])
        self.assertEqual('/vo.zero/Role=NULL/Capability=NULL',
                         deleted['FQAN'])
        self.assertEqual('21600', deleted['WallDuration'])
        self.assertEqual({'alice'}, {r['GlobalUserName'] for r in rows})

    def test_usage_by_vo(self):
        columns, rows = self.run_command(
            accounting.ShowUsage, '--by', 'vo', '--since', '2026-11-01',
            '--until', '2026-11-01T12:00:00Z')
        self.assertEqual('VO', columns[0])
        table = {row[0]: row for row in rows}
        self.assertEqual(['(no VO)', 'vo.one', 'vo.zero'], sorted(table))
        # vo.zero: one server deleted after 6 h, one running 12 h; no CPU
        # time known for either: None (empty in CSV), not 0.
        self.assertEqual((2, 18.0, 36.0, None, 0), table['vo.zero'][1:])

    def test_usage_by_project(self):
        columns, rows = self.run_command(
            accounting.ShowUsage, '--by', 'project', '--since',
            '2026-11-01', '--until', '2026-11-01T12:00:00Z')
        self.assertEqual(['p0', 'p1', 'p2'], [r[0] for r in rows])

    def test_bad_date(self):
        self.assertRaises(osc_exceptions.CommandError, self.run_command,
                          accounting.ShowUsage, '--since', 'last week')

    def test_refused_call(self):
        self.cloud.forbidden.add('/servers/detail')
        exc = self.assertRaises(osc_exceptions.CommandError,
                                self.run_command, accounting.ListRecord)
        self.assertIn('Nova refused GET /servers/detail', str(exc))


def point(start, end, wall, cpu, known, unknown, partial=False):
    return {'start': start, 'end': end, 'partial': partial,
            'wall_hours': wall, 'cpu_hours': cpu, 'cpu_known': known,
            'cpu_unknown': unknown}


#: What stratuslab-accounting-api answers (its spelling), at noon on the
#: 17th for the month of November.
API_USAGE = {
    'since': '2026-11-01T00:00:00+00:00',
    'until': '2026-11-17T12:00:00+00:00',
    'requested_until': '2026-12-01T00:00:00+00:00',
    'step': 'month', 'by': 'vo', 'vo_map_size': 2,
    'series': [
        {'key': 'atlas', 'points': [point(
            '2026-11-01T00:00:00+00:00', '2026-11-17T12:00:00+00:00',
            396.0, None, 0, 1, partial=True)]},
        {'key': 'cms', 'points': [point(
            '2026-11-01T00:00:00+00:00', '2026-11-17T12:00:00+00:00',
            50.0, 20.5, 1, 1, partial=True)]}]}
API_RECORDS = {
    'since': '2026-11-01T00:00:00+00:00',
    'until': '2026-11-17T12:00:00+00:00', 'reported_until': None,
    'records': [{
        'uuid': 'a1', 'name': 'vm', 'project_id': 'p-atlas', 'vo': 'atlas',
        'status': 'active', 'host': 'c1',
        'started_at': '2026-10-01T00:00:00+00:00', 'ended_at': None,
        'wall_hours': 396.0, 'cpu_hours': None,
        'lifetime_wall_hours': 1140.0, 'lifetime_cpu_hours': None,
        'vcpus': 2, 'send_state': 'pending'}]}


class TestAccountingCommandsThroughTheAPI(testtools.TestCase):
    """The same commands reading stratuslab-accounting-api's answers."""

    def setUp(self):
        super().setUp()
        self.api = mock.Mock()
        self.api.usage.return_value = API_USAGE
        self.api.records.return_value = API_RECORDS
        self.app = mock.Mock()
        self.app.client_manager.accounting = accounting.AccountingClient(
            None, api_url='http://127.0.0.1:8779')
        self.useFixture(fixtures.MockPatchObject(
            accounting.AccountingClient, 'usage_api',
            return_value=self.api))

    def run_command(self, cls, *argv):
        cmd = cls(self.app, None)
        parsed = cmd.get_parser('openstack accounting').parse_args(argv)
        return cmd.take_action(parsed)

    def test_usage_keeps_unknown_cpu_time_unknown(self):
        columns, rows = self.run_command(accounting.ShowUsage, '--since',
                                         '2026-11-01')
        table = {row[0]: dict(zip(columns, row)) for row in rows}
        self.assertIsNone(table['atlas']['CPU hours'])
        cms = table['cms']
        self.assertEqual((50.0, 20.5, 1),
                         (cms['Wall hours'], cms['CPU hours'],
                          cms['Without CPU time (server-months)']))
        # Where the API stopped counting: the time of the request.
        self.assertEqual('2026-11-17T12:00:00+00:00', table['cms']['Until'])

    def test_record_list_labels_period_and_lifetime_hours(self):
        columns, rows = self.run_command(accounting.ListRecord)
        record = dict(zip(columns, rows[0]))
        self.assertEqual((396.0, None, 1140.0, None),
                         (record['wall_hours'], record['cpu_hours'],
                          record['lifetime_wall_hours'],
                          record['lifetime_cpu_hours']))

    def test_unknown_cpu_time_is_empty_in_csv(self):
        columns, rows = self.run_command(accounting.ShowUsage)
        out = io.StringIO()
        formatter = commaseparated.CSVLister()
        parser = argparse.ArgumentParser()
        formatter.add_argument_group(parser)
        formatter.emit_list(columns, rows, out, parser.parse_args([]))
        line = [r for r in csv.reader(io.StringIO(out.getvalue()))
                if r[0] == 'atlas'][0]
        self.assertEqual(['atlas', '396.0', '', '1'], line[:4])
