"""Two listener processes on one queue, one killed mid-batch, as sites run
them.

Starts a private RabbitMQ node (Debian's rabbitmq-server), a database
server (Debian's PostgreSQL or MariaDB, see
``stratuslab_plugins/sandbox``) and ``stratuslab-accounting-listener``
processes. The same stream of Nova-shaped notifications (instances
created, suspended, resumed, stopped, started, shelved, unshelved and
some deleted, the events of each spread over the stream) is published
twice: once for a single listener writing a database of its own (the
clean run), once for two listeners sharing one queue and another
database, as a site runs one per controller (each takes at most three
batches ahead of its acknowledgements, ``rabbit_qos_prefetch_count``, so
both drain the stream). When a quarter is stored, both are stopped
(SIGSTOP) and RabbitMQ is asked what each holds unacknowledged; the
first is killed with SIGKILL there, the second resumed, and the first
started again.

Proves that the two give exactly the usage of the clean run, to the
second: wall and suspend time, status and times of every instance, and
the same intervals, on PostgreSQL and on MariaDB. (On the write path
before row locks, two transactions on one instance lost intervals and
this test failed on both.)
"""

import random
import signal
import uuid

import sqlalchemy as sa

from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.ledger import usage_schema
from tests.functional import mariadb_fixture
from tests.functional import postgres_fixture
from tests.functional.usage import test_listener_rabbitmq as base
from tests.unit.accounting.usage import nova_payloads as nova

#: (minute, event) of every instance; the second half stops at minute 50.
STEPS = [(0, 'instance.create.end'), (10, 'instance.suspend.end'),
         (20, 'instance.resume.end'), (30, 'instance.power_off.end'),
         (35, 'instance.power_on.end'), (40, 'instance.shelve.end'),
         (50, 'instance.unshelve.end'), (60, 'instance.delete.end')]
INSTANCES = 120


def _stream(rng):
    """The notifications of every instance, interleaved at random.

    Each instance's events keep their order (Nova emits them so), but
    its events are far apart in the stream, so that consecutive events
    of one instance go to different listeners and batches.
    """
    pending = []
    for number in range(INSTANCES):
        steps = STEPS if number % 2 else STEPS[:-1]
        pending.append(nova.lifecycle(str(uuid.UUID(int=number + 1)), steps))
    stream = []
    while pending:
        events = rng.choice(pending)
        stream.append(events.pop(0))
        if not events:
            pending.remove(events)
    return stream


class _TwoListeners(object):
    """The test; a subclass gives the database server (``cls.database``)."""

    batch_size = 10
    # A few batches each: both listeners share the backlog (without a
    # limit the first to connect would take all of it).
    prefetch = 3 * batch_size

    def ledger_connection(self):
        return self.database.create_database(
            'ledger_%s' % uuid.uuid4().hex[:8])

    def stored(self, ledger):
        with ledger.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(
                usage_schema.usage_events)).scalar()

    def intervals(self, ledger):
        table = usage_schema.usage_intervals
        with ledger.engine.connect() as connection:
            return sorted(tuple(row) for row in connection.execute(
                sa.select(table.c.instance_uuid, table.c.kind,
                          table.c.started_at, table.c.ended_at,
                          table.c.vcpus)))

    @staticmethod
    def pause(*processes):
        for process in processes:
            process.send_signal(signal.SIGSTOP)

    @staticmethod
    def resume(*processes):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)

    def unacknowledged_by_consumer(self, queue):
        """Return the unacknowledged messages of each consumer of ``queue``.

        One count per consumer's channel, as RabbitMQ tracks them.
        """
        channels = {}
        for line in self.broker.ctl('list_consumers', '--no-table-headers',
                                    'queue_name', 'channel_pid').splitlines():
            name, channel = line.split('\t')
            if name == queue:
                channels[channel] = None
        for line in self.broker.ctl('list_channels', '--no-table-headers',
                                    'pid',
                                    'messages_unacknowledged').splitlines():
            channel, count = line.split('\t')
            if channel in channels:
                channels[channel] = int(count)
        return sorted(channels.values())

    def test_two_listeners_one_killed_give_the_clean_runs_usage(self):
        stream = _stream(random.Random(3))
        # The clean run: one listener, a topic and a database of its own.
        clean_topic = 'clean_%s' % self.topic
        clean_url = self.ledger_connection()
        clean = usage_ledger.UsageLedger.from_url(clean_url)
        self.addCleanup(clean.engine.dispose)
        ledger = self.ledger  # the two listeners'
        queue = '%s.info' % self.topic
        self.publish(stream, topic=clean_topic)
        self.start_listener('clean', topic=clean_topic, ledger_url=clean_url)
        first = self.start_listener('first')
        second = self.start_listener('second')
        self.addCleanup(self.resume, first, second)
        # Both connected before the stream is published, so that both
        # take part from the start (one starting late would find the
        # other done).
        self.wait_for(lambda: self.consumers(queue) == 2, timeout=120,
                      what='two consumers on the queue')
        self.pause(first, second)
        self.publish(stream)
        self.resume(first, second)
        self.wait_for(lambda: self.stored(ledger) > len(stream) // 4,
                      what='a quarter of the stream stored')
        # Both stopped where they are, RabbitMQ shows what each holds
        # without acknowledging it: messages handed ahead of the acks,
        # and the batch being written (acknowledged after its commit).
        # Killed now, the first leaves all of them to the broker.
        self.pause(first, second)
        held = self.unacknowledged_by_consumer(queue)
        self.assertEqual(2, len(held), held)
        self.assertGreater(min(held), 0, held)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        self.resume(second)
        self.assertLess(self.stored(ledger), len(stream),
                        'the stream was stored before the kill')
        self.start_listener('first-again')

        for one, what in ((ledger, 'the two listeners'),
                          (clean, 'the clean run')):
            self.wait_for(lambda: self.stored(one) == len(stream),
                          timeout=120, what=what)
        self.wait_for(lambda: self.queued(queue) == 0, what='an empty queue')
        until = nova.at(24 * 60)
        expected = clean.usage_by_instance(nova.at(-1), until)
        got = ledger.usage_by_instance(nova.at(-1), until)
        self.assertEqual(INSTANCES, len(expected))
        self.assertEqual(expected, got)
        self.assertEqual(self.intervals(clean), self.intervals(ledger))
        # And what that usage is: 35 minutes running, 20 suspended or
        # shelved, for the deleted ones.
        deleted = [u for u in expected.values() if u.status == 'deleted']
        self.assertEqual(INSTANCES // 2, len(deleted))
        for one in deleted:
            self.assertEqual((35 * 60, 20 * 60),
                             (one.wall_seconds, one.suspend_seconds))


class TwoListenersPostgreSQLTest(_TwoListeners, base.ListenerProcessTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.database = postgres_fixture.PostgreSQLFixture()
        cls.database.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.database.cleanUp()
        super().tearDownClass()


class TwoListenersMariaDBTest(_TwoListeners, base.ListenerProcessTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.database = mariadb_fixture.MariaDBFixture()
        cls.database.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.database.cleanUp()
        super().tearDownClass()
