"""The libvirt agent against libvirt's own ``test:///default`` driver.

The test driver needs no daemon: it keeps domains in memory, reports CPU
time and emits lifecycle events like a real hypervisor driver.
"""

import logging
import os
import sys
import threading
import time
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.usage import agent
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import listener
from stratuslab_plugins.accounting.usage import runs
from stratuslab_plugins.conf import usage as usage_conf
from tests.unit.accounting.usage import nova_payloads as nova
from tests.unit.accounting.usage import test_runs

try:
    libvirt = agent.import_libvirt()
except exceptions.ConfigurationError:
    libvirt = None

DOMAIN_XML = """<domain type='test'>
  <name>%(name)s</name><uuid>%(uuid)s</uuid>
  <memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os>
</domain>"""

_EVENT_LOOP = []


def event_loop():
    """Start libvirt's event loop once per test process."""
    if not _EVENT_LOOP:
        _EVENT_LOOP.append(agent.start_event_loop(libvirt))


class Sink:
    """Collects what the agent sends, and says when something arrived."""

    def __init__(self):
        self.samples = []
        self.arrived = threading.Event()

    def __call__(self, samples):
        self.samples.extend(samples)
        self.arrived.set()


@testtools.skipIf(libvirt is None, 'libvirt-python is not installed '
                  '(pip install "stratuslab-plugins[libvirt]")')
class CpuTimeAgentTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        event_loop()
        self.connection = libvirt.open('test:///default')
        self.addCleanup(self.connection.close)
        self.sink = Sink()
        self.agent = agent.CpuTimeAgent(self.connection, 'cn1', self.sink)

    def domain(self):
        instance = str(uuid.uuid4())
        dom = self.connection.createXML(DOMAIN_XML % {
            'name': 'instance-%s' % instance[:8], 'uuid': instance}, 0)
        self.addCleanup(self.destroy, dom)
        return instance, dom

    @staticmethod
    def destroy(dom):
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass

    def test_sample_all_reads_every_running_domain(self):
        instance, dom = self.domain()
        samples = self.agent.sample_all()
        mine = [s for s in samples if s.instance_uuid == instance]
        self.assertEqual(1, len(mine))
        # No QEMU process behind the test driver: domain ID and boot.
        self.assertEqual('%d@%s' % (dom.ID(), self.agent.runs.boot),
                         mine[0].run_id)
        self.assertEqual(dom.getCPUStats(True)[0]['cpu_time'],
                         mine[0].cpu_time_ns)
        self.assertEqual(samples, self.sink.samples)

    def test_a_qemu_process_on_the_host_does_not_hide_test_domains(self):
        # A real guest of another driver running on the host (here a
        # stand-in with -uuid, as QEMU's command line has it) made the
        # agent take every test-driver domain for one being torn down.
        process = test_runs.stand_in(str(uuid.uuid4()))
        self.addCleanup(process.wait)
        self.addCleanup(process.kill)
        instance, dom = self.domain()
        [mine] = [s for s in self.agent.sample_all()
                  if s.instance_uuid == instance]
        self.assertEqual('%d@%s' % (dom.ID(), self.agent.runs.boot),
                         mine.run_id)

    def test_a_restart_is_a_new_run_and_runs_add_up(self):
        instance = str(uuid.uuid4())
        dom = self.connection.defineXML(DOMAIN_XML % {
            'name': 'instance-%s' % instance[:8], 'uuid': instance})
        self.addCleanup(dom.undefine)
        self.addCleanup(self.destroy, dom)
        readings = []
        for _ in range(2):
            dom.create()
            readings.append(self.agent.read(dom))
            dom.destroy()
        self.assertNotEqual(readings[0].run_id, readings[1].run_id)
        self.assertIsNone(self.agent.read(dom))
        self.assertEqual(
            sum(r.cpu_time_ns for r in readings) // cpu.NANOSECONDS,
            cpu.cpu_seconds(readings))

    def test_a_domain_started_again_with_its_old_id_is_a_new_run(self):
        # The test driver opened afresh numbers its domains from 1 again,
        # as libvirtd does after a reboot; a process with the domain's
        # -uuid stands in for its QEMU process, new at each start.
        instance = str(uuid.uuid4())
        node = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'node.xml')
        with open(node, 'w') as stream:
            stream.write('<node>%s</node>' % DOMAIN_XML % {
                'name': 'instance-1', 'uuid': instance})
        readings = []
        for _ in range(2):
            process = test_runs.stand_in(instance)
            connection = libvirt.open('test://%s' % node)
            # The processes as the QEMU driver's agent reads them.
            [reading] = [s for s in agent.CpuTimeAgent(
                connection, 'cn1', self.sink,
                runs=runs.ProcessRuns()).sample_all()
                if s.instance_uuid == instance]
            readings.append(reading)
            connection.close()
            process.kill()
            process.wait()
            time.sleep(0.05)  # start times count in 10 ms clock ticks
        ids = [r.run_id.split(':')[0] for r in readings]
        self.assertEqual(ids[0], ids[1])
        self.assertNotEqual(readings[0].run_id, readings[1].run_id)
        self.assertEqual(
            sum(r.cpu_time_ns for r in readings) // cpu.NANOSECONDS,
            cpu.cpu_seconds(readings))

    def test_a_failed_reading_of_a_running_domain_is_a_warning(self):
        # What failed matters less than whether the domain still runs:
        # a real libvirt error, on a domain that runs and one that went.
        log = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.accounting.usage.agent',
            level=logging.DEBUG, format='%(levelname)s %(message)s'))
        error = self.assertRaises(libvirt.libvirtError,
                                  self.connection.lookupByUUIDString,
                                  str(uuid.uuid4()))
        running, dom = self.domain()
        self.agent._failed(dom, error)
        self.assertIn('WARNING Cannot read the CPU time of domain %s'
                      % running, log.output)
        gone, dom = self.domain()
        dom.destroy()
        self.agent._failed(dom, error)
        self.assertIn('DEBUG Domain %s went while being read' % gone,
                      log.output)
        self.assertNotIn('Cannot read the CPU time of domain %s' % gone,
                         log.output)

    def test_libvirt_messages_go_to_the_log_not_stderr(self):
        # libvirt's default handler writes each error on fd 2, past any
        # Python-level capture; the agent's handler makes it a debug line.
        log = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.accounting.usage.agent',
            level=logging.DEBUG, format='%(levelname)s %(message)s'))
        self.assertRaises(libvirt.libvirtError,
                          self.connection.lookupByUUIDString,
                          str(uuid.uuid4()))
        self.assertEqual('DEBUG libvirt: Domain not found\n', log.output)

    def test_a_domain_that_went_is_no_warning(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.accounting.usage.agent',
            level=logging.WARNING))
        instance, dom = self.domain()
        dom.destroy()
        self.assertIsNone(self.agent.read(dom))
        self.assertEqual('', log.output)

    def test_a_suspended_domain_is_read_at_once(self):
        self.agent.watch_lifecycle()
        instance, dom = self.domain()
        dom.suspend()
        deadline = time.monotonic() + 10
        while not any(s.instance_uuid == instance
                      for s in self.sink.samples):
            self.assertLess(time.monotonic(), deadline,
                            'no sample after the suspend event')
            self.sink.arrived.wait(0.1)

    def test_a_lost_connection_is_reopened(self):
        self.agent.connection = libvirt.open('test:///default')
        self.agent.connection.close()
        self.assertRaises(libvirt.libvirtError, self.agent.sample_all)
        agent._reconnect(self.agent, 'test:///default')
        self.addCleanup(self.agent.connection.close)
        self.assertIn('6695eb01-f6a4-8304-79aa-97f2502e193f',
                      [s.instance_uuid for s in self.agent.sample_all()])

    def test_run_samples_until_stopped(self):
        conf = cfg.ConfigOpts()
        usage_conf.register_opts(conf)
        conf([], project='stratuslab-test')
        conf.set_override('libvirt_uri', 'test:///default',
                          group='accounting_usage')
        conf.set_override('host', 'cn9', group='accounting_usage')
        self.useFixture(conffixture.ConfFixture(conf)).transport_url = \
            'fake:/'
        transport = oslo_messaging.get_notification_transport(conf)
        self.addCleanup(transport.cleanup)
        sent = []
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.accounting.usage.agent.NotificationSender'
            '.send', lambda sender, samples: sent.append(
                (sender.host, samples))))
        stop = threading.Event()
        thread = threading.Thread(target=agent.run,
                                  args=(conf, stop, transport))
        thread.start()
        deadline = time.monotonic() + 10
        while not sent and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertEqual('cn9', sent[0][0])

    def test_wrong_uri_is_a_configuration_error(self):
        conf = cfg.ConfigOpts()
        usage_conf.register_opts(conf)
        conf([], project='stratuslab-test')
        # A transport libvirt does not know: the failure comes from libvirt
        # itself, not from libxml2 reading a missing test-driver file.
        conf.set_override('libvirt_uri', 'test+nowhere:///default',
                          group='accounting_usage')
        exc = self.assertRaises(exceptions.ConfigurationError, agent.run,
                                conf, threading.Event())
        self.assertIn('test+nowhere:///default', str(exc))

    def test_samples_reach_the_ledger_through_the_listener(self):
        conf = cfg.ConfigOpts()
        usage_conf.register_opts(conf)
        conf([], project='stratuslab-test')
        conf.set_override('batch_timeout', 0.05, group='accounting_usage')
        self.useFixture(conffixture.ConfFixture(conf)).transport_url = \
            'fake:/'
        transport = oslo_messaging.get_notification_transport(conf)
        self.addCleanup(transport.cleanup)
        ledger = usage_ledger.UsageLedger.from_url('sqlite:///%s' % (
            os.path.join(self.useFixture(fixtures.TempDir()).path,
                         'ledger.sqlite')))
        self.addCleanup(ledger.engine.dispose)
        for one in listener.build_listeners(conf, ledger, transport):
            one.start()
            self.addCleanup(one.wait)
            self.addCleanup(one.stop)
        instance, dom = self.domain()
        sender = agent.NotificationSender(
            transport, 'cn1', conf.accounting_usage.cpu_samples_topic)
        sent = agent.CpuTimeAgent(self.connection, 'cn1',
                                  sender.send).sample_all()
        ledger.record_events([events.parse_notification(*nova.notification(
            'instance.create.end', instance, nova.at(0), nova.at(0)))])
        expected = [s for s in sent if s.instance_uuid == instance]
        deadline = time.monotonic() + 10
        while True:
            got = ledger.usage_for_instance(
                instance, expected[0].sampled_at)
            if got.cpu_seconds is not None:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(expected[0].cpu_time_ns // cpu.NANOSECONDS,
                         got.cpu_seconds)


class ImportTest(testtools.TestCase):

    def test_missing_libvirt_names_the_extra(self):
        # None in sys.modules makes "import libvirt" raise ImportError,
        # as on a host without the extra.
        saved = sys.modules.get('libvirt')
        sys.modules['libvirt'] = None
        self.addCleanup(sys.modules.__setitem__, 'libvirt', saved)
        exc = self.assertRaises(exceptions.ConfigurationError,
                                agent.import_libvirt)
        self.assertIn('stratuslab-plugins[libvirt]', str(exc))
