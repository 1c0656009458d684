"""The libvirt agent against a real QEMU guest, into the ledger via RabbitMQ.

Starts a private libvirtd with the QEMU driver (``qemu:///session``,
guests under TCG and without cgroup, as libvirt runs them in containers:
``virDomainGetCPUStats`` fails there, the bulk statistics work; see
``tests/functional/libvirt_fixture.py``), a private RabbitMQ, and the
listener and agent processes as an operator would. The guest is Debian's
kernel with a busybox initramfs that burns every vCPU on command.

Proves that the CPU time in the ledger is what ``virsh domstats
--cpu-total`` shows, within 0.1 s, across a pause and an agent killed
with SIGKILL and restarted; that a guest power-off and a ``virsh
destroy`` lose at most ``sample_interval`` x vCPUs CPU-seconds; and that
a guest started again after a libvirtd restart, which gives it its old
domain ID, is a new run whose CPU time adds to the first one's.

Skipped, with the reason, only where the kernel cannot run QEMU at all.
"""

import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import fixtures
import testtools
from testtools import content

from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.usage import cpu
from tests.functional import libvirt_fixture
from tests.functional import rabbitmq_fixture
from tests.functional.usage import test_listener_rabbitmq as listener_test

try:
    import libvirt
except ImportError:
    libvirt = None

#: The agent's period here; the loss bound is this times the vCPUs.
INTERVAL = 3
VCPUS = 2
#: How close the ledger must be to ``virsh domstats``, nanoseconds.
TOLERANCE = cpu.NANOSECONDS // 10


