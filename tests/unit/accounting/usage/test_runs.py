"""Run ids from real processes in this machine's ``/proc``.

A child process started with ``-uuid UUID`` on its command line stands in
for the QEMU process libvirt starts for a domain: the run id is read from
``/proc`` exactly as on a compute host.
"""

import os
import subprocess
import sys
import time
import uuid

import fixtures
import testtools

from stratuslab_plugins.accounting.usage import runs


def stand_in(domain_uuid):
    """Start a process whose command line carries ``-uuid`` as QEMU's.

    Returns once the command line shows in ``/proc``.
    """
    process = subprocess.Popen(
        [sys.executable, '-c', 'import time; time.sleep(120)', '-name',
         'guest=instance-1', '-uuid', domain_uuid],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    for _ in range(500):
        with open('/proc/%d/cmdline' % process.pid, 'rb') as cmdline:
            if domain_uuid.encode() in cmdline.read():
                return process
        time.sleep(0.01)
    raise AssertionError('no -uuid on the command line of %d'
                         % process.pid)


class ProcessRunsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.uuid = str(uuid.uuid4())
        self.runs = runs.ProcessRuns()

    def start(self):
        process = stand_in(self.uuid)
        self.addCleanup(process.wait)
        self.addCleanup(process.kill)
        return process

    def test_a_run_is_its_process(self):
        process = self.start()
        [run_id] = self.runs.run_ids([(self.uuid, 7)]).values()
        with open('/proc/%d/stat' % process.pid) as stat:
            ticks = stat.read().rsplit(')', 1)[1].split()[19]
        self.assertEqual('7:%s@%s' % (ticks, self.runs.boot), run_id)
        # Read again: the same process, the same run.
        self.assertEqual({self.uuid: run_id},
                         self.runs.run_ids([(self.uuid, 7)]))

    def test_a_new_process_with_the_same_domain_id_is_a_new_run(self):
        # libvirt gives ID 1 again after a host reboot, or a restart of
        # libvirtd while no domain runs: the process tells them apart.
        first = self.start()
        before = self.runs.run_ids([(self.uuid, 1)])[self.uuid]
        first.kill()
        first.wait()
        time.sleep(0.05)  # start times count in 10 ms clock ticks
        self.start()
        after = self.runs.run_ids([(self.uuid, 1)])[self.uuid]
        self.assertNotEqual(before, after)
        self.assertTrue(after.startswith('1:'))

    def test_a_domain_whose_process_went_has_no_run(self):
        # Where QEMU processes are in sight, a domain without one is being
        # torn down: libvirt's reading of it is not to be kept.
        first = self.start()
        self.runs.run_ids([(self.uuid, 1)])
        first.kill()
        first.wait()
        self.assertEqual({self.uuid: None},
                         self.runs.run_ids([(self.uuid, 1)]))

    def test_no_process_in_sight_falls_back_to_the_domain_id_and_boot(self):
        # A procfs holding no process at all (this machine's /proc may
        # show a real QEMU, started by a functional test running beside).
        proc = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(proc, 'sys', 'kernel', 'random'))
        with open(os.path.join(proc, 'sys', 'kernel', 'random',
                               'boot_id'), 'w') as boot:
            boot.write('0c3d2b1a-9f8e-4d7c-b6a5-948372615041\n')
        empty = runs.ProcessRuns(proc=proc)
        self.assertEqual({self.uuid: '3@0c3d2b1a'},
                         empty.run_ids([(self.uuid, 3)]))
        self.assertEqual(runs.BOOT_ID_CHARS, len(self.runs.boot))

    def test_only_the_qemu_driver_looks_for_processes(self):
        self.assertIsInstance(runs.for_driver('QEMU'), runs.ProcessRuns)
        for driver in ('Test', 'LXC', 'Xen'):
            self.assertIsInstance(runs.for_driver(driver), runs.DomainIdRuns)

    def test_a_driver_other_than_qemu_ignores_qemu_processes(self):
        # A QEMU process on the host (here a stand-in with -uuid) is not
        # a domain of this driver: it must not make them look torn down.
        self.start()
        other = runs.for_driver('Test')
        self.assertEqual({self.uuid: '3@%s' % other.boot,
                          'b': '4@%s' % other.boot},
                         other.run_ids([(self.uuid, 3), ('b', 4)]))

    def test_the_boot_id_is_the_kernels(self):
        with open('/proc/sys/kernel/random/boot_id') as boot:
            self.assertEqual(boot.read().replace('-', '')[:8],
                             runs.read_boot_id())
        self.assertEqual('', runs.read_boot_id('/nonexistent/boot_id'))
