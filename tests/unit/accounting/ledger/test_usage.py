"""The usage ledger on a real SQLite file (WAL, BEGIN IMMEDIATE)."""

import os
import queue
import random
import threading
import uuid as uuid_mod

from alembic import autogenerate
from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration
import fixtures
import sqlalchemy as sa
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import engine as engine_mod
from stratuslab_plugins.accounting.ledger import usage
from stratuslab_plugins.accounting.ledger import usage_schema
from stratuslab_plugins.accounting.ledger import usage_writer
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import intervals
from tests.unit.accounting.usage import nova_payloads as nova

A = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c00aa'
B = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c00bb'


def parsed(messages):
    return [events.parse_notification(*m) for m in messages]


def sqlite_url(test):
    """A fresh SQLite ledger file for ``test``."""
    return 'sqlite:///%s' % os.path.join(
        test.useFixture(fixtures.TempDir()).path, 'ledger.sqlite')


class UsageLedgerTest(testtools.TestCase):
    """The usage ledger's behaviour on SQLite.

    Run on PostgreSQL too by tests/functional/accounting/
    test_ledgers_postgresql.py, which overrides ``ledger_url``.
    """

    def ledger_url(self):
        return sqlite_url(self)

    def setUp(self):
        super().setUp()
        self.url = self.ledger_url()
        self.ledger = usage.UsageLedger.from_url(self.url)
        self.addCleanup(self.ledger.engine.dispose)

    def count(self, table):
        with self.ledger.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(table)).scalar()

    def test_migrations_give_the_declared_schema_and_rerun_harmlessly(self):
        usage_schema.upgrade(self.ledger.engine)
        with self.ledger.engine.connect() as connection:
            context = migration.MigrationContext.configure(
                connection, opts={'version_table': usage_schema.VERSION_TABLE})
            self.assertEqual([], autogenerate.compare_metadata(
                context, usage_schema.metadata))
            self.assertEqual('0003', context.get_current_revision())

    def test_redelivered_events_are_stored_once(self):
        messages = nova.lifecycle(A, [(0, 'instance.create.end'),
                                      (10, 'instance.suspend.end')])
        self.ledger.record_events(parsed(messages))
        self.ledger.record_events(parsed(messages + messages[:1]))
        self.assertEqual(2, self.count(usage_schema.usage_events))
        self.assertEqual(2, self.count(usage_schema.usage_intervals))

    def test_out_of_order_writes_converge(self):
        messages = nova.lifecycle(A, [
            (0, 'instance.create.end'), (10, 'instance.suspend.end'),
            (20, 'instance.resume.end'), (30, 'instance.delete.end')])
        for message in reversed(messages):
            self.ledger.record_events(parsed([message]))
        got = self.ledger.usage_for_instance(A, nova.at(60))
        self.assertEqual((20 * 60, 10 * 60, 'deleted', nova.at(30)),
                         (got.wall_seconds, got.suspend_seconds, got.status,
                          got.ended_at))
        self.assertEqual(('proj-a', 'user-a', 2, 4096, 20),
                         (got.project_id, got.user_id, got.vcpus,
                          got.memory_mb, got.disk_gb))

    def test_usage_by_instance_finds_instances_gone_from_the_api(self):
        self.ledger.record_events(parsed(
            nova.lifecycle(A, [(5, 'instance.create.end'),
                               (15, 'instance.delete.end')]) +
            nova.lifecycle(B, [(100, 'instance.create.end')])))
        self.assertEqual({A}, set(self.ledger.usage_by_instance(
            nova.at(0), nova.at(60))))
        self.assertEqual({B}, set(self.ledger.usage_by_instance(
            nova.at(60), nova.at(200))))
        self.assertEqual(600, self.ledger.usage_by_instance(
            nova.at(0), nova.at(60))[A].wall_seconds)

    def test_cpu_samples_become_cpu_seconds(self):
        self.ledger.record_events(parsed(
            nova.lifecycle(A, [(0, 'instance.create.end')])))
        samples = [cpu.CpuSample(A, 'cn1', '3', nova.at(m), s * 10 ** 9)
                   for m, s in ((1, 20), (2, 50))]
        self.ledger.record_cpu_samples(samples)
        self.ledger.record_cpu_samples(samples)
        self.assertEqual(2, self.count(usage_schema.usage_cpu_samples))
        self.assertEqual(50, self.ledger.usage_for_instance(
            A, nova.at(10)).cpu_seconds)
        self.assertIsNone(self.ledger.usage_for_instance(
            B, nova.at(10)))

    def test_rejected_notifications_are_kept_with_the_reason(self):
        # Whatever the length of the message id it carried.
        self.ledger.record(rejected=[('instance.create.end', 'm' * 100,
                                      'no uuid', '{}')])
        [row] = self.ledger.rejected()
        self.assertEqual(('m' * 64, 'no uuid'), (row.message_id, row.reason))

    def test_every_table_has_a_primary_key(self):
        # Galera replicates row changes by primary key; a table without
        # one is refused (or replicated unreliably) by a cluster.
        inspector = sa.inspect(self.ledger.engine)
        tables = inspector.get_table_names()
        self.assertIn(usage_schema.VERSION_TABLE, tables)
        for table in tables:
            self.assertTrue(
                inspector.get_pk_constraint(table)['constrained_columns'],
                table)

    def test_names_in_any_script_are_stored(self):
        # Four-byte UTF-8 included, which MariaDB's 3-byte "utf8" tables
        # (devstack's default) cannot hold.
        name = 'r\u00e9sum\u00e9 \u8a08\u7b97 \U0001f680'
        self.ledger.record_events(parsed(nova.lifecycle(
            A, [(0, 'instance.create.end')], name=name)))
        self.assertEqual(name, self.ledger.usage_for_instance(
            A, nova.at(1)).name)

    def test_bad_url_raises_ledger_error(self):
        exc = self.assertRaises(exceptions.LedgerError,
                                usage.UsageLedger.from_url,
                                'sqlite:////nonexistent-dir/x/ledger.sqlite')
        self.assertIn('ledger.sqlite', str(exc))


