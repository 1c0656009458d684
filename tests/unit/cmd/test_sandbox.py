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
