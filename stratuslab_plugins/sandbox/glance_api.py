"""A real glance-api process on 127.0.0.1, for the sandbox and the tests.

Glance 33 has no standalone server any more: the ``glance-api`` console
script is a stub, and the service is the WSGI application
``glance.wsgi.api:application``, which reads ``glance-api.conf`` from the
directory named by ``OS_GLANCE_CONFIG_DIR``. :class:`GlanceAPI` writes that
directory (``glance-api.conf`` and a paste file), creates the sqlite schema
with ``glance-manage db_sync``, and serves the application with waitress in
a child process (``python -m stratuslab_plugins.sandbox.glance_api``) on a
socket it bound itself, so no other process can take the port between
choosing it and listening on it.

There is no Keystone. The paste pipeline is Glance's ``keystone`` one
without ``authtoken``: Glance's own ``context`` middleware still builds the
request context, from the headers keystonemiddleware would have set, which
the client sends itself (:attr:`GlanceAPI.identity_headers`). Anybody who
can reach the port is then an admin: this is for tests and the sandbox
only, and the server listens on the loopback address alone.

Example::

    api = GlanceAPI(enabled_backends={'repo': 'appliance', 'local': 'file'},
                    backend_options={'repo': {
                        'appliance_registry_url': 'http://127.0.0.1:5000',
                        'appliance_repository': 'glance/images'}})
    api.start()
    try:
        conn = api.connection()          # an openstacksdk Connection
        image = conn.image.create_image(name='x', data=b'...',
                                        disk_format='raw',
                                        container_format='bare')
    finally:
        api.stop()

Glance is a test dependency of this project: it is imported only by the
child process, never by :class:`GlanceAPI` itself.
"""

import argparse
import configparser
import functools
import importlib.metadata
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

#: The identity the client claims; see the module docstring.
DEFAULT_PROJECT_ID = 'b7f1fcd5a3e84f2c9c5d7f6a1e2d3c4b'
DEFAULT_USER_ID = '9a8b7c6d5e4f40318d2e1f0a9b8c7d6e'
#: Name of the paste pipeline written by :class:`GlanceAPI`.
PASTE_FLAVOR = 'trusted'
#: Seconds a writer waits for SQLite's lock inside glance-api.
SQLITE_BUSY_TIMEOUT = 30
#: Largest request body waitress accepts (its default is 1 GiB).
MAX_REQUEST_BODY = 1024 ** 4


class GlanceAPIError(RuntimeError):
    """glance-api could not be configured, started or reached."""


@functools.lru_cache(maxsize=None)
def glance_api_paste_ini():
    """Return the path of the ``glance-api-paste.ini`` the wheel installed.

    The glance wheel puts it under the environment's prefix
    (``<prefix>/etc/glance/``), not beside the package, so it is found
    through the distribution's file list.
    """
    dist = importlib.metadata.distribution('glance')
    for entry in dist.files or ():
        if str(entry).replace(os.sep, '/').endswith(
                'etc/glance/glance-api-paste.ini'):
            path = os.path.abspath(str(dist.locate_file(entry)))
            if os.path.exists(path):
                return path
    raise GlanceAPIError('the glance distribution ships no '
                         'etc/glance/glance-api-paste.ini; reinstall glance '
                         'from its wheel')


def _script(name):
    # Console scripts live beside the interpreter in a venv or tox env.
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.exists(path) else shutil.which(name) or name


def files_tail(paths, size=4000):
    """Return the last ``size`` bytes of each file that exists, as text."""
    text = []
    for name in paths:
        try:
            with open(name, 'rb') as stream:
                stream.seek(0, os.SEEK_END)
                stream.seek(max(0, stream.tell() - size))
                text.append(stream.read().decode(errors='replace'))
        except OSError:
            continue
    return '\n'.join(text)


def wait_for_answer(url, processes, timeout, name, log_tail,
                    error=GlanceAPIError):
    """Wait until ``url`` answers 200 while all ``processes`` run.

    :param log_tail: a callable giving the server's log, for the error.
    :raises error: when a process exits first, or after ``timeout`` s.
    """
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            if process.poll() is not None:
                raise error('%s exited with status %d before answering; '
                            'its log ends with:\n%s'
                            % (name, process.returncode, log_tail()))
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise error('%s did not answer on %s within %d s; its log ends '
                        'with:\n%s' % (name, url, timeout, log_tail()))
        time.sleep(0.2)