class MigrationTest(testtools.TestCase):

    def test_a_0001_ledger_upgrades_and_keeps_its_events(self):
        path = self.useFixture(fixtures.TempDir()).path
        engine = engine_mod.create_engine(
            'sqlite:///%s' % os.path.join(path, 'ledger.sqlite'))
        self.addCleanup(engine.dispose)
        config = alembic_config.Config()
        config.set_main_option('script_location', usage_schema.MIGRATIONS)
        with engine.begin() as connection:
            config.attributes['connection'] = connection
            alembic_command.upgrade(config, '0001')
            create = parsed(nova.lifecycle(A, [(0, 'instance.create.end')]))
            row = usage_writer.event_row(create[0])
            connection.execute(usage_schema.usage_events.insert(), [row])
            connection.execute(sa.text(
                "INSERT INTO usage_instances (instance_uuid, started_at) "
                "VALUES ('%s', %d)" % (A, row['occurred_at'])))
        ledger = usage.UsageLedger.from_url(str(engine.url))
        self.addCleanup(ledger.engine.dispose)
        ledger.record_events(parsed([nova.notification(
            'instance.suspend.end', A, nova.at(10), nova.at(0))]))
        got = ledger.usage_for_instance(A, nova.at(30))
        self.assertEqual((600, 1200), (got.wall_seconds,
                                       got.suspend_seconds))


