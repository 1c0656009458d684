"""The accounting ledgers on MariaDB, as most OpenStack sites run them
(``[accounting] ledger_connection = mysql+pymysql://...``, often on a
Galera cluster).

The unit tests' ledger classes run here again, each test on a fresh
database of one Debian MariaDB server started for the class (see
``tests/functional/mariadb_fixture.py``): what differs on MariaDB is the
SQL of the upserts that make redelivery harmless, the Alembic migrations,
the column sizes and character sets the server enforces, its default
isolation (REPEATABLE READ, where the ledger asks for READ COMMITTED) and
how values come back. The usage ledger's databases are created with the
3-byte ``utf8`` character set devstack and older sites use.
"""

import itertools

from stratuslab_plugins.accounting.ledger import usage
from tests.functional import mariadb_fixture
from tests.unit.accounting.ledger import test_state
from tests.unit.accounting.ledger import test_usage

_names = itertools.count()


class _OnMariaDB(mariadb_fixture.SharedMariaDB):
    """Gives ``ledger_url`` a fresh database of a class-wide server."""

    #: The databases' character set.
    charset = 'utf8'

    def ledger_url(self):
        return self.mariadb.create_database('ledger%d' % next(_names),
                                            self.charset)


class MariaDBUsageLedgerTest(_OnMariaDB, test_usage.UsageLedgerTest):
    """Usage ledger: events, intervals, CPU samples, rejections."""

    def test_connections_are_read_committed_and_4_byte_utf8(self):
        # Whatever the URL says: devstack writes ?charset=utf8.
        url = self.mariadb.create_database('devstack_like', 'utf8')
        self.assertIn('charset=utf8', url)
        ledger = usage.UsageLedger.from_url(url)
        self.addCleanup(ledger.engine.dispose)
        with ledger.engine.connect() as connection:
            self.assertEqual(('READ-COMMITTED', 'utf8mb4'), tuple(
                connection.exec_driver_sql(
                    'SELECT @@tx_isolation, @@character_set_connection'
                ).one()))


class MariaDBIncrementalTest(_OnMariaDB, test_usage.IncrementalTest):
    """Shuffled batches of random histories against a full rebuild."""


class MariaDBStateLedgerTest(_OnMariaDB, test_state.TestStateLedger):
    """Extraction windows and the run log."""

    charset = 'utf8mb4'
