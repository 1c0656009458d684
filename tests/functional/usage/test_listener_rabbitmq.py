"""The listener process against a real RabbitMQ, killed and restarted.

Starts a private RabbitMQ node (Debian's rabbitmq-server, see
``tests/functional/rabbitmq_fixture.py``) and runs
``stratuslab-accounting-listener`` as a child process, as an operator
would. Proves that Nova-shaped versioned notifications published with
oslo.messaging reach the SQLite ledger, that a listener killed with
SIGKILL in the middle of the stream loses nothing once restarted, that
redelivered and republished notifications do not count twice, that
listeners of one pool share the queue, and that the libvirt agent's CPU
samples (agent process on libvirt's test driver, with Nova-style domain
UUIDs) reach the ledger through the broker and the listener.
"""

import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import time
from unittest import mock
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
from oslo_utils import timeutils
import sqlalchemy as sa
import testtools
from testtools import content

try:
    import libvirt
except ImportError:
    libvirt = None

from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.ledger import usage_schema
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import listener as usage_listener
from tests.functional import rabbitmq_fixture
from tests.unit.accounting.usage import nova_payloads as nova

#: A compute host as libvirt's test driver reads it: two running domains
#: named and identified the way Nova's libvirt driver does.
NODE_XML = """<node>%s</node>"""
DOMAIN_XML = """<domain type='test'><name>instance-%(n)08x</name>
<uuid>%(uuid)s</uuid><memory>1048576</memory><vcpu>2</vcpu>
<os><type>hvm</type></os></domain>"""

#: The modules behind the console scripts, for a tree not pip-installed.
SCRIPT_MODULES = {
    'stratuslab-accounting-listener': 'stratuslab_plugins.cmd.listener',
    'stratuslab-accounting-libvirt-agent':
        'stratuslab_plugins.cmd.libvirt_agent',
}


def emitted_at(timestamp):
    """Make the notifier stamp a message with ``timestamp`` (ISO 8601)."""
    when = timeutils.parse_isotime(timestamp).replace(tzinfo=None)
    return mock.patch.object(timeutils, 'utcnow', return_value=when)