class IncrementalTest(testtools.TestCase):
    """Continuing intervals in order gives what a full rebuild gives."""

    ledger_url = sqlite_url

    STEPS = ['instance.power_off.end', 'instance.power_on.end',
             'instance.suspend.end', 'instance.resume.end',
             'instance.pause.end', 'instance.unpause.end',
             'instance.shelve.end', 'instance.shelve_offload.end',
             'instance.unshelve.end', 'instance.resize_finish.end',
             events.EXISTS, events.EXISTS]

    def setUp(self):
        super().setUp()
        self.url = self.ledger_url()
        self.ledger = usage.UsageLedger.from_url(self.url)
        self.addCleanup(self.ledger.engine.dispose)

    def history(self, rng, instance):
        messages = [nova.notification('instance.create.end', instance,
                                      nova.at(0), nova.at(0))]
        minute, used = 0, set()
        for _ in range(rng.randint(1, 12)):
            # Some events share a minute: ties are ordered by key too.
            # (One event type at one instant is one event: the ledger's
            # key.)
            minute += rng.choice((0, 1, 3))
            step = rng.choice(self.STEPS)
            if (step, minute) in used:
                continue
            used.add((step, minute))
            flavor = nova.flavor_payload(vcpus=rng.choice((1, 2, 4)))
            state = rng.choice(('active', 'suspended', 'stopped', 'error'))
            messages.append(nova.notification(
                step, instance, nova.at(minute), nova.at(0), state=state,
                flavor=flavor, name='vm-%d' % minute))
        if rng.random() < 0.5:
            messages.append(nova.notification(
                'instance.delete.end', instance, nova.at(minute + 1),
                nova.at(0)))
            messages.append(nova.notification(
                events.EXISTS, instance, nova.at(minute + 2), nova.at(0)))
        return parsed(messages)

    def stored_timeline(self, instance):
        with self.ledger.engine.connect() as connection:
            return usage._timelines(connection, [instance])[instance]

    def test_in_order_and_shuffled_batches_match_a_full_build(self):
        rng = random.Random(7)
        for trial in range(60):
            instance = str(uuid_mod.UUID(int=trial))
            history = self.history(rng, instance)
            batches = list(history)
            if trial % 3 == 2:
                rng.shuffle(batches)
            written = []
            while batches:
                size = rng.randint(1, 4)
                batch, batches = batches[:size], batches[size:]
                # A redelivery now and then.
                if written and rng.random() < 0.2:
                    batch.append(rng.choice(written))
                self.ledger.record_events(batch)
                written.extend(batch)
                expected = intervals.build_timeline(written)
                self.assertEqual(expected, self.stored_timeline(instance),
                                 'trial %d after %d events'
                                 % (trial, len(set(written))))

    def stream(self, rng, count):
        """Histories of ``count`` instances, interleaved as a broker would.

        Each instance's events keep their order, but for every third
        instance, whose events are shuffled; one event in ten comes
        twice (a redelivery).
        """
        histories = []
        for number in range(count):
            history = self.history(rng, str(uuid_mod.UUID(int=number)))
            if number % 3 == 2:
                rng.shuffle(history)
            histories.append(history)
        stream = []
        while any(histories):
            history = rng.choice([h for h in histories if h])
            stream.append(history.pop(0))
            if rng.random() < 0.1:
                stream.append(rng.choice(stream))
        return stream

    def check_all(self, stream):
        by_instance = {}
        for event in stream:
            by_instance.setdefault(event.instance_uuid, []).append(event)
        with self.ledger.engine.connect() as connection:
            stored = usage._timelines(connection, list(by_instance))
        for instance, history in sorted(by_instance.items()):
            self.assertEqual(intervals.build_timeline(history),
                             stored[instance], instance)

    def test_batches_of_many_instances_match_a_full_build(self):
        rng = random.Random(11)
        stream = self.stream(rng, 40)
        start = 0
        while start < len(stream):
            size = rng.randint(1, 40)
            self.ledger.record_events(stream[start:start + size])
            start += size
        self.check_all(stream)

    def test_two_writers_at_once_match_a_full_build(self):
        # Two listeners' transactions on the same instances at the same
        # time (each its own engine, as two processes): the second waits
        # for the first's row locks and continues from what it committed.
        stream = self.stream(random.Random(5), 30)
        batches = queue.Queue()
        for start in range(0, len(stream), 6):
            batches.put(stream[start:start + 6])
        errors, written = [], []

        def write(ledger):
            try:
                while True:
                    try:
                        batch = batches.get_nowait()
                    except queue.Empty:
                        return
                    ledger.record_events(batch)
                    written.append(ledger)
            except Exception as exc:
                errors.append(exc)
        ledgers = [usage.UsageLedger.from_url(self.url) for _ in range(2)]
        for ledger in ledgers:
            self.addCleanup(ledger.engine.dispose)
        writers = [threading.Thread(target=write, args=(ledger,))
                   for ledger in ledgers]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(300)
        self.assertEqual([], errors)
        self.assertEqual(set(map(id, ledgers)), set(map(id, written)))
        self.check_all(stream)


class TimeTest(testtools.TestCase):

    def test_microseconds_round_trip(self):
        when = nova.at(1).replace(microsecond=999999)
        self.assertEqual(when, usage_schema.from_us(usage_schema.to_us(when)))
