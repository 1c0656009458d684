"""The accounting ledgers on PostgreSQL, as a site with a database server
runs them (``[accounting] ledger_connection = postgresql+psycopg2://...``).

The unit tests' ledger classes run here again, each test on a fresh
database of one Debian PostgreSQL server started for the class: what
differs on a server is the SQL dialect of the upserts that make
redelivery harmless, the Alembic migrations, the column sizes a server
enforces (SQLite does not) and how values come back.
"""

import itertools

from stratuslab_plugins.sandbox import postgres
from tests.unit.accounting.ledger import test_state
from tests.unit.accounting.ledger import test_usage

_names = itertools.count()


class _OnPostgreSQL(object):
    """Gives ``ledger_url`` a fresh database of a class-wide server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = postgres.PostgreSQL()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def ledger_url(self):
        return self.server.create_database('ledger%d' % next(_names))


class PostgreSQLUsageLedgerTest(_OnPostgreSQL,
                                test_usage.UsageLedgerTest):
    """Usage ledger: events, intervals, CPU samples, rejections."""


class PostgreSQLIncrementalTest(_OnPostgreSQL, test_usage.IncrementalTest):
    """Shuffled batches of random histories against a full rebuild."""


class PostgreSQLStateLedgerTest(_OnPostgreSQL, test_state.TestStateLedger):
    """Extraction windows and the run log."""