def bind_loopback_socket():
    """Return a listening TCP socket on 127.0.0.1 and a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(128)
    return sock


class GlanceAPI:
    """One glance-api process, its configuration and its database.

    :param work_dir: directory for the configuration, database, stores
        and log; a temporary one (removed by :meth:`stop`) when None.
    :param enabled_backends: Glance's ``[DEFAULT] enabled_backends`` as
        ``{store id: store type}``, e.g. ``{'repo': 'appliance', 'local':
        'file'}``. File stores without ``filesystem_store_datadir`` get a
        directory under ``work_dir``.
    :param default_backend: ``[glance_store] default_backend``; the first
        of ``enabled_backends`` when None.
    :param backend_options: ``{store id: {option: value}}``, written into
        each store's section of ``glance-api.conf``.
    :param options: ``{section: {option: value}}`` for anything else
        (``DEFAULT``, ``image_import_opts``...), written last so it wins.
    :param project_id: the project the client acts in.
    :param user_id: the user the client acts as.
    :param debug: run glance-api with ``debug = True`` in its log.
    :param threads: waitress worker threads in each process.
    :param workers: glance-api processes sharing the listening socket, as
        a site runs one per core. More than one needs ``database_url``:
        SQLite lets one writer in at a time, across processes too.
    :param database_url: an SQLAlchemy URL of the database (e.g. from
        :class:`stratuslab_plugins.sandbox.postgres.PostgreSQL`); None for
        SQLite in the work directory.
    """

    def __init__(self, work_dir=None, enabled_backends=None,
                 default_backend=None, backend_options=None, options=None,
                 project_id=DEFAULT_PROJECT_ID, user_id=DEFAULT_USER_ID,
                 debug=False, threads=8, workers=1, database_url=None):
        self.enabled_backends = dict(enabled_backends or {'local': 'file'})
        self.default_backend = (default_backend
                                or next(iter(self.enabled_backends)))
        if self.default_backend not in self.enabled_backends:
            raise GlanceAPIError(
                'default_backend %r is not one of enabled_backends %s'
                % (self.default_backend, sorted(self.enabled_backends)))
        self.backend_options = {name: dict(values) for name, values
                                in (backend_options or {}).items()}
        self.options = {name: dict(values) for name, values
                        in (options or {}).items()}
        self.project_id = project_id
        self.user_id = user_id
        self.debug = debug
        self.threads = threads
        if workers > 1 and database_url is None:
            raise GlanceAPIError(
                '%d glance-api workers need a database server '
                '(database_url): SQLite serialises their writes.' % workers)
        self.workers = workers
        self.database_url = database_url
        self._own_work_dir = work_dir is None
        self.work_dir = work_dir
        self.port = None
        self._processes = []

    # -- files -------------------------------------------------------------

    @property
    def config_dir(self):
        """The directory glance-api reads (``OS_GLANCE_CONFIG_DIR``)."""
        return os.path.join(self.work_dir, 'etc')

    @property
    def config_file(self):
        return os.path.join(self.config_dir, 'glance-api.conf')

    @property
    def paste_file(self):
        return os.path.join(self.config_dir, 'glance-api-paste.ini')

    @property
    def log_file(self):
        return os.path.join(self.work_dir, 'glance-api.log')

    def store_dir(self, name):
        """Return the data directory of the file store ``name``."""
        return os.path.join(self.work_dir, 'stores', name)

    def _sections(self):
        data = os.path.join(self.work_dir, 'data')
        sections = {
            'DEFAULT': {
                'enabled_backends': ','.join(
                    '%s:%s' % item for item in self.enabled_backends.items()),
                'enabled_import_methods':
                    '[glance-direct,web-download,copy-image]',
                'log_file': self.log_file,
                'debug': str(self.debug),
                'use_stderr': 'False',
            },
            'glance_store': {'default_backend': self.default_backend},
            'database': {
                'connection': self.database_url or 'sqlite:///%s'
                % os.path.join(data, 'glance.sqlite'),
            },
            'paste_deploy': {'config_file': self.paste_file,
                             'flavor': PASTE_FLAVOR},
            'oslo_concurrency': {'lock_path': os.path.join(data, 'locks')},
            # Multi-store Glance stages imports and keeps task data in
            # two reserved file stores; they must be configured too.
            'os_glance_staging_store': {
                'filesystem_store_datadir': self.store_dir(
                    'os_glance_staging_store')},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': self.store_dir(
                    'os_glance_tasks_store')},
        }
        for name, kind in self.enabled_backends.items():
            section = sections.setdefault(name, {})
            if kind == 'file':
                section['filesystem_store_datadir'] = self.store_dir(name)
            section.update(self.backend_options.get(name, {}))
        for name, values in self.options.items():
            sections.setdefault(name, {}).update(values)
        return sections

    def write_config(self):
        """Write ``glance-api.conf`` and the paste file; create the dirs."""
        sections = self._sections()
        parser = configparser.RawConfigParser()
        parser.optionxform = str
        for name, values in sections.items():
            if name != 'DEFAULT':
                parser.add_section(name)
            for key, value in values.items():
                parser.set(name, key, str(value))
        for path in ([self.config_dir, os.path.join(self.work_dir, 'data'),
                      os.path.join(self.work_dir, 'data', 'locks')]
                     + [values['filesystem_store_datadir']
                        for values in sections.values()
                        if 'filesystem_store_datadir' in values]):
            os.makedirs(path, exist_ok=True)
        with open(self.config_file, 'w') as stream:
            parser.write(stream)
        self._write_paste()

    def _write_paste(self):
        # Start from the paste file of the installed glance, so the
        # pipeline follows the Glance release, and add one flavor: the
        # ``keystone`` pipeline without ``authtoken``.
        paste = configparser.RawConfigParser()
        paste.optionxform = str
        paste.read(glance_api_paste_ini())
        keystone = paste.get('composite:api', 'keystone').split()
        paste.set('composite:api', PASTE_FLAVOR, ' '.join(
            name for name in keystone if name != 'authtoken'))
        app = 'composite:glance-api-' + PASTE_FLAVOR
        paste.add_section(app)
        for key, value in paste.items('composite:glance-api-keystone'):
            paste.set(app, key, value)
        paste.set('app:healthcheck', 'disable_by_file_path',
                  os.path.join(self.work_dir, 'healthcheck_disable'))
        with open(self.paste_file, 'w') as stream:
            paste.write(stream)

    # -- process -----------------------------------------------------------

    @property
    def url(self):
        """The endpoint, ``http://127.0.0.1:PORT``."""
        if self.port is None:
            raise GlanceAPIError('glance-api is not started')
        return 'http://127.0.0.1:%d' % self.port

    @property
    def identity_headers(self):
        """Headers a client sends in place of a Keystone token.

        A single role: python-glanceclient URL-encodes the comma of a
        list, which Glance then reads as one role name.
        """
        return {'X-Identity-Status': 'Confirmed',
                'X-User-Id': self.user_id,
                'X-Project-Id': self.project_id,
                'X-Roles': 'admin'}

    def _env(self):
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=self.config_dir)
        # The child runs this package's code: make sure it finds it even
        # when the parent got it from sys.path rather than an install.
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, [package_root, env.get('PYTHONPATH')]))
        return env

    def sync_database(self):
        """Create the schema with ``glance-manage db_sync``."""
        result = subprocess.run(
            [_script('glance-manage'), '--config-file', self.config_file,
             'db_sync'],
            env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=300)
        if result.returncode:
            raise GlanceAPIError(
                'glance-manage db_sync failed (exit %d): %s'
                % (result.returncode,
                   result.stdout.decode(errors='replace')[-2000:]))

    def start(self, timeout=60):
        """Configure, create the database and serve; wait until it answers.

        :param timeout: seconds to wait for the first answer.
        :raises GlanceAPIError: with the end of glance-api's log when it
            does not come up.
        """
        if self._processes:
            raise GlanceAPIError('glance-api is already running on %s'
                                 % self.url)
        if self.work_dir is None:
            self.work_dir = tempfile.mkdtemp(prefix='glance-api-')
        self.write_config()
        self.sync_database()
        sock = bind_loopback_socket()
        try:
            self.port = sock.getsockname()[1]
            # Every worker accepts on the same socket; the kernel hands
            # each connection to one of them.
            self._processes = [self._spawn(sock, index)
                               for index in range(self.workers)]
        finally:
            # The children hold their own copies of the socket.
            sock.close()
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, sock, index):
        with open(self._server_output(index), 'wb') as output:
            return subprocess.Popen(
                [sys.executable, '-m', __name__,
                 '--listen-fd', str(sock.fileno()),
                 '--threads', str(self.threads)],
                env=self._env(), pass_fds=(sock.fileno(),), stdout=output,
                stderr=subprocess.STDOUT)

    def _server_output(self, index):
        return os.path.join(self.work_dir or '', 'server.out' if not index
                            else 'server-%d.out' % index)

    @property
    def pids(self):
        """Process ids of the glance-api workers."""
        return [process.pid for process in self._processes]

    def _wait_ready(self, timeout):
        wait_for_answer(self.url + '/healthcheck', self._processes, timeout,
                        'glance-api', self.log_tail)

    @property
    def running(self):
        return bool(self._processes) and all(
            process.poll() is None for process in self._processes)

    def stop(self, timeout=15):
        """Stop the workers (SIGTERM, then SIGKILL) and clean up."""
        processes, self._processes = self._processes, []
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._own_work_dir and self.work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None
        self.port = None

    def log_tail(self, size=4000):
        """Return the end of glance-api's log and server output."""
        return files_tail([self.log_file] + [self._server_output(index)
                                             for index in range(self.workers)],
                          size)

    # -- clients -----------------------------------------------------------

    def session(self):
        """Return a keystoneauth1 session that reaches this glance-api."""
        from keystoneauth1 import noauth
        from keystoneauth1 import session

        return session.Session(auth=noauth.NoAuth(endpoint=self.url),
                               additional_headers=self.identity_headers)

    def connection(self):
        """Return an openstacksdk ``Connection`` for the image service."""
        import openstack.connection

        return openstack.connection.Connection(
            session=self.session(), image_endpoint_override=self.url)

    def glance_client(self):
        """Return a python-glanceclient v2 client (installed with Glance)."""
        import glanceclient

        return glanceclient.Client('2', session=self.session(),
                                   endpoint_override=self.url)


