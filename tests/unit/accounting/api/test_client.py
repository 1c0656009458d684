"""The usage API's client and ``openstack accounting`` reading the API.

The API is served by ``stratuslab-accounting-api``'s own server on a free
loopback port, over the real ledger of :class:`APITestBase`; the client
calls it through a keystoneauth1 session, as Horizon and OSC do.
"""

import threading
from unittest import mock

from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from osc_lib import exceptions as osc_exceptions

from stratuslab_plugins.accounting.api import client as client_mod
from stratuslab_plugins.cmd import accounting_api
from stratuslab_plugins.osc import accounting as osc_accounting
from tests.unit.accounting.api import test_app


class UsageClientTest(test_app.APITestBase):

    def setUp(self):
        super().setUp()
        self.conf.set_override('bind_port', 0, 'accounting_api')
        server = accounting_api.make_server(self.conf, self.app)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.url = 'http://127.0.0.1:%d' % server.server_address[1]

    def client(self, token):
        session = ks_session.Session(
            auth=token_endpoint.Token(self.url, token))
        return client_mod.UsageClient(session, endpoint=self.url)

    def osc(self, token):
        app = mock.Mock()
        app.client_manager.accounting = osc_accounting.AccountingClient(
            ks_session.Session(auth=token_endpoint.Token(self.url, token)),
            api_url=self.url)
        return app

    def run_command(self, token, cls, *argv):
        cmd = cls(self.osc(token), None)
        parsed = cmd.get_parser('openstack accounting').parse_args(argv)
        return cmd.take_action(parsed)

    def test_client_reads_usage_over_http(self):
        body = self.client(self.token(test_app.ATLAS_P, 'admin')).usage(
            since='2026-11-01', until='2026-11-03')
        self.assertEqual(['atlas', 'cms'], [s['key'] for s in body['series']])

    def test_refusal_carries_the_apis_message(self):
        error = self.assertRaises(
            client_mod.APIError,
            self.client(self.token(test_app.CMS_P1)).queue)
        self.assertEqual(403, error.status)
        self.assertIn('accounting_api:queue:read', str(error))

    def test_unreachable_api_is_named(self):
        session = ks_session.Session(
            auth=token_endpoint.Token('http://127.0.0.1:9', 'x'))
        error = self.assertRaises(
            client_mod.APIError,
            client_mod.UsageClient(session, 'http://127.0.0.1:9').usage)
        self.assertIn('http://127.0.0.1:9 cannot be reached', str(error))

    def test_openstack_accounting_usage_reads_the_api(self):
        columns, rows = self.run_command(
            self.token(test_app.CMS_P1, 'vo_manager'),
            osc_accounting.ShowUsage, '--since', '2026-11-01',
            '--until', '2026-11-03')
        self.assertEqual(('VO', 'Wall hours', 'CPU hours',
                          'Without CPU time (server-months)', 'Until'),
                         columns)
        # Two cms VMs ran, no agent measured them: CPU hours unknown.
        self.assertEqual([('cms', 30.0, None, 2, '2026-11-03T00:00:00+00:00')],
                         rows)

    def test_openstack_accounting_record_list_shows_send_state(self):
        self.state.advance([('nova', '', 'SITE')],
                           test_app.at(2, 20))
        columns, rows = self.run_command(
            self.token(test_app.ATLAS_P, 'admin'),
            osc_accounting.ListRecord, '--since', '2026-11-01',
            '--until', '2026-11-03', '--project', test_app.ATLAS_P)
        rows = [dict(zip(columns, row)) for row in rows]
        self.assertEqual([('a1', 'atlas', 'sent')],
                         [(r['uuid'], r['vo'], r['send_state'])
                          for r in rows])

    def test_api_errors_become_command_errors(self):
        error = self.assertRaises(
            osc_exceptions.CommandError, self.run_command,
            self.token(test_app.ATLAS_P, 'admin'), osc_accounting.ShowUsage,
            '--since', '2020-01-01', '--until', '2026-11-03')
        self.assertIn('max_period_days', str(error))
