"""The extraction windows and run log, in a real SQLite ledger."""

import datetime

import fixtures
import sqlalchemy as sa
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import state
from stratuslab_plugins.accounting.ledger import usage

UTC = datetime.timezone.utc
T1 = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
KEY = ('nova', '', 'TEST-SITE')


class TestStateLedger(testtools.TestCase):
    """The state ledger on SQLite.

    Run on PostgreSQL too by tests/functional/accounting/
    test_ledgers_postgresql.py, which overrides ``ledger_url``.
    """

    def ledger_url(self):
        return 'sqlite:///' + self.useFixture(fixtures.TempDir()).join(
            'ledger.db')

    def setUp(self):
        super().setUp()
        self.url = self.ledger_url()
        self.ledger = state.StateLedger.from_url(self.url)
        self.addCleanup(self.ledger.engine.dispose)

    def test_no_window_at_first(self):
        self.assertIsNone(self.ledger.window_end(KEY))

    def test_advance_and_reopen(self):
        self.ledger.advance([KEY, ('cinder', 'R2', 'TEST-SITE')], T1,
                            records=12, messages=1)
        again = state.StateLedger.from_url(self.url)
        self.addCleanup(again.engine.dispose)
        self.assertEqual(T1, again.window_end(KEY))
        self.assertEqual(T1, again.window_end(('cinder', 'R2', 'TEST-SITE')))
        later = T1 + datetime.timedelta(hours=1)
        again.advance([KEY], later)
        self.assertEqual(later, again.window_end(KEY))
        self.assertEqual(T1, again.window_end(('cinder', 'R2', 'TEST-SITE')))
        runs = again.last_runs()
        self.assertEqual([later, T1], [r['window_end'] for r in runs])
        self.assertEqual(12, runs[1]['records'])

    def test_a_failed_run_is_booked_and_moves_nothing(self):
        self.ledger.advance([KEY], T1, records=12, messages=1)
        later = T1 + datetime.timedelta(hours=1)
        self.ledger.record_failure([KEY], later, 'MessengerError: ' + 'x' *
                                   5000, since=T1, records=3)
        self.assertEqual(T1, self.ledger.window_end(KEY))
        failed, published = self.ledger.last_runs()
        self.assertEqual(('failed', later, 3, 'nova'),
                         (failed['outcome'], failed['window_end'],
                          failed['records'], failed['extractors']))
        self.assertEqual(state.MAX_ERROR, len(failed['error']))
        self.assertEqual(('published', None),
                         (published['outcome'], published['error']))

    def test_unusable_database_is_a_clear_error(self):
        exc = self.assertRaises(
            exceptions.LedgerError, state.StateLedger.from_url,
            'sqlite:////nonexistent-dir/for/sure/ledger.db')
        self.assertIn('ledger_connection', str(exc))

    def test_schema_is_versioned_beside_the_usage_tables(self):
        usage.UsageLedger.from_url(self.url).engine.dispose()
        state.StateLedger.from_url(self.url).engine.dispose()
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            version = connection.execute(sa.text(
                'SELECT version_num FROM accounting_alembic_version'
            )).scalar()
        self.assertLessEqual({'accounting_windows', 'accounting_runs',
                              'accounting_alembic_version',
                              'usage_alembic_version'}, tables)
        self.assertEqual('0002', version)
