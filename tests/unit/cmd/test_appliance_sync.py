"""``stratuslab-appliance-sync``: configuration errors and its report."""

import io
import os

import fixtures
import testtools
import yaml

from stratuslab_plugins.appliance.sync import plan
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins.cmd import appliance_sync
from tests.unit.cmd import root_logging


class MainTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.log = os.path.join(self.tmp, 'sync.log')
        self.useFixture(root_logging.RootLogging())

    def main(self, subscriptions, *args):
        subs = os.path.join(self.tmp, 'subs.yaml')
        if subscriptions is not None:
            with open(subs, 'w') as f:
                yaml.safe_dump(subscriptions, f)
        conf = os.path.join(self.tmp, 'sync.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\nlog_file = %s\n[sync]\n'
                    'subscriptions_file = %s\n' % (self.log, subs))
        out = io.StringIO()
        status = appliance_sync.main(['--config-file', conf] + list(args),
                                     out=out)
        with open(self.log) as f:
            return status, out.getvalue(), f.read()

    def test_missing_subscriptions_file_exits_2_naming_it(self):
        status, out, log = self.main(None)
        self.assertEqual(2, status)
        self.assertIn('Cannot read subscriptions file %s'
                      % os.path.join(self.tmp, 'subs.yaml'), log)
        self.assertEqual('', out)

    def test_unknown_vo_and_missing_credentials_exit_2(self):
        subs = {'vos': {'vo.example': {
            'sources': [{'image_list': '/nonexistent.list'}],
            'projects': ['p1']}}}
        status, _, log = self.main(subs, '--vo', 'other')
        self.assertEqual(2, status)
        self.assertIn('No subscription for VO other', log)
        status, _, log = self.main(subs, '--dry-run')
        self.assertEqual(2, status)
        self.assertIn('[sync_keystone] auth_type is not set', log)

    def test_unknown_option_exits_2(self):
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        error = self.assertRaises(SystemExit, appliance_sync.main,
                                  ['--frobnicate'], out=io.StringIO())
        self.assertEqual(2, error.code)


class PrintReportsTest(testtools.TestCase):

    def test_one_line_per_vo_then_per_action(self):
        ok = runner.VOReport('a.example', offers=2, managed=1,
                             cpu_seconds=0.005, seconds=1.25)
        register = plan.Action('register', None, 'appliance X from L',
                               {'name': 'Ubuntu 1'})
        share = plan.Action('add_member', 'img-1', 'share with project p')
        ok.planned = [register, share]
        ok.failed = [(share, 'HTTP 403')]
        ok.rejected = {'id-2': 'its endorsement expired'}
        bad = runner.VOReport('b.example', error='list failed verification')
        out = io.StringIO()
        appliance_sync.print_reports([ok, bad], out)
        self.assertEqual(
            'VO a.example: 2 appliances offered, 1 images managed, ran 2 '
            'actions, 1 failed, 1 rejected, 0 skipped; 1.2 s, 2.5 ms of '
            'the sync\'s CPU per appliance\n'
            '  register Ubuntu 1: appliance X from L\n'
            '  add_member img-1: share with project p FAILED: HTTP 403\n'
            '  rejected id-2: its endorsement expired\n'
            'VO b.example: unchanged, list failed verification\n',
            out.getvalue())
