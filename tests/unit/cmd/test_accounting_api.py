"""``stratuslab-accounting-api``: configuration and start-up errors."""

import os
import socket

import fixtures
import testtools

from stratuslab_plugins.accounting.api import wsgi
from stratuslab_plugins.cmd import accounting_api


class MainTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.busy = socket.socket()
        self.addCleanup(self.busy.close)
        self.busy.bind(('127.0.0.1', 0))
        self.busy.listen(1)

    def write_conf(self, port):
        path = os.path.join(self.tmp, 'api.conf')
        with open(path, 'w') as conf:
            conf.write('[accounting]\nledger_connection = sqlite:///%s\n'
                       '[accounting_api]\nbind_host = 127.0.0.1\n'
                       'bind_port = %d\n'
                       % (os.path.join(self.tmp, 'ledger.sqlite'), port))
        return path

    def test_port_in_use_exits_2_naming_the_options(self):
        # oslo.log's setup would replace the root logger's handlers (and
        # leave them to later tests); the message is what is checked here.
        self.useFixture(fixtures.MockPatchObject(wsgi.logging, 'setup'))
        logger = self.useFixture(fixtures.FakeLogger())
        port = self.busy.getsockname()[1]
        self.assertEqual(2, accounting_api.main(
            ['--config-file', self.write_conf(port)]))
        self.assertIn('[accounting_api] bind_host or bind_port',
                      logger.output)
        self.assertIn(str(port), logger.output)
