"""``openstack accounting`` commands, the cloud faked at HTTP level."""

from unittest import mock

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
        # vo.zero: one server deleted after 6 h, one running 12 h.
        self.assertEqual((2, 18.0, 36.0, 0.0, 0), table['vo.zero'][1:])

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
