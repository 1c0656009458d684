"""A throw-away PostgreSQL server on a Unix socket, for tests and benchmarks.

Sites run Glance (and our accounting ledgers) on a database server, with
as many API workers as cores; SQLite, which the test harnesses use by
default, serialises every writer of every process. :class:`PostgreSQL`
gives a benchmark or a test the real thing: ``initdb`` into a fresh
directory, ``postgres`` listening on a Unix socket only (no TCP port to
collide with), databases created on demand, everything removed on
``stop``::

    server = PostgreSQL()
    server.start()
    url = server.create_database('glance')   # an SQLAlchemy URL
    ...
    server.stop()

PostgreSQL refuses to run as root. When this process is root (as on the
project's CI machines), the server runs as the ``postgres`` account that
Debian's package creates, or ``nobody``; its directory is made theirs.

The binaries are Debian's (``postgresql`` in bindep.txt), found on PATH
or in ``/usr/lib/postgresql/<version>/bin``. The Python driver is
psycopg2 (``psycopg2-binary`` in test-requirements.txt).
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile

from stratuslab_plugins.sandbox import database_server

START_TIMEOUT = 60
DEBIAN_BIN_GLOB = '/usr/lib/postgresql/*/bin'
SUPERUSER = 'postgres'


class PostgreSQLError(RuntimeError):
    """The server could not be started; the message says why."""


def find_binary(name):
    """Return the path of PostgreSQL's ``name`` program, or None."""
    found = shutil.which(name)
    if found:
        return found
    for directory in sorted(glob.glob(DEBIAN_BIN_GLOB), reverse=True):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None


def available():
    """Return why a server cannot be started here, or None if it can."""
    missing = [name for name in ('initdb', 'postgres')
               if find_binary(name) is None]
    if missing:
        return ('PostgreSQL server programs not found (%s); install '
                "Debian's postgresql package" % ', '.join(missing))
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return 'psycopg2 is not installed (pip install psycopg2-binary)'
    return None


def _service_account():
    """The account the server runs as: None for this one, unless root."""
    if os.geteuid() != 0:
        return None
    for name in ('postgres', 'nobody'):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgreSQLError('Running as root, and neither a postgres nor a '
                          'nobody account exists to run PostgreSQL as.')


class PostgreSQL(database_server.DatabaseServer):
    """One ``postgres`` process with its own data directory.

    :param base_dir: where its directory is created; ``/dev/shm`` when it
        exists (a benchmark then measures the database's work, not the
        disk's flushes), else the system's temporary directory.
    :param durable: keep ``fsync`` on. Off by default: the data dies with
        the server anyway.
    :param max_connections: PostgreSQL's ``max_connections``.
    """

    log_name = 'postgres.log'
    stop_signal = signal.SIGINT  # PostgreSQL's fast shutdown
    start_timeout = START_TIMEOUT
    error = PostgreSQLError

    def __init__(self, base_dir=None, durable=False, max_connections=200):
        super().__init__(base_dir)
        self.durable = durable
        self.max_connections = max_connections
        self.account = None

    @property
    def data_dir(self):
        return os.path.join(self.directory, 'data')

    @property
    def socket_dir(self):
        return self.directory

    def _run_as(self):
        if self.account is None:
            return {}
        return {'user': self.account.pw_uid, 'group': self.account.pw_gid}

    def _program(self, name, *args, **kwargs):
        path = find_binary(name)
        if path is None:
            raise PostgreSQLError(available() or '%s not found' % name)
        return subprocess.run([path] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120,
                              **dict(self._run_as(), **kwargs))

    def start(self):
        """Create the cluster and start the server; wait until it answers."""
        problem = available()
        if problem:
            raise PostgreSQLError(problem)
        self.account = _service_account()
        self.directory = tempfile.mkdtemp(prefix='stratuslab-pg-',
                                          dir=self.base_dir)
        if self.account is not None:
            os.chown(self.directory, self.account.pw_uid,
                     self.account.pw_gid)
        result = self._program('initdb', '-D', self.data_dir, '-A', 'trust',
                               '-U', SUPERUSER, '-E', 'UTF8', '--no-sync')
        if result.returncode:
            raise PostgreSQLError('initdb failed (exit %d): %s' % (
                result.returncode, result.stdout.decode(errors='replace')))
        settings = ['-c', "listen_addresses=", '-c',
                    'unix_socket_directories=%s' % self.socket_dir,
                    '-c', 'max_connections=%d' % self.max_connections]
        if not self.durable:
            settings += ['-c', 'fsync=off', '-c', 'synchronous_commit=off',
                         '-c', 'full_page_writes=off']
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [find_binary('postgres'), '-D', self.data_dir] + settings,
                stdout=log, stderr=subprocess.STDOUT, **self._run_as())
        self._wait_ready()

    def _connect(self, database='postgres'):
        import psycopg2

        return psycopg2.connect(dbname=database, user=SUPERUSER,
                                host=self.socket_dir)

    def _wait_ready(self):
        import psycopg2

        self.wait_ready(lambda: self._connect().close(),
                        psycopg2.OperationalError)

    def create_database(self, name):
        """Create database ``name``; return its SQLAlchemy URL."""
        from psycopg2 import sql

        connection = self._connect()
        try:
            connection.autocommit = True  # CREATE DATABASE refuses a txn
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL('CREATE DATABASE {}').format(
                    sql.Identifier(name)))
        finally:
            connection.close()
        return self.url(name)

    def url(self, database):
        """The SQLAlchemy URL of ``database`` on this server."""
        return 'postgresql+psycopg2://%s@/%s?host=%s' % (
            SUPERUSER, database, self.socket_dir)

    def stop(self, timeout=30):
        """Stop the server (fast shutdown) and remove its directory."""
        super().stop(timeout)
