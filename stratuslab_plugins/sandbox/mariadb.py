"""A throw-away MariaDB server on a Unix socket, for tests and benchmarks.

Most OpenStack sites (and devstack by default) keep their databases in
MariaDB or MySQL, often a Galera cluster; the accounting ledgers must
work there as on SQLite and PostgreSQL. :class:`MariaDB` gives a test or
a benchmark the real server: ``mariadb-install-db`` into a fresh
directory, ``mariadbd`` on a Unix socket of its own (no TCP port to
collide with another test's), databases created on demand, everything
removed on ``stop``::

    server = MariaDB()
    server.start()
    url = server.create_database('ledger')   # an SQLAlchemy URL
    ...
    server.stop()

As root (the project's CI machines), ``mariadbd`` is told to stay root
(``--user=root``) rather than switch to the ``mysql`` account, which
could not write the temporary directory.

The binaries are Debian's (``mariadb-server`` in bindep.txt); the Python
driver is PyMySQL (test-requirements.txt), the one OpenStack uses.
"""

import os
import shutil
import subprocess
import tempfile

from stratuslab_plugins.sandbox import database_server

START_TIMEOUT = 90
PROGRAMS = ('mariadb-install-db', 'mariadbd')
SEARCH_PATH = os.pathsep.join((os.environ.get('PATH', ''), '/usr/sbin',
                               '/usr/bin'))
#: Test settings: the data dies with the server, so no flush at commit,
#: and little memory on a machine shared with other suites.
SETTINGS = ('--innodb-flush-log-at-trx-commit=0', '--sync-binlog=0',
            '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=48M',
            '--max-connections=200', '--skip-name-resolve',
            '--character-set-server=utf8mb4',
            '--collation-server=utf8mb4_general_ci')


class MariaDBError(RuntimeError):
    """The server could not be started; the message says why."""


def available():
    """Return why a server cannot be started here, or None if it can."""
    missing = [name for name in PROGRAMS
               if shutil.which(name, path=SEARCH_PATH) is None]
    if missing:
        return ('MariaDB server programs not found (%s); install '
                "Debian's mariadb-server package" % ', '.join(missing))
    try:
        import pymysql  # noqa: F401
    except ImportError:
        return 'PyMySQL is not installed (pip install PyMySQL)'
    return None


class MariaDB(database_server.DatabaseServer):
    """One ``mariadbd`` process with its own data directory and socket.

    :param base_dir: where its directory is created; ``/dev/shm`` when it
        exists (a benchmark then measures the database, not the disk),
        else the system's temporary directory.
    """

    log_name = 'mariadb.log'
    start_timeout = START_TIMEOUT
    error = MariaDBError

    def _path(self, name):
        return os.path.join(self.directory, name)

    @property
    def socket(self):
        return self._path('mariadb.sock')

    @staticmethod
    def _user_args():
        return ['--user=root'] if os.geteuid() == 0 else []

    def start(self):
        """Create the data directory and start the server; wait for it."""
        problem = available()
        if problem:
            raise MariaDBError(problem)
        self.directory = tempfile.mkdtemp(prefix='stratuslab-mariadb-',
                                          dir=self.base_dir)
        # Its own temporary directory: the bootstrap's temporary tables
        # in the shared /tmp were seen deleted under it on a busy machine
        # ("Error on delete of '/tmp/#sql-temptable-...'").
        os.mkdir(self._path('tmp'))
        private = ['--datadir=%s' % self._path('data'),
                   '--tmpdir=%s' % self._path('tmp')]
        result = subprocess.run(
            [shutil.which('mariadb-install-db', path=SEARCH_PATH),
             '--no-defaults'] + private +
            ['--auth-root-authentication-method=normal', '--skip-test-db',
             '--skip-name-resolve'] + self._user_args(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
        if result.returncode:
            raise MariaDBError('mariadb-install-db failed (exit %d): %s' % (
                result.returncode, result.stdout.decode(errors='replace')))
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [shutil.which('mariadbd', path=SEARCH_PATH), '--no-defaults'] +
                private +
                ['--socket=%s' % self.socket, '--skip-networking',
                 '--pid-file=%s' % self._path('mariadb.pid'),
                 '--log-error=%s' % self.log_path] + list(SETTINGS) +
                self._user_args(),
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        self._wait_ready()

    def connect(self, database=None):
        """Return a PyMySQL connection as the server's root user."""
        import pymysql

        return pymysql.connect(unix_socket=self.socket, user='root',
                               database=database, charset='utf8mb4')

    def _wait_ready(self):
        import pymysql

        self.wait_ready(lambda: self.connect().close(),
                        pymysql.err.OperationalError)

    def create_database(self, name, charset='utf8mb4'):
        """Create database ``name``; return its SQLAlchemy URL.

        :param charset: the database's default character set; ``utf8``
            (3-byte UTF-8) is what devstack and many older sites create.
        """
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute('CREATE DATABASE `%s` CHARACTER SET %s'
                               % (name.replace('`', ''), charset))
        finally:
            connection.close()
        return self.url(name, charset)

    def url(self, database, charset='utf8mb4'):
        """The SQLAlchemy URL of ``database``, as a site would write it."""
        return ('mysql+pymysql://root@localhost/%s?unix_socket=%s'
                '&charset=%s' % (database, self.socket, charset))
