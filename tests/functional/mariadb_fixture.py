"""A real MariaDB server for functional tests.

:class:`MariaDBFixture` runs a :class:`stratuslab_plugins.sandbox.mariadb.
MariaDB` (Debian's server, Unix socket only, no flush at commit) for the
duration of a test and removes it afterwards; ``create_database`` gives an
SQLAlchemy URL of a fresh database::

    server = self.useFixture(MariaDBFixture())
    url = server.create_database('ledger')

For a whole test class, :class:`SharedMariaDB` starts one server in
``setUpClass``.
"""

import fixtures
from testtools import content

from stratuslab_plugins.sandbox import mariadb

#: Bytes of the server's log kept with each test's results.
LOG_DETAIL_SIZE = 8000


class MariaDBFixture(fixtures.Fixture):
    """Run one MariaDB server for the duration of a test."""

    def _setUp(self):
        self.server = mariadb.MariaDB()
        self.addCleanup(self.server.stop)
        self.addCleanup(lambda: self.addDetail('mariadb.log', (
            content.text_content(self.server.log_text()[-LOG_DETAIL_SIZE:]))))
        try:
            self.server.start()
        except mariadb.MariaDBError as exc:
            raise fixtures.SetupError(str(exc))

    def create_database(self, name, charset='utf8mb4'):
        """Create database ``name``; return its SQLAlchemy URL."""
        return self.server.create_database(name, charset)


class SharedMariaDB(object):
    """Mixin: one MariaDB server for a whole test class (``cls.mariadb``).

    Put it before the TestCase base.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mariadb = MariaDBFixture()
        cls.mariadb.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.mariadb.cleanUp()
        super().tearDownClass()