class RealGuestAgentTest(rabbitmq_fixture.SharedBroker, testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        # Only a kernel that cannot run QEMU skips; missing packages fail
        # in the fixture, naming them.
        if libvirt_fixture.missing() is None:
            reason = libvirt_fixture.qemu_unusable()
            if reason:
                raise unittest.SkipTest(reason)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.daemon = self.useFixture(libvirt_fixture.SessionLibvirt())
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.ledger_url = 'sqlite:///%s' % os.path.join(self.tmp,
                                                        'ledger.sqlite')
        self.ledger = usage_ledger.UsageLedger.from_url(self.ledger_url)
        self.addCleanup(self.ledger.engine.dispose)
        self.connection = libvirt.open(self.daemon.uri)
        self.addCleanup(self.close_connection)
        self.uuid = str(uuid.uuid4())
        self.guest = libvirt_fixture.Guest(self.daemon.base)
        self.addCleanup(self.guest.console.close)
        self.domain = self.connection.defineXML(
            self.guest.xml('burner', self.uuid, VCPUS))
        # The guest boots (seconds under TCG) while the listener and the
        # agent start.
        self.domain.create()
        self.config = self.write_config()
        self.start('listener', 'stratuslab-accounting-listener')
        self.agent = self.start('agent',
                                'stratuslab-accounting-libvirt-agent')

    def close_connection(self):
        try:
            self.connection.close()
        except libvirt.libvirtError:
            pass

    def write_config(self):
        path = os.path.join(self.tmp, 'usage.conf')
        with open(path, 'w') as config:
            config.write(
                '[DEFAULT]\ntransport_url = %s\nlog_file = %s\n'
                '[accounting_usage]\nledger_connection = %s\n'
                'nova_topic = versioned_%s\nunversioned_topic =\n'
                'batch_timeout = 0.2\nlibvirt_uri = %s\n'
                'sample_interval = %d\nhost = compute-q\n'
                % (self.broker.url, os.path.join(self.tmp, 'usage.log'),
                   self.ledger_url, uuid.uuid4().hex[:8], self.daemon.uri,
                   INTERVAL))
        return path

    def start(self, name, script):
        process = subprocess.Popen(
            listener_test.console_script(script) +
            ['--config-file', self.config], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(listener_test.RabbitMQListenerTest.stop_listener,
                        process)
        return process

    # -- readings -------------------------------------------------------

    def domstats(self):
        """Return ``virsh domstats --cpu-total``'s cpu.time, or None.

        None once the guest is off (libvirt 9 then shows its own CPU
        time for a guest without cgroup).
        """
        try:
            [(_, stats)] = self.connection.domainListGetStats(
                [self.domain], libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                | libvirt.VIR_DOMAIN_STATS_STATE)
        except (libvirt.libvirtError, ValueError):
            return None
        if stats.get('state.state') == libvirt.VIR_DOMAIN_SHUTOFF:
            return None
        return stats.get('cpu.time')

    def recorded(self):
        """Return ``{run id: last reading (ns)}`` of the guest's runs."""
        samples = self.ledger.cpu_samples_for_instances(
            [self.uuid]).get(self.uuid, ())
        last = {}
        for sample in sorted(samples, key=lambda s: s.sampled_at):
            last[sample.run_id] = sample.cpu_time_ns
        return last

    def current_run(self):
        samples = self.ledger.cpu_samples_for_instances(
            [self.uuid]).get(self.uuid, ())
        latest = max(samples, key=lambda s: s.sampled_at, default=None)
        return latest and latest.run_id

    def wait_for(self, predicate, what, tries=600):
        """Poll ``predicate`` every 0.1 s, ``tries`` times at most."""
        for _ in range(tries):
            if predicate():
                return
            time.sleep(0.1)
        self.fail('gave up waiting for %s' % what)

    def settled(self):
        """Wait until the broker and the listener delivered everything."""
        queue = 'stratuslab_cpu_samples.sample'

        def quiet():
            ready, unacked = self.broker.queue_depths().get(queue, (0, 0))
            before = self.recorded()
            time.sleep(1)
            return ready + unacked == 0 and self.recorded() == before
        self.wait_for(quiet, 'the samples to reach the ledger')
        return self.recorded()

    def assertRecordedWhilePaused(self, what):
        """Pause, and check the ledger against domstats; resume."""
        self.domain.suspend()
        frozen = self.domstats()

        def caught_up():
            run = self.current_run()
            return run and abs(self.recorded()[run] - frozen) <= TOLERANCE
        self.wait_for(caught_up, 'the ledger to show the paused guest %s'
                      % what)
        self.addDetail('paused %s' % what, content.text_content(
            'domstats %d ns, ledger %d ns' % (
                frozen, self.recorded()[self.current_run()])))
        self.domain.resume()

    def boot_and_burn(self):
        """Boot the guest, burn its vCPUs; return its new run's id."""
        known = set(self.recorded())
        if not self.domain.isActive():
            self.domain.create()
        self.guest.console.connect()
        self.guest.console.wait_ready()
        self.guest.console.send('burn')
        self.guest.console.expect('BURNING')
        self.wait_for(lambda: set(self.recorded()) - known,
                      'a sample of the new run')
        [run] = set(self.recorded()) - known
        return run

    def assertLossWithinBound(self, run, last_seen, what):
        loss = (last_seen - self.settled()[run]) / cpu.NANOSECONDS
        self.addDetail('loss on %s' % what, content.text_content(
            '%.2f CPU-s lost, bound %d CPU-s' % (loss, INTERVAL * VCPUS)))
        self.assertLessEqual(loss, INTERVAL * VCPUS, what)
        self.assertGreaterEqual(loss, -TOLERANCE / cpu.NANOSECONDS, what)

    # -- the test -------------------------------------------------------

    def power_off(self):
        """Have the guest power itself off; return domstats' last value."""
        readings = []

        def watch():
            while True:
                value = self.domstats()
                if value is None:
                    return
                readings.append(value)
                time.sleep(0.02)
        watcher = threading.Thread(target=watch)
        watcher.start()
        self.guest.console.send('poweroff')
        watcher.join(60)
        self.guest.console.close()
        self.wait_for(lambda: not self.domain.isActive(), 'the power-off')
        # A run's CPU time only grows; a reading taken while QEMU exits
        # can be 0 (seen once in a fresh Debian 12 root, at high load).
        return max(readings)

    def test_cpu_time_of_a_real_guest(self):
        first_run = self.boot_and_burn()
        self.assertRecordedWhilePaused('after boot')

        self.agent.send_signal(signal.SIGKILL)
        self.agent.wait(30)
        time.sleep(INTERVAL)  # the guest burns on, unread
        self.agent = self.start('agent-again',
                                'stratuslab-accounting-libvirt-agent')
        self.assertRecordedWhilePaused('after the agent was killed')
        # The restarted agent names the same QEMU process the same run.
        self.assertEqual([first_run], list(self.recorded()))

        last_seen = self.power_off()
        self.assertLossWithinBound(first_run, last_seen, 'guest power-off')

        # No domain runs: a restarted libvirtd numbers domains from 1
        # again, and the guest gets its first run's domain ID back.
        self.daemon.restart()
        self.connection = libvirt.open(self.daemon.uri)
        self.domain = self.connection.lookupByUUIDString(self.uuid)
        second_run = self.boot_and_burn()
        self.assertEqual(first_run.split(':')[0], second_run.split(':')[0])
        self.assertNotEqual(first_run, second_run)

        time.sleep(INTERVAL / 2)
        last_seen = self.domstats()
        self.domain.destroy()
        self.assertLossWithinBound(second_run, last_seen, 'virsh destroy')

        runs = self.settled()
        samples = self.ledger.cpu_samples_for_instances([self.uuid])[
            self.uuid]
        self.assertEqual({first_run, second_run}, set(runs))
        self.assertEqual(sum(runs.values()) // cpu.NANOSECONDS,
                         cpu.cpu_seconds(samples))
