"""Nova's own versioned notifications, for real server actions, in the ledger.

Starts Nova in-process (the foundation's ``NovaTestCase``: API,
conductor, scheduler, Placement, two fake computes) and drives one server
through create, suspend, resume, stop, start, resize (confirmed), shelve
(offloaded at once, Nova's default) and delete. Nova's notification
fixture records every versioned notification it emits, serialised as it
would go on the wire; the test adds the envelope timestamp the
oslo.messaging notifier adds, feeds them through the listener's endpoint
into a SQLite ledger (in reverse order), and checks the intervals against
what the Nova API reports. It then publishes the same notifications with
an oslo.messaging notifier to a private RabbitMQ (Debian's
rabbitmq-server) and runs ``stratuslab-accounting-listener``: its ledger
must hold the same intervals.
"""

import datetime
import os
import subprocess
import time
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
from oslo_utils import timeutils
import sqlalchemy as sa

from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.ledger import usage_schema
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import listener
from tests.functional import nova_base
from tests.functional import rabbitmq_fixture
from tests.functional.usage import test_listener_rabbitmq as rabbit_tests

UTC = datetime.timezone.utc


class NovaNotificationsTest(rabbitmq_fixture.SharedBroker,
                            nova_base.NovaTestCase):

    #: Nova's notifications carry the message id and timestamp the real
    #: notifier adds (the fake one does not).
    stamp_notifications = True

    def setUp(self):
        super().setUp()
        self.start_computes('host1', 'host2')
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.ledger = self.open_ledger('direct.sqlite')

    def open_ledger(self, name):
        ledger = usage_ledger.UsageLedger.from_url(
            'sqlite:///%s' % os.path.join(self.tmp, name))
        self.addCleanup(ledger.engine.dispose)
        return ledger

    def feed_ledger(self):
        endpoint = listener.InstanceEventEndpoint(self.ledger)
        rule = endpoint.filter_rule
        messages = [n for n in self.notifier.versioned_notifications
                    if rule.match({}, n['publisher_id'], n['event_type'],
                                  n['metadata'], n['payload'])]
        # The listener receives them in batches, in any order.
        self.assertEqual('handled', endpoint.info(messages[::-1]))
        return messages

    def test_server_lifecycle_becomes_intervals(self):
        small = self._create_flavor(name='small', vcpu=1, memory_mb=512,
                                    disk=1)
        large = self._create_flavor(name='large', vcpu=2, memory_mb=1024,
                                    disk=2, ephemeral=1)
        server = self._create_server(flavor_id=small, networks='none')
        launched_at = self.api.get_server(server['id'])[
            'OS-SRV-USG:launched_at']
        self._suspend_server(server)
        self._resume_server(server)
        self._stop_server(server)
        self._start_server(server)
        self._resize_server(server, large)
        self._confirm_resize(server)
        self._shelve_server(server)
        self._unshelve_server(server)
        self._delete_server(server)

        messages = self.feed_ledger()
        seen = {m['event_type'] for m in messages}
        for event_type in ('instance.create.end', 'instance.suspend.end',
                           'instance.resume.end', 'instance.power_off.end',
                           'instance.power_on.end',
                           'instance.resize_finish.end',
                           'instance.shelve_offload.end',
                           'instance.unshelve.end', 'instance.delete.end'):
            self.assertIn(event_type, seen)
        self.assertEqual([], self.ledger.rejected())

        now = datetime.datetime.now(UTC)
        usage = self.ledger.usage_for_instance(server['id'], now)
        self.assertEqual('deleted', usage.status)
        self.assertEqual(
            timeutils.parse_isotime(launched_at).replace(microsecond=0),
            usage.started_at.replace(microsecond=0))
        self.assertEqual((self.api.project_id, 2, 1024, 3),
                         (usage.project_id, usage.vcpus, usage.memory_mb,
                          usage.disk_gb))
        timeline = self.timeline(server['id'])
        self.assertEqual(
            [(events.RUNNING, 1), (events.SUSPENDED, 1), (events.RUNNING, 1),
             (events.STOPPED, 1), (events.RUNNING, 1), (events.RUNNING, 2),
             (events.SHELVED, 2), (events.OFFLOADED, 2), (events.RUNNING, 2)],
            [(kind, vcpus) for kind, vcpus, _, _ in timeline])
        # Back to back, from launch to deletion.
        for (_, _, _, end), (_, _, start, _) in zip(timeline, timeline[1:]):
            self.assertEqual(end, start)
        self.assertEqual(usage_schema.to_us(usage.ended_at), timeline[-1][3])
        self.assertEqual(timeline, self.through_rabbitmq(
            messages, server['id']))

    def through_rabbitmq(self, messages, instance):
        """Publish ``messages``; return the listener process's intervals."""
        topic = 'versioned_%s' % uuid.uuid4().hex[:8]
        conf = cfg.ConfigOpts()
        conf([], project='stratuslab-test')
        self.useFixture(conffixture.ConfFixture(conf))
        conf.set_override('control_exchange', 'nova')
        transport = oslo_messaging.get_notification_transport(
            conf, url=self.broker.url)
        self.addCleanup(transport.cleanup)
        notifier = oslo_messaging.Notifier(
            transport, publisher_id='nova-compute:host1',
            driver='messagingv2', topics=[topic])
        for message in messages:
            # The envelope time the fake notifier recorded at emission.
            with rabbit_tests.emitted_at(message['metadata']['timestamp']):
                notifier.info({}, message['event_type'], message['payload'])
        url = 'sqlite:///%s' % os.path.join(self.tmp, 'rabbit.sqlite')
        config = os.path.join(self.tmp, 'listener.conf')
        with open(config, 'w') as out:
            out.write('[DEFAULT]\ntransport_url = %s\nlog_file = %s\n'
                      '[accounting_usage]\nledger_connection = %s\n'
                      'nova_topic = %s\nbatch_timeout = 0.2\n'
                      'unversioned_topic =\n'
                      % (self.broker.url,
                         os.path.join(self.tmp, 'listener.log'), url, topic))
        process = subprocess.Popen(
            rabbit_tests.console_script('stratuslab-accounting-listener') +
            ['--config-file', config], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(rabbit_tests.RabbitMQListenerTest.stop_listener,
                        process)
        ledger = usage_ledger.UsageLedger(usage_ledger.engine_mod
                                          .create_engine(url))
        deadline = time.monotonic() + 60
        while self.stored(ledger) < len(messages):
            self.assertLess(time.monotonic(), deadline,
                            'the listener did not store every event')
            time.sleep(0.1)
        return self.timeline(instance, ledger)

    @staticmethod
    def stored(ledger):
        try:
            with ledger.engine.connect() as connection:
                return connection.execute(sa.select(sa.func.count())
                                          .select_from(
                                              usage_schema.usage_events)
                                          ).scalar()
        except sa.exc.OperationalError:
            return 0    # the listener has not created the tables yet

    def timeline(self, instance, ledger=None):
        table = usage_schema.usage_intervals
        with (ledger or self.ledger).engine.connect() as connection:
            return [(row.kind, row.vcpus, row.started_at, row.ended_at)
                    for row in connection.execute(
                        sa.select(table).where(
                            table.c.instance_uuid == instance)
                        .order_by(table.c.started_at))]
