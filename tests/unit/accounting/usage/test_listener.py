"""The listener over oslo.messaging's in-process ``fake://`` transport.

The real-RabbitMQ tests (kill and restart included) are in
``tests/functional/usage``; these check what the endpoints do with what
arrives, through the real listener and dispatcher code.
"""

import gc
import os
import signal
import threading
import time

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import sqlalchemy as sa
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.ledger import usage_schema
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import formats
from stratuslab_plugins.accounting.usage import listener
from stratuslab_plugins.conf import usage as usage_conf
from tests.unit.accounting.usage import nova_payloads as nova

A = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0a01'
B = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0a02'
C = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0a03'


class FlakyLedger:
    """A real ledger whose first write fails, as a full disk would."""

    def __init__(self, ledger):
        self.ledger = ledger
        self.failures = 1

    def record(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise exceptions.LedgerError('disk full (test)')
        self.ledger.record(**kwargs)


class ListenerTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # The listener's modules' loggers (the format watch's included).
        self.logger = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.accounting.usage'))
        self.conf = cfg.ConfigOpts()
        usage_conf.register_opts(self.conf)
        self.conf([], project='stratuslab-test')
        self.conf.set_override('batch_timeout', 0.05, group='accounting_usage')
        # Nova's control_exchange is "nova": that is why its
        # notifications are on that exchange.
        messaging = self.useFixture(conffixture.ConfFixture(self.conf))
        messaging.transport_url = 'fake:/'
        self.conf.set_override('control_exchange', 'nova')
        self.transport = oslo_messaging.get_notification_transport(
            self.conf)
        self.addCleanup(self.transport.cleanup)
        path = self.useFixture(fixtures.TempDir()).path
        self.ledger = usage_ledger.UsageLedger.from_url(
            'sqlite:///%s' % os.path.join(path, 'ledger.sqlite'))
        self.addCleanup(self.ledger.engine.dispose)

    def start(self, ledger=None):
        listeners = listener.build_listeners(
            self.conf, ledger or self.ledger, self.transport)
        for one in listeners:
            one.start()
            self.addCleanup(one.wait)
            self.addCleanup(one.stop)
        return listeners

    def notifier(self, topic='versioned_notifications'):
        return oslo_messaging.Notifier(
            self.transport, publisher_id='nova-compute:cn1',
            driver='messagingv2', topics=[topic])

    def publish(self, messages, topic='versioned_notifications'):
        notifier = self.notifier(topic)
        for event_type, payload, metadata in messages:
            notifier.info({}, event_type, payload)

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for the listener')
            time.sleep(0.02)

    def usage_now(self):
        return self.ledger.usage_for_instance(A, nova.at(10 ** 6))

    def test_events_reach_the_ledger(self):
        self.start()
        self.publish(nova.lifecycle(A, [(0, 'instance.create.end'),
                                        (1, 'instance.suspend.end')]))
        self.wait_for(lambda: self.usage_now() is not None
                      and self.usage_now().status == 'suspended')

    def test_other_versioned_events_are_ignored(self):
        self.start()
        self.publish([('instance.update',) + nova.notification(
            'instance.create.end', A, nova.at(0), nova.at(0))[1:]] +
            nova.lifecycle(A, [(0, 'instance.create.end')]))
        self.wait_for(lambda: self.usage_now() is not None)
        self.assertEqual([], self.ledger.rejected())

    def test_a_failed_commit_is_not_acknowledged_and_comes_back(self):
        self.start(ledger=FlakyLedger(self.ledger))
        self.publish(nova.lifecycle(A, [(0, 'instance.create.end')]))
        self.wait_for(lambda: self.usage_now() is not None)
        self.assertIn('goes back to the queue', self.logger.output)

    def test_unreadable_notification_is_kept_with_its_reason(self):
        self.start()
        _, payload, _ = nova.notification('instance.create.end', A,
                                          nova.at(0), nova.at(0))
        del payload['nova_object.data']['uuid']
        self.publish([('instance.create.end', payload, {})] +
                     nova.lifecycle(A, [(0, 'instance.create.end')]))
        self.wait_for(lambda: self.ledger.rejected())
        [row] = self.ledger.rejected()
        self.assertIn('no uuid', row.reason)
        self.wait_for(lambda: 'usage_rejected' in self.logger.output)
        self.wait_for(lambda: self.usage_now() is not None)

    def stored_names(self):
        with self.ledger.engine.connect() as connection:
            return {row.instance_uuid: row.name for row in connection.execute(
                sa.select(usage_schema.usage_events))}

    def test_poison_notifications_are_kept_and_the_batch_is_stored(self):
        # One batch: good events of three instances, and notifications in
        # Nova's spelling with a value of the wrong type or out of range.
        poison = []
        for change in (lambda d: d.update(state=['active']),
                       lambda d: d['flavor']['nova_object.data'].update(
                           vcpus=float('inf')),
                       lambda d: d.update(launched_at='0001-01-01T00:00:00'
                                                      '+01:00')):
            event_type, payload, metadata = nova.notification(
                events.EXISTS, B, nova.at(2), nova.at(0))
            change(payload['nova_object.data'])
            poison.append((event_type, payload, metadata))
        good = [nova.lifecycle(uuid, [(0, 'instance.create.end'),
                                      (1, 'instance.suspend.end')])
                for uuid in (A, B, C)]
        self.publish(good[0] + poison + good[1] + good[2])
        self.start()
        self.wait_for(lambda: len(self.ledger.rejected()) == 3
                      and len(self.stored_names()) == 3)
        reasons = ' | '.join(row.reason for row in self.ledger.rejected())
        for expected in ('flavor vcpus is inf, not an integer',
                         'launched_at is outside [2000-01-01, 2100-01-01)',
                         "state is ['active'], not a string"):
            self.assertIn(expected, reasons)
        for uuid in (A, B, C):
            self.assertEqual('suspended', self.ledger.usage_for_instance(
                uuid, nova.at(10 ** 6)).status)
        self.assertNotIn('goes back to the queue', self.logger.output)

    def test_a_value_the_database_refuses_is_kept_and_the_rest_stored(self):
        # A constraint of the site's database (a trigger here: SQLite
        # takes any value) refuses one event of a batch.
        with self.ledger.engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON usage_events "
                "WHEN NEW.name = 'refused' BEGIN "
                "SELECT RAISE(ABORT, 'name refused by the site'); END")
        self.publish(nova.lifecycle(A, [(0, 'instance.create.end')]) +
                     nova.lifecycle(B, [(0, 'instance.create.end')],
                                    name='refused') +
                     nova.lifecycle(C, [(0, 'instance.create.end')]))
        self.start()
        self.wait_for(lambda: self.ledger.rejected())
        [row] = self.ledger.rejected()
        self.assertIn('the ledger refused it', row.reason)
        self.assertIn('name refused by the site', row.reason)
        self.assertIn(B, row.payload)
        self.wait_for(lambda: set(self.stored_names()) == {A, C})
        self.assertNotIn('goes back to the queue', self.logger.output)

    def test_unpaired_surrogates_in_a_name_are_stored(self):
        # JSON (and so the message bus) carries "\ud800"; UTF-8 does not,
        # and SQLite refused the whole batch, again at each redelivery.
        self.start()
        self.publish(nova.lifecycle(A, [(0, 'instance.create.end')],
                                    name='vm-\ud800'))
        self.wait_for(lambda: self.usage_now() is not None)
        self.assertEqual({A: 'vm-\ufffd'}, self.stored_names())

    def test_cpu_samples_reach_the_ledger(self):
        self.start()
        self.publish(nova.lifecycle(A, [(0, 'instance.create.end')]))
        sample = cpu.CpuSample(A, 'cn1', '4', nova.at(1), 42 * 10 ** 9)
        self.notifier('stratuslab_cpu_samples').sample(
            {}, cpu.EVENT_TYPE, cpu.to_payload('cn1', [sample]))
        self.wait_for(lambda: self.usage_now() is not None
                      and self.usage_now().cpu_seconds == 42)

    def test_only_unversioned_notifications_warn_once(self):
        self.start()
        for _ in range(2 * formats.FormatWatch.threshold):
            self.notifier('notifications').info(
                {}, 'compute.instance.create.end', {'instance_id': A})
        self.wait_for(lambda: 'unversioned' in self.logger.output)
        self.wait_for(lambda: self.logger.output.count('notification_format')
                      >= 1)
        time.sleep(0.2)
        self.assertEqual(1, self.logger.output.count('only unversioned'))
        for option in formats.NOVA_OPTIONS:
            self.assertIn(option, self.logger.output)


