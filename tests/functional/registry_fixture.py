"""A real OCI registry for tests: Debian's ``docker-registry`` (2.8).

:class:`RegistryFixture` starts ``/usr/bin/docker-registry serve`` on
127.0.0.1 on a free port, storing blobs in a temporary directory with
deletes enabled, waits until ``/v2/`` answers, and stops it (and removes
the storage) at cleanup. Asked for ``tls=True`` it serves HTTPS with a
certificate from a CA generated for the test (``ca_file``); asked for
``users`` it requires Basic authentication from an htpasswd (bcrypt)
file. Used by the appliance and Glance store tests::

    registry = self.useFixture(RegistryFixture(tls=True,
                                               users={'robot': 'secret'}))
    RegistryClient(registry.url, username='robot', password='secret',
                   ca_file=registry.ca_file)
"""

import os
import socket
import subprocess
import time

import bcrypt
import fixtures
import requests
import yaml

from tests import pki

REGISTRY_BINARY = '/usr/bin/docker-registry'
START_TIMEOUT = 20


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class RegistryFixture(fixtures.Fixture):
    """Run one docker-registry for the duration of a test.

    :param tls: serve HTTPS with a certificate from a fresh test CA.
    :param users: ``{name: password}`` required by Basic auth; None for
        anonymous access.
    :param token_server: a started ``TokenServer`` fixture
        (tests/functional/appliance/token_server.py): the registry then
        requires Bearer tokens from it, as Harbor does.
    """

    def __init__(self, tls=False, users=None, token_server=None):
        super().__init__()
        self.tls = tls
        self.users = users or {}
        self.token_server = token_server
        self.ca_file = None

    def _setUp(self):
        if not os.path.exists(REGISTRY_BINARY):
            raise fixtures.SetupError(
                '%s is missing: apt-get install docker-registry'
                % REGISTRY_BINARY)
        self.workdir = self.useFixture(fixtures.TempDir()).path
        self.storage = os.path.join(self.workdir, 'storage')
        self.port = free_port()
        scheme = 'https' if self.tls else 'http'
        self.url = '%s://127.0.0.1:%d' % (scheme, self.port)
        config_path = os.path.join(self.workdir, 'config.yml')
        with open(config_path, 'w') as f:
            yaml.safe_dump(self._config(), f)
        log = open(os.path.join(self.workdir, 'registry.log'), 'wb')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            [REGISTRY_BINARY, 'serve', config_path],
            stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop)
        self._wait_ready()

    def _config(self):
        config = {
            'version': 0.1,
            'log': {'level': 'warn', 'accesslog': {'disabled': True}},
            'storage': {
                'filesystem': {'rootdirectory': self.storage},
                'delete': {'enabled': True},
                'maintenance': {'uploadpurging': {'enabled': False}},
            },
            'http': {'addr': '127.0.0.1:%d' % self.port,
                     'secret': os.urandom(16).hex()},
        }
        if self.tls:
            ca = pki.make_ca('Registry Test CA')
            server = pki.issue(ca, '127.0.0.1', dns_name='localhost')
            cert, key = server.write(self.workdir, 'server')
            self.ca_file = os.path.join(self.workdir, 'registry-ca.pem')
            with open(self.ca_file, 'wb') as f:
                f.write(ca.cert_pem())
            config['http']['tls'] = {'certificate': cert, 'key': key}
        if self.users:
            path = os.path.join(self.workdir, 'htpasswd')
            with open(path, 'w') as f:
                for user, password in self.users.items():
                    hashed = bcrypt.hashpw(password.encode(),
                                           bcrypt.gensalt(rounds=4))
                    f.write('%s:%s\n' % (user, hashed.decode()))
            config['auth'] = {'htpasswd': {'realm': 'test', 'path': path}}
        if self.token_server:
            config['auth'] = self.token_server.registry_config(
                os.path.join(self.workdir, 'token-ca.pem'))
        return config

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise fixtures.SetupError(
                    'docker-registry exited with %s: %s'
                    % (self.process.returncode, self.log_text()))
            try:
                response = requests.get(self.url + '/v2/', timeout=1,
                                        verify=self.ca_file or True)
                if response.status_code in (200, 401):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise fixtures.SetupError('docker-registry did not answer on %s'
                                  % self.url)

    def log_text(self):
        with open(os.path.join(self.workdir, 'registry.log'), 'rb') as f:
            return f.read().decode(errors='replace')[-2000:]

    def stop(self):
        """Stop the registry now (also how a test makes it disappear)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def blob_path(self, digest):
        """Path of a blob's data in the registry's storage."""
        hexdigest = digest.split(':', 1)[1]
        return os.path.join(self.storage, 'docker', 'registry', 'v2',
                            'blobs', 'sha256', hexdigest[:2], hexdigest,
                            'data')

    def uploads(self, repository):
        """Upload sessions still open in ``repository``'s storage.

        A session counts while its ``data`` file exists: distribution 2.8
        removes that file when a session is cancelled but leaves the
        session's empty ``hashstates`` directory behind.
        """
        path = os.path.join(self.storage, 'docker', 'registry', 'v2',
                            'repositories', repository, '_uploads')
        if not os.path.isdir(path):
            return []
        return [name for name in os.listdir(path)
                if os.path.exists(os.path.join(path, name, 'data'))]
