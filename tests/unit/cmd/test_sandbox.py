"""The sandbox command fails at once, naming the fix, when a need is unmet."""

from unittest import mock

from oslotest import base

from stratuslab_plugins.cmd import sandbox


class TestPreflight(base.BaseTestCase):

    def test_missing_program_names_the_apt_get_line(self):
        with mock.patch.object(sandbox, 'missing_system_packages',
                               return_value=['docker-registry']):
            exc = self.assertRaises(sandbox.PreflightError,
                                    sandbox.preflight)
        self.assertIn('apt-get install -y docker-registry', str(exc))

    def test_missing_system_packages_maps_programs_to_packages(self):
        missing = sandbox.missing_system_packages(which=lambda name: None)
        # /usr/bin may hold them on this machine: only check the names
        # the function may answer with.
        self.assertTrue(set(missing) <= {'docker-registry', 'openssl'})
        self.assertEqual([], sandbox.missing_system_packages(
            which=lambda name: '/usr/bin/' + name))

    def test_missing_module_names_the_test_requirements(self):
        missing = sandbox.missing_python_modules(
            find_spec=lambda name: None if name == 'glance' else object())
        self.assertEqual(['glance'], missing)
        with mock.patch.object(sandbox, 'missing_system_packages',
                               return_value=[]), \
                mock.patch.object(sandbox, 'missing_python_modules',
                                  return_value=['glance']):
            exc = self.assertRaises(sandbox.PreflightError,
                                    sandbox.preflight)
        self.assertIn('tox -e sandbox', str(exc))
        self.assertIn('glance', str(exc))

    def test_main_exits_2_on_preflight_failure(self):
        with mock.patch.object(sandbox, 'preflight',
                               side_effect=sandbox.PreflightError('nope')):
            self.assertEqual(2, sandbox.main(['--workdir', '/nonexistent']))

    def test_stop_child_processes_ends_a_child(self):
        import subprocess
        child = subprocess.Popen(['sleep', '60'])
        self.addCleanup(child.kill)
        sandbox.stop_child_processes(timeout=5)
        self.assertIsNotNone(child.wait(timeout=5))


class TestInterruptHandler(base.BaseTestCase):

    def test_stops_children_removes_service_data_and_exits_130(self):
        import io
        import os
        import signal
        import subprocess

        import fixtures

        workdir = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(workdir, 'registry'))
        open(os.path.join(workdir, 'report.json'), 'w').close()
        open(os.path.join(workdir, 'report.json.tmp'), 'w').close()
        child = subprocess.Popen(['sleep', '60'])
        self.addCleanup(child.kill)
        self.addCleanup(signal.signal, signal.SIGINT,
                        signal.default_int_handler)
        self.addCleanup(signal.signal, signal.SIGTERM, signal.SIG_DFL)
        err, ended = io.StringIO(), []

        handler = sandbox.interrupt_handler(workdir, keep=False, err=err,
                                            end=ended.append)
        handler(signal.SIGINT, None)

        self.assertEqual([130], ended)
        self.assertIsNotNone(child.poll())
        self.assertEqual(['report.json'], os.listdir(workdir))
        self.assertIn('interrupted (SIGINT)', err.getvalue())
        # A second Ctrl-C (tox sends its own) does not interrupt the stop.
        self.assertEqual(signal.SIG_IGN, signal.getsignal(signal.SIGINT))


class TestHelp(base.BaseTestCase):
    """Each console script's --help starts with what it does."""

    def help_of(self, main, *argv):
        from tests import capture
        output = self.useFixture(capture.CaptureOutput())
        exit_ = self.assertRaises(SystemExit, main, list(argv) + ['--help'])
        self.assertIn(exit_.code, (0, None))
        return output.written('stdout')

    def test_programs_say_what_they_do_and_read_before_options(self):
        from stratuslab_plugins.cmd import accounting
        from stratuslab_plugins.cmd import accounting_api
        from stratuslab_plugins.cmd import appliance_sync
        from stratuslab_plugins.cmd import listener
        for module, section in ((accounting, '[accounting]'),
                                (accounting_api, '[accounting_api]'),
                                (appliance_sync, '[sync]'),
                                (listener, '[accounting_usage]')):
            text = self.help_of(module.main)
            first_line = module.__doc__.strip().splitlines()[0]
            self.assertTrue(text.startswith(first_line), text[:200])
            self.assertIn(section, text)
            # Our options come first; oslo.log's are named after them.
            self.assertLess(text.index('usage:'), text.index('--debug'))
            self.assertNotIn('--log-dir LOG_DIR', text)

    def test_sandbox_says_what_it_does_first(self):
        text = self.help_of(sandbox.main)
        self.assertTrue(text.startswith('``stratuslab-sandbox``'))
        self.assertIn('reads no configuration file', text)

    def test_subcommand_help_is_left_to_oslo_config(self):
        from stratuslab_plugins.cmd import accounting
        text = self.help_of(accounting.main, 'publish')
        self.assertIn('--dry-run', text)