class ServeTest(testtools.TestCase):

    def test_the_start_up_heap_is_frozen_before_listening(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        self.addCleanup(gc.unfreeze)
        gc.unfreeze()
        frozen_at_start = []

        class Probe:
            def start(self):
                frozen_at_start.append(gc.get_freeze_count())

            def stop(self):
                pass

            def wait(self):
                pass

        stop = threading.Event()
        stop.set()
        listener.serve([Probe()], stop)
        # The modules imported by then (this test's included) are frozen.
        self.assertGreater(frozen_at_start[0], 10000)


class DefaultPrefetchTest(testtools.TestCase):
    """RabbitMQ's prefetch: three batches unless the configuration says."""

    def conf(self, text=''):
        path = self.useFixture(fixtures.TempDir()).path
        config = os.path.join(path, 'listener.conf')
        with open(config, 'w') as out:
            out.write('[accounting_usage]\nbatch_size = 40\n' + text)
        conf = cfg.ConfigOpts()
        usage_conf.register_opts(conf)
        conf(['--config-file', config], project='stratuslab-test')
        # The driver registers its options; nothing connects before a
        # listener starts.
        transport = oslo_messaging.get_notification_transport(
            conf, url='rabbit://stratuslab:secret@127.0.0.1:9/')
        self.addCleanup(transport.cleanup)
        listener.build_listeners(conf, None, transport, writer=object())
        return conf.oslo_messaging_rabbit.rabbit_qos_prefetch_count

    def test_three_batches_by_default(self):
        self.assertEqual(3 * 40, self.conf())

    def test_the_operators_value_wins_even_unlimited(self):
        for value in (0, 7):
            self.assertEqual(value, self.conf(
                '[oslo_messaging_rabbit]\nrabbit_qos_prefetch_count = %d\n'
                % value))

    def test_other_transports_are_left_alone(self):
        conf = cfg.ConfigOpts()
        usage_conf.register_opts(conf)
        conf([], project='stratuslab-test')
        self.assertIsNone(listener.default_prefetch(conf))


class InstanceEventEndpointTest(testtools.TestCase):

    def test_handled_types_are_matched_exactly(self):
        rule = listener.InstanceEventEndpoint.filter_rule
        self.assertTrue(rule.match({}, 'p', 'instance.create.end', {}, {}))
        self.assertFalse(rule.match({}, 'p', 'instance.create.endx', {}, {}))
        self.assertFalse(rule.match({}, 'p', 'instance.update', {}, {}))
        self.assertIn(events.EXISTS, events.HANDLED_EVENT_TYPES)
