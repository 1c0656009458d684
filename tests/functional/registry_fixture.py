"""A real OCI registry for tests: Debian's ``docker-registry`` (2.8).

:class:`RegistryFixture` runs a :class:`stratuslab_plugins.sandbox.
registry.Registry` (127.0.0.1, free port, temporary storage, deletes
enabled) for the duration of a test. Asked for ``tls=True`` it serves
HTTPS with a certificate from a CA generated for the test (``ca_file``);
asked for ``users`` it requires Basic authentication from an htpasswd
(bcrypt) file. Used by the appliance and Glance store tests::

    registry = self.useFixture(RegistryFixture(tls=True,
                                               users={'robot': 'secret'}))
    RegistryClient(registry.url, username='robot', password='secret',
                   ca_file=registry.ca_file)
"""

import os

import bcrypt
import fixtures

from stratuslab_plugins.sandbox import registry as sandbox_registry
from tests import pki

free_port = sandbox_registry.free_port


class RegistryFixture(fixtures.Fixture):
    """Run one docker-registry for the duration of a test.

    :param tls: serve HTTPS with a certificate from a fresh test CA.
    :param users: ``{name: password}`` required by Basic auth; None for
        anonymous access.
    :param token_server: a started ``TokenServer`` fixture
        (tests/functional/appliance/token_server.py): the registry then
        requires Bearer tokens from it, as Harbor does.
    :param access_log: log every request, for :meth:`served`.
    :param extra_config: more configuration sections (``middleware``...).
    """

    def __init__(self, tls=False, users=None, token_server=None,
                 access_log=False, extra_config=None):
        super().__init__()
        self.extra_config = extra_config or {}
        self.tls = tls
        self.users = users or {}
        self.token_server = token_server
        self.access_log = access_log
        self.ca_file = None

    def _setUp(self):
        self.workdir = self.useFixture(fixtures.TempDir()).path
        extra = dict(self.extra_config)
        if self.tls:
            extra['http'] = {'tls': self._tls_files()}
        if self.users:
            extra['auth'] = {'htpasswd': {'realm': 'test',
                                          'path': self._htpasswd()}}
        if self.token_server:
            extra['auth'] = self.token_server.registry_config(
                os.path.join(self.workdir, 'token-ca.pem'))
        self.registry = sandbox_registry.Registry(
            self.workdir, scheme='https' if self.tls else 'http',
            extra_config=extra, ca_file=self.ca_file,
            access_log=self.access_log)
        self.addCleanup(self.registry.stop)
        try:
            self.registry.start()
        except sandbox_registry.RegistryError as exc:
            raise fixtures.SetupError(str(exc))
        self.url, self.port = self.registry.url, self.registry.port
        self.storage, self.process = (self.registry.storage,
                                      self.registry.process)

    def _tls_files(self):
        ca = pki.make_ca('Registry Test CA')
        server = pki.issue(ca, '127.0.0.1', dns_name='localhost')
        cert, key = server.write(self.workdir, 'server')
        self.ca_file = os.path.join(self.workdir, 'registry-ca.pem')
        with open(self.ca_file, 'wb') as f:
            f.write(ca.cert_pem())
        return {'certificate': cert, 'key': key}

    def _htpasswd(self):
        path = os.path.join(self.workdir, 'htpasswd')
        with open(path, 'w') as f:
            for user, password in self.users.items():
                hashed = bcrypt.hashpw(password.encode(),
                                       bcrypt.gensalt(rounds=4))
                f.write('%s:%s\n' % (user, hashed.decode()))
        return path

    def log_text(self):
        return self.registry.log_text()

    def stop(self):
        """Stop the registry now (also how a test makes it disappear)."""
        self.registry.stop()

    def blob_path(self, digest):
        return self.registry.blob_path(digest)

    def uploads(self, repository):
        return self.registry.uploads(repository)

    def log_offset(self):
        return self.registry.log_offset()

    def served(self, since=0):
        return self.registry.served(since)
