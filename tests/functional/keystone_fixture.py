"""A real Keystone for functional tests: the keystone wheel on SQLite.

:class:`KeystoneFixture` writes ``keystone.conf`` (SQLite, fernet tokens
and receipts), runs ``keystone-manage db_sync``, ``fernet_setup``,
``credential_setup`` and ``bootstrap`` (user ``admin`` with role
``admin`` in project ``admin``, region ``RegionOne``, Keystone's own
catalog entry), then serves ``keystone.wsgi.api:application`` with
waitress in a child process (``python -m tests.functional.keystone_fixture``)
on a loopback socket it bound itself, and stops it at cleanup. Tokens are
real fernet tokens, checked by whatever keystonemiddleware a test starts::

    keystone = self.useFixture(KeystoneFixture())
    project = keystone.create_project('atlas-prod', **{'egi.VO': 'atlas'})
    keystone.create_user('alice', 'secret', project, ['member'])
    keystone.add_endpoint('accounting', 'stratuslab-accounting', url)
    session = keystone.session('alice', 'secret', 'atlas-prod')

A test that fails gets Keystone's log as a detail.
"""

import argparse
import configparser
import grp
import os
import pwd
import signal
import socket
import subprocess
import sys
import time

import fixtures
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client
from testtools import content

from stratuslab_plugins.sandbox import glance_api

ADMIN_PASSWORD = 'admin-secret'
REGION = 'RegionOne'
DOMAIN = 'default'
#: Bytes of Keystone's log kept with a failing test's results.
LOG_DETAIL_SIZE = 16000


class KeystoneError(RuntimeError):
    """Keystone could not be configured, started or reached."""


def _script(name):
    path = os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(path):
        raise KeystoneError('%s is not installed beside %s: install the '
                            'keystone test dependency (test-requirements.txt)'
                            % (name, sys.executable))
    return path


