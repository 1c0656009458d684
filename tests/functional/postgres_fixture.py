"""A real PostgreSQL server for functional tests.

:class:`PostgreSQLFixture` runs a :class:`stratuslab_plugins.sandbox.
postgres.PostgreSQL` (Debian's server, Unix socket only, fsync off) for
the duration of a test and removes it afterwards; ``create_database``
gives an SQLAlchemy URL of a fresh database::

    server = self.useFixture(PostgreSQLFixture())
    url = server.create_database('ledger')
"""

import fixtures
from testtools import content

from stratuslab_plugins.sandbox import postgres

#: Bytes of the server's log kept with each test's results.
LOG_DETAIL_SIZE = 8000


class PostgreSQLFixture(fixtures.Fixture):
    """Run one PostgreSQL server for the duration of a test."""

    def _setUp(self):
        self.server = postgres.PostgreSQL()
        self.addCleanup(self.server.stop)
        self.addCleanup(lambda: self.addDetail('postgres.log', (
            content.text_content(self.server.log_text()[-LOG_DETAIL_SIZE:]))))
        try:
            self.server.start()
        except postgres.PostgreSQLError as exc:
            raise fixtures.SetupError(str(exc))

    def create_database(self, name):
        """Create database ``name``; return its SQLAlchemy URL."""
        return self.server.create_database(name)