def console_script(name):
    """Return the command line running console script ``name``."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(path):
        return [path]
    return [sys.executable, '-m', SCRIPT_MODULES[name]]


#: Events per instance in :meth:`publish_lifecycles`.
STEPS = [(0, 'instance.create.end'), (10, 'instance.suspend.end'),
         (20, 'instance.resume.end'), (30, 'instance.power_off.end'),
         (40, 'instance.delete.end')]


class ListenerProcessTest(rabbitmq_fixture.SharedBroker,
                          testtools.TestCase):
    """Listener processes on a private broker: the tests' common ground.

    Each test gets a topic of its own, a ledger (SQLite unless a subclass
    overrides :meth:`ledger_connection`) and a notifier publishing as
    Nova does.
    """

    #: Notifications a listener writes in one transaction.
    batch_size = 20
    #: Messages RabbitMQ hands a listener ahead of its acknowledgements
    #: (``rabbit_qos_prefetch_count``); 0, oslo.messaging's default, is
    #: no limit: the first listener to connect takes a whole backlog;
    #: None leaves it out of the configuration (the listener's default).
    prefetch = 0

    def ledger_connection(self):
        return 'sqlite:///%s' % os.path.join(self.tmp, 'ledger.sqlite')

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # A topic of its own: the default queue Nova's notifier declares
        # for it is this test's alone, and holds what is published before
        # a listener starts.
        self.topic = 'versioned_%s' % uuid.uuid4().hex[:8]
        self.ledger_url = self.ledger_connection()
        self.ledger = usage_ledger.UsageLedger.from_url(self.ledger_url)
        self.addCleanup(self.ledger.engine.dispose)
        conf = cfg.ConfigOpts()
        conf([], project='stratuslab-test')
        self.useFixture(conffixture.ConfFixture(conf))
        # Nova publishes on its control_exchange, "nova".
        conf.set_override('control_exchange', 'nova')
        self.transport = oslo_messaging.get_notification_transport(
            conf, url=self.broker.url)
        self.addCleanup(self.transport.cleanup)
        self.notifier = oslo_messaging.Notifier(
            self.transport, publisher_id='nova-compute:cn1',
            driver='messagingv2', topics=[self.topic])

    def write_config(self, name, pool='', topic=None, ledger_url=None):
        path = os.path.join(self.tmp, '%s.conf' % name)
        with open(path, 'w') as config:
            config.write(
                '[DEFAULT]\ntransport_url = %s\ncontrol_exchange = nova\n'
                'log_file = %s\n'
                '[accounting_usage]\nledger_connection = %s\n'
                'nova_topic = %s\npool = %s\nbatch_size = %d\n'
                'batch_timeout = 0.2\nunversioned_topic =\n'
                'libvirt_uri = test://%s\nsample_interval = 1\n'
                'host = compute-7\n'
                % (self.broker.url, os.path.join(self.tmp, '%s.log' % name),
                   ledger_url or self.ledger_url, topic or self.topic, pool,
                   self.batch_size, os.path.join(self.tmp, 'node.xml')))
            if self.prefetch is not None:
                config.write('[oslo_messaging_rabbit]\n'
                             'rabbit_qos_prefetch_count = %d\n'
                             % self.prefetch)
        return path

    def start_listener(self, name, pool='',
                       script='stratuslab-accounting-listener', **where):
        """Start a listener (or agent) process; ``where``: topic, URL."""
        process = subprocess.Popen(
            console_script(script) +
            ['--config-file', self.write_config(name, pool, **where)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_listener, process)
        return process

    @staticmethod
    def stop_listener(process, signum=signal.SIGTERM):
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def publish(self, messages, topic=None):
        notifier = self.notifier
        if topic is not None:
            notifier = oslo_messaging.Notifier(
                self.transport, publisher_id='nova-compute:cn1',
                driver='messagingv2', topics=[topic])
        # The notifier stamps each message with utcnow(): pin it to the
        # event's time, as Nova's clock would have read then.
        for event_type, payload, metadata in messages:
            with emitted_at(metadata['timestamp']):
                notifier.info({}, event_type, payload)

    def publish_lifecycles(self, count):
        uuids = [str(uuid.uuid4()) for _ in range(count)]
        for instance in uuids:
            self.publish(nova.lifecycle(instance, STEPS))
        return uuids

    def stored_events(self):
        with self.ledger.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(
                usage_schema.usage_events)).scalar()

    def queued(self, queue):
        ready, unacked = self.broker.queue_depths().get(queue, (0, 0))
        return ready + unacked

    def wait_for(self, predicate, timeout=180, what='the listener',
                 state=None):
        """Wait for ``predicate``; on timeout, fail saying what was seen.

        ``state``, a callable, tells what there was instead; the
        processes' logs and the broker's queues are attached.
        """
        # A deadline for something that must happen, not a speed target:
        # starting a listener, its writer process and the agent (each a
        # Python process importing oslo.messaging and SQLAlchemy) took
        # over 60 s in CI on a loaded 2-core machine.
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.attach_process_logs()
                self.fail('timed out waiting for %s%s' % (
                    what, '' if state is None else ' (got %r)' % (state(),)))
            time.sleep(0.05)

    def attach_process_logs(self, lines=40):
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith('.log'):
                with open(os.path.join(self.tmp, name),
                          errors='replace') as log:
                    tail = ''.join(log.readlines()[-lines:])
                self.addDetail(name, content.text_content(tail))
        self.addDetail('queues', content.text_content(
            repr(self.broker.queue_depths())))

    def consumers(self, queue):
        for line in self.broker.ctl('list_queues', '--no-table-headers',
                                    'name', 'consumers').splitlines():
            name, count = line.split('\t')
            if name == queue:
                return int(count)
        return 0


class RabbitMQListenerTest(ListenerProcessTest):

    def test_killed_listener_loses_nothing(self):
        uuids = self.publish_lifecycles(300)
        total = len(uuids) * len(STEPS)
        queue = '%s.info' % self.topic
        self.assertEqual(total, self.queued(queue))

        first = self.start_listener('first')
        self.wait_for(lambda: self.stored_events() > 0)
        first.kill()
        first.wait(30)
        stored_at_kill = self.stored_events()
        self.assertLess(stored_at_kill, total,
                        'the listener finished before it could be killed')
        self.assertGreater(self.queued(queue), 0)

        # What the killed listener had received but not acknowledged is
        # back in the queue; republishing some events on top of it makes
        # duplicates the ledger must ignore.
        self.publish(nova.lifecycle(uuids[0], STEPS))
        self.start_listener('second')
        self.wait_for(lambda: self.queued(queue) == 0, what='an empty queue')
        self.assertEqual(total, self.stored_events())
        end = nova.at(60)
        usages = self.ledger.usage_by_instance(nova.at(-1), end)
        self.assertEqual(set(uuids), set(usages))
        for instance in (uuids[0], uuids[-1]):
            got = usages[instance]
            self.assertEqual((20 * 60, 10 * 60, 'deleted', nova.at(40)),
                             (got.wall_seconds, got.suspend_seconds,
                              got.status, got.ended_at))

    def test_a_backlog_is_handed_over_a_few_batches_at_a_time(self):
        # Prefetch left to the listener; the ledger held by another
        # writer (shorter than SQLite's busy timeout) once the listener
        # and its writer are up: what the listener holds unwritten is
        # what RabbitMQ handed it, three batches.
        self.prefetch = None
        queue = '%s.info' % self.topic
        self.start_listener('backlog')
        self.publish_lifecycles(1)
        self.wait_for(lambda: self.stored_events() == len(STEPS))
        held = usage_listener.PREFETCH_BATCHES * self.batch_size
        blocker = sqlite3.connect(self.ledger_url[len('sqlite:///'):],
                                  isolation_level=None)
        self.addCleanup(blocker.close)
        blocker.execute('BEGIN IMMEDIATE')
        try:
            total = len(self.publish_lifecycles(40)) * len(STEPS)
            self.wait_for(lambda: self.broker.queue_depths().get(
                queue, (0, 0))[1] == held, what='%d unacknowledged' % held)
            time.sleep(1)  # the listener blocked, not just slow
            self.assertEqual((total - held, held),
                             self.broker.queue_depths()[queue])
        finally:
            blocker.execute('ROLLBACK')
        self.wait_for(lambda: self.queued(queue) == 0, what='an empty queue')
        self.assertEqual(total + len(STEPS), self.stored_events())

    def test_listeners_of_one_pool_share_its_queue(self):
        pool = 'pool-%s' % uuid.uuid4().hex[:8]
        listeners = [self.start_listener('pool%d' % i, pool)
                     for i in range(2)]
        self.wait_for(lambda: self.consumers(pool) == 2,
                      what='two consumers on the pool queue')
        uuids = self.publish_lifecycles(100)
        total = len(uuids) * len(STEPS)
        self.wait_for(lambda: self.stored_events() == total)
        self.assertEqual(0, self.queued(pool))
        for listener in listeners:
            self.assertIsNone(listener.poll())
        # SIGTERM is a clean stop: batches in hand finish, exit status 0.
        for listener in listeners:
            self.stop_listener(listener)
            self.assertEqual(0, listener.returncode)

    def test_the_writers_log_lines_are_in_the_listeners_log(self):
        # The writer process reads the batches; its log lines (here a
        # rejected notification's) are in the log file the listener was
        # configured with, written by the listener, stamped with the
        # writer's process id.
        event_type, payload, metadata = nova.notification(
            'instance.create.end', str(uuid.uuid4()), nova.at(0), nova.at(0))
        payload['nova_object.data']['uuid'] = None
        self.publish([(event_type, payload, metadata)])
        listener = self.start_listener('logging')
        log_path = os.path.join(self.tmp, 'logging.log')

        def rejection_lines():
            if not os.path.exists(log_path):
                return []
            with open(log_path) as log:
                return [line for line in log if 'usage_rejected' in line]
        self.wait_for(rejection_lines, what='the rejection in the log file')
        [line] = rejection_lines()
        pid = int(line.split()[2])
        self.assertNotEqual(listener.pid, pid)
        self.assertIn(' ERROR stratuslab_plugins.accounting.usage.listener ',
                      line)

    @testtools.skipIf(libvirt is None, 'libvirt-python is not installed')
    def test_agent_cpu_samples_reach_the_ledger(self):
        uuids = [str(uuid.uuid4()) for _ in range(2)]
        with open(os.path.join(self.tmp, 'node.xml'), 'w') as node:
            node.write(NODE_XML % ''.join(
                DOMAIN_XML % {'n': n, 'uuid': u} for n, u in enumerate(uuids)))
        reference = libvirt.open('test://%s' % node.name)
        self.addCleanup(reference.close)
        expected = {u: reference.lookupByUUIDString(u).getCPUStats(
            True)[0]['cpu_time'] // cpu.NANOSECONDS for u in uuids}
        self.publish([nova.notification('instance.create.end', u, nova.at(0),
                                        nova.at(0)) for u in uuids])
        self.start_listener('listener')
        self.start_listener('agent',
                            script='stratuslab-accounting-libvirt-agent')

        def cpu_seconds():
            usages = self.ledger.usage_by_instance(
                nova.at(-1), datetime.datetime.now(datetime.timezone.utc))
            return {u: usages[u].cpu_seconds for u in uuids if u in usages}
        self.wait_for(lambda: cpu_seconds() == expected,
                      what='CPU seconds of both domains %r' % expected,
                      state=cpu_seconds)
        with self.ledger.engine.connect() as connection:
            hosts = {row.host for row in connection.execute(
                sa.select(usage_schema.usage_cpu_samples))}
        self.assertEqual({'compute-7'}, hosts)
