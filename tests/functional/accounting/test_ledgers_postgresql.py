"""The accounting ledgers on PostgreSQL, as a site with a database server
runs them (``[accounting] ledger_connection = postgresql+psycopg2://...``).

The unit tests run the ledgers on SQLite; what differs on a server is the
SQL dialect of the upserts that make redelivery harmless, the Alembic
migrations, and how timestamps come back. One Debian PostgreSQL server,
started here, serves the class; each test gets a fresh database.
"""

import datetime
import itertools

from alembic import autogenerate
from alembic import migration
import sqlalchemy as sa
import testtools

from stratuslab_plugins.accounting.ledger import state
from stratuslab_plugins.accounting.ledger import usage
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.sandbox import postgres
from tests.unit.accounting.usage import nova_payloads as nova

A = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c00aa'
KEY = ('nova', '', 'TEST-SITE')
_names = itertools.count()


def parsed(messages):
    return [events.parse_notification(*m) for m in messages]


class PostgreSQLLedgerTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = postgres.PostgreSQL()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.url = self.server.create_database('ledger%d' % next(_names))
        self.ledger = usage.UsageLedger.from_url(self.url)
        self.addCleanup(self.ledger.engine.dispose)

    def count(self, table):
        with self.ledger.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(table)).scalar()

    def test_migrations_give_the_declared_schemas(self):
        usage.upgrade(self.ledger.engine)  # a second run changes nothing
        with self.ledger.engine.connect() as connection:
            context = migration.MigrationContext.configure(
                connection, opts={'version_table': usage.VERSION_TABLE})
            self.assertEqual([], autogenerate.compare_metadata(
                context, usage.metadata))
            self.assertEqual('0002', context.get_current_revision())
        # The state ledger in a database of its own: compare_metadata
        # would list the usage tables as extra.
        state_ledger = state.StateLedger.from_url(
            self.server.create_database('state%d' % next(_names)))
        self.addCleanup(state_ledger.engine.dispose)
        with state_ledger.engine.connect() as connection:
            context = migration.MigrationContext.configure(
                connection, opts={'version_table': state.VERSION_TABLE})
            self.assertEqual([], autogenerate.compare_metadata(
                context, state.metadata))
            self.assertEqual('0001', context.get_current_revision())

    def test_redelivered_events_and_samples_are_stored_once(self):
        messages = nova.lifecycle(A, [(0, 'instance.create.end'),
                                      (10, 'instance.suspend.end')])
        self.ledger.record_events(parsed(messages))
        self.ledger.record_events(parsed(messages + messages[:1]))
        self.assertEqual(2, self.count(usage.usage_events))
        self.assertEqual(2, self.count(usage.usage_intervals))
        samples = [cpu.CpuSample(A, 'cn1', '3', nova.at(m), s * 10 ** 9)
                   for m, s in ((1, 20), (2, 50))]
        self.ledger.record_cpu_samples(samples)
        self.ledger.record_cpu_samples(samples)
        self.assertEqual(2, self.count(usage.usage_cpu_samples))
        self.assertEqual(50, self.ledger.usage_for_instance(
            A, nova.at(10)).cpu_seconds)

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
        self.assertEqual({A}, set(self.ledger.usage_by_instance(
            nova.at(0), nova.at(60))))

    def test_windows_come_back_in_utc(self):
        # Windows are whole seconds by design (APEL's precision).
        ledger = state.StateLedger.from_url(self.url)
        self.addCleanup(ledger.engine.dispose)
        when = datetime.datetime(2026, 11, 2, 12, 0, 0,
                                 tzinfo=datetime.timezone.utc)
        ledger.advance([KEY], when, records=3, messages=1)
        ledger.advance([KEY], when + datetime.timedelta(hours=1))
        again = state.StateLedger.from_url(self.url)
        self.addCleanup(again.engine.dispose)
        self.assertEqual(when + datetime.timedelta(hours=1),
                         again.window_end(KEY))
        self.assertEqual([when + datetime.timedelta(hours=1), when],
                         [run['window_end'] for run in again.last_runs()])

    def test_rejected_notifications_are_kept_with_the_reason(self):
        # Whatever the length of what the message carried.
        self.ledger.record(rejected=[('instance.create.end', 'm' * 100,
                                      'no uuid', '{}')])
        [row] = self.ledger.rejected()
        self.assertEqual(('m' * 64, 'no uuid'), (row.message_id, row.reason))