class KeystoneFixture(fixtures.Fixture):
    """Run one Keystone for the duration of a test (or a test class).

    The address is known from construction (``url``), before Keystone
    runs: services that only need to be told where it is (glance-api's
    ``[keystone_authtoken]``) can be started while it sets up.
    """

    def __init__(self):
        super().__init__()
        self._sock = glance_api.bind_loopback_socket()
        self.url = 'http://127.0.0.1:%d' % self._sock.getsockname()[1]

    def _setUp(self):
        self.work_dir = self.useFixture(fixtures.TempDir()).path
        self.config_file = os.path.join(self.work_dir, 'keystone.conf')
        self.log_file = os.path.join(self.work_dir, 'keystone.log')
        self._process = None
        self.timings = []
        self.addCleanup(self._attach_log)
        self.addCleanup(self._stop)
        sock, self._sock = self._sock, None
        try:
            self._write_config()
            # The key repositories do not need the database: make them
            # while the schema is created (each command is seconds of
            # imports alone).
            self._manage(['db_sync'], ['fernet_setup'] + self._owner(),
                         ['credential_setup'] + self._owner())
            self._manage(self._bootstrap_args())
            with open(os.path.join(self.work_dir, 'server.out'),
                      'wb') as output:
                self._process = subprocess.Popen(
                    [sys.executable, '-m', __name__,
                     '--listen-fd', str(sock.fileno())],
                    env=self._env(), pass_fds=(sock.fileno(),),
                    stdout=output, stderr=subprocess.STDOUT)
        finally:
            sock.close()
        self._wait_ready(120)
        self.admin = ks_client.Client(session=self.session(
            'admin', ADMIN_PASSWORD, 'admin'), interface='public',
            region_name=REGION)

    # -- files and commands ----------------------------------------------

    def _write_config(self):
        parser = configparser.RawConfigParser()
        keys = {name: os.path.join(self.work_dir, name)
                for name in ('fernet-keys', 'fernet-receipts',
                             'credential-keys')}
        for path in keys.values():
            os.makedirs(path, mode=0o700)
        sections = {
            'DEFAULT': {'log_file': self.log_file, 'use_stderr': 'False'},
            'database': {'connection': 'sqlite:///' + os.path.join(
                self.work_dir, 'keystone.sqlite')},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': keys['fernet-keys']},
            'fernet_receipts': {'key_repository': keys['fernet-receipts']},
            'credential': {'key_repository': keys['credential-keys']},
            'cache': {'enabled': 'False'},
            # bcrypt's least work factor: test passwords need no
            # protection, and each hash takes seconds on a busy machine.
            'identity': {'password_hash_rounds': '4'},
        }
        for name, values in sections.items():
            if name != 'DEFAULT':
                parser.add_section(name)
            for key, value in values.items():
                parser.set(name, key, value)
        with open(self.config_file, 'w') as stream:
            parser.write(stream)

    @staticmethod
    def _owner():
        return ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
                '--keystone-group', grp.getgrgid(os.getgid()).gr_name]

    def _bootstrap_args(self):
        url = self.url + '/v3'
        return ['bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
                '--bootstrap-username', 'admin',
                '--bootstrap-project-name', 'admin',
                '--bootstrap-role-name', 'admin',
                '--bootstrap-service-name', 'keystone',
                '--bootstrap-region-id', REGION,
                '--bootstrap-admin-url', url,
                '--bootstrap-internal-url', url,
                '--bootstrap-public-url', url]

    def _env(self):
        # The child runs ``-m tests.functional.keystone_fixture``: make
        # sure it finds this source tree whatever its working directory.
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        return dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.config_file,
                    PYTHONPATH=os.pathsep.join(filter(None, [
                        root, os.environ.get('PYTHONPATH')])))

    def _manage(self, *commands):
        """Run ``keystone-manage`` commands side by side; wait for all."""
        started = time.monotonic()
        running = [(argv, subprocess.Popen(
            [_script('keystone-manage'), '--config-file', self.config_file]
            + argv, env=self._env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)) for argv in commands]
        for argv, process in running:
            output, _ = process.communicate(timeout=600)
            if process.returncode:
                raise fixtures.SetupError(
                    'keystone-manage %s failed (exit %d): %s'
                    % (argv[0], process.returncode,
                       output.decode(errors='replace')[-2000:]))
        self.timings.append(('+'.join(argv[0] for argv in commands),
                             round(time.monotonic() - started, 1)))

    # -- process ------------------------------------------------------------

    def _wait_ready(self, timeout):
        glance_api.wait_for_answer(self.url + '/v3', [self._process], timeout,
                                   'keystone', self.log_tail,
                                   error=fixtures.SetupError)

    def _stop(self):
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, size=4000):
        return glance_api.files_tail(
            [self.log_file, os.path.join(self.work_dir, 'server.out')], size)

    def _attach_log(self):
        self.addDetail('keystone.log', content.text_content(
            self.log_tail(LOG_DETAIL_SIZE)))

    # -- identities -----------------------------------------------------------

    @property
    def auth_url(self):
        return self.url + '/v3'

    def session(self, username, password, project_name):
        """Return a keystoneauth1 session of a user scoped to a project."""
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username=username, password=password,
            user_domain_id=DOMAIN, project_name=project_name,
            project_domain_id=DOMAIN))

    def create_project(self, name, **properties):
        """Create a project with ``properties`` as extra attributes.

        As ``openstack project create --property`` stores them.
        """
        return self.admin.projects.create(name, DOMAIN, **properties)

    def role(self, name):
        found = self.admin.roles.list(name=name)
        return found[0] if found else self.admin.roles.create(name)

    def create_user(self, name, password, project, roles):
        """Create a user with ``roles`` (names) on ``project``."""
        user = self.admin.users.create(name, domain=DOMAIN,
                                       password=password,
                                       default_project=project)
        for role in roles:
            self.admin.roles.grant(self.role(role), user=user,
                                   project=project)
        return user

    def add_endpoint(self, service_type, name, url):
        """Register a service and its public endpoint in the catalog."""
        service = self.admin.services.create(name, type=service_type)
        for interface in ('public', 'internal'):
            self.admin.endpoints.create(service, url, interface=interface,
                                        region=REGION)
        return service


# -- the child process -------------------------------------------------------

def serve(listen_fd):
    """Serve ``keystone.wsgi.api:application`` on the inherited socket."""
    import waitress

    glance_api.make_sqlite_writers_wait()
    from keystone.wsgi import api

    sock = socket.socket(fileno=listen_fd)
    waitress.serve(api.application, sockets=[sock], threads=4,
                   ident='keystone', clear_untrusted_proxy_headers=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Serve Keystone on an inherited socket (test-only).')
    parser.add_argument('--listen-fd', type=int, required=True)
    args = parser.parse_args(argv)
    # Keystone's application parses the command line with oslo.config.
    del sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    serve(args.listen_fd)


if __name__ == '__main__':
    main()
