"""The listener's command: configuration and its errors."""

import os

import fixtures
from oslo_config import cfg
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.cmd import listener
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import usage as usage_conf
from tests.unit.cmd import root_logging


class LedgerUrlTest(testtools.TestCase):

    def conf(self, **groups):
        conf = cfg.ConfigOpts()
        usage_conf.register_opts(conf)
        accounting_conf.register_opts(conf)
        conf([], project='stratuslab-test')
        for group, values in groups.items():
            for name, value in values.items():
                conf.set_override(name, value, group=group)
        return conf

    def test_defaults_to_the_accounting_ledger(self):
        conf = self.conf(accounting={'ledger_connection': 'sqlite:///a.db'})
        self.assertEqual('sqlite:///a.db', listener.ledger_url(conf))

    def test_own_url_wins(self):
        conf = self.conf(accounting={'ledger_connection': 'sqlite:///a.db'},
                         accounting_usage={
                             'ledger_connection': 'sqlite:///b.db'})
        self.assertEqual('sqlite:///b.db', listener.ledger_url(conf))

    def test_no_url_names_both_options(self):
        conf = self.conf(accounting={'ledger_connection': ''})
        exc = self.assertRaises(exceptions.ConfigurationError,
                                listener.ledger_url, conf)
        self.assertIn('[accounting_usage] ledger_connection', str(exc))
        self.assertIn('[accounting] ledger_connection', str(exc))


class MainTest(testtools.TestCase):

    def test_unusable_ledger_exits_2_naming_it(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.useFixture(root_logging.RootLogging())
        log = os.path.join(tmp, 'listener.log')
        config = os.path.join(tmp, 'listener.conf')
        with open(config, 'w') as out:
            out.write('[DEFAULT]\nlog_file = %s\n[accounting_usage]\n'
                      'ledger_connection = sqlite:////nonexistent/dir/'
                      'ledger.sqlite\n' % log)
        self.assertEqual(2, listener.main(['--config-file', config]))
        with open(log) as output:
            self.assertIn('nonexistent/dir/ledger.sqlite', output.read())