# -- the child process -----------------------------------------------------

def make_sqlite_writers_wait(busy_timeout=SQLITE_BUSY_TIMEOUT):
    """Make every SQLite transaction of this process wait for the lock.

    Glance runs import tasks (copy-image) in threads that write while
    requests write too. SQLite's default deferred transactions then fail
    at once with ``database is locked`` (a reader upgrading to writer
    cannot wait); ``BEGIN IMMEDIATE`` takes the write lock first, so the
    busy timeout applies. oslo.db already switches pysqlite's own BEGIN
    off and emits a plain ``BEGIN`` unless ``conn.info`` holds
    ``in_transaction`` (oslo.db 17); we run before it, emit ``BEGIN
    IMMEDIATE`` and set that marker, which oslo.db clears at commit and
    rollback.
    """
    import sqlite3

    import sqlalchemy
    from sqlalchemy import event

    @event.listens_for(sqlalchemy.pool.Pool, 'connect')
    def _on_connect(dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute('PRAGMA busy_timeout=%d'
                                     % (busy_timeout * 1000))

    @event.listens_for(sqlalchemy.engine.Engine, 'begin', insert=True)
    def _on_begin(connection):
        if (connection.dialect.name == 'sqlite'
                and 'in_transaction' not in connection.info):
            connection.exec_driver_sql('BEGIN IMMEDIATE')
            connection.info['in_transaction'] = True


def serve(listen_fd, threads):
    """Serve ``glance.wsgi.api:application`` on the inherited socket."""
    import waitress

    make_sqlite_writers_wait()
    from glance.wsgi import api

    sock = socket.socket(fileno=listen_fd)
    waitress.serve(api.application, sockets=[sock], threads=threads,
                   max_request_body_size=MAX_REQUEST_BODY,
                   ident='glance-api', clear_untrusted_proxy_headers=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Serve glance-api on an inherited socket (test-only).')
    parser.add_argument('--listen-fd', type=int, required=True)
    parser.add_argument('--threads', type=int, default=8)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    serve(args.listen_fd, args.threads)


if __name__ == '__main__':
    main()
