"""A real OCI registry on loopback: Debian's ``docker-registry`` (2.8).

:class:`Registry` writes a configuration (filesystem storage under its
work directory, deletes enabled), starts ``docker-registry serve`` on
127.0.0.1 on a free port, waits until ``/v2/`` answers and stops it. The
sandbox runs one as its appliance repository; the functional tests'
``RegistryFixture`` adds TLS and authentication to the same class::

    registry = Registry('/tmp/work')
    registry.start()
    ...  # registry.url is http://127.0.0.1:PORT
    registry.stop()

Asked for ``access_log=True``, the registry logs every answer with the
bytes of its body, and :meth:`Registry.served` reads them back: how the
sync's tests and benchmark show which requests Glance sent and how many
image bytes left the registry::

    mark = registry.log_offset()
    ...
    image_bytes = sum(r.size for r in registry.served(mark)
                      if r.method == 'GET' and '/blobs/' in r.path)
"""

import collections
import os
import re
import socket
import subprocess
import time

import requests
import yaml

REGISTRY_BINARY = '/usr/bin/docker-registry'
START_TIMEOUT = 20
#: One line of distribution's access log (Apache combined format).
_ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" '
    r'(?P<status>\d{3}) (?P<size>\d+|-)')

#: One request the registry answered, and the bytes of its body.
Served = collections.namedtuple('Served', 'method path status size')


class RegistryError(RuntimeError):
    """The registry could not be started; the message says why."""


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Registry(object):
    """One docker-registry process.

    :param workdir: where its configuration, storage and log go.
    :param scheme: ``http``, or ``https`` when ``extra_config`` carries a
        ``http: tls:`` section.
    :param extra_config: merged over the base configuration, section by
        section (``http``, ``auth``...).
    :param ca_file: the CA that signed the registry's TLS certificate, for
        the readiness check.
    :param access_log: log every request (see :meth:`served`).
    """

    def __init__(self, workdir, scheme='http', extra_config=None,
                 ca_file=None, access_log=False):
        self.workdir = workdir
        self.storage = os.path.join(workdir, 'storage')
        self.port = free_port()
        self.url = '%s://127.0.0.1:%d' % (scheme, self.port)
        self.extra_config = extra_config or {}
        self.ca_file = ca_file
        self.access_log = access_log
        self.process = None
        self.log_path = os.path.join(workdir, 'registry.log')

    def config(self):
        """Return the registry's configuration as a dict."""
        config = {
            'version': 0.1,
            'log': {'level': 'warn',
                    'accesslog': {'disabled': not self.access_log}},
            'storage': {
                'filesystem': {'rootdirectory': self.storage},
                'delete': {'enabled': True},
                'maintenance': {'uploadpurging': {'enabled': False}},
            },
            'http': {'addr': '127.0.0.1:%d' % self.port,
                     'secret': os.urandom(16).hex()},
        }
        for section, values in self.extra_config.items():
            if isinstance(values, dict):
                config.setdefault(section, {}).update(values)
            else:
                config[section] = values
        return config

    def start(self):
        """Start the registry and wait until it answers."""
        if not os.path.exists(REGISTRY_BINARY):
            raise RegistryError('%s is missing: apt-get install -y '
                                'docker-registry' % REGISTRY_BINARY)
        os.makedirs(self.workdir, exist_ok=True)
        config_path = os.path.join(self.workdir, 'config.yml')
        with open(config_path, 'w') as f:
            yaml.safe_dump(self.config(), f)
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, 'serve', config_path],
                stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RegistryError('docker-registry exited with %s: %s'
                                    % (self.process.returncode,
                                       self.log_text()))
            try:
                response = requests.get(self.url + '/v2/', timeout=1,
                                        verify=self.ca_file or True)
                if response.status_code in (200, 401):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RegistryError('docker-registry did not answer on %s within '
                            '%d s' % (self.url, START_TIMEOUT))

    def log_text(self):
        """The end of the registry's log, for error messages."""
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode(errors='replace')[-2000:]
        except OSError:
            return ''

    def log_offset(self):
        """Where the log ends now: a mark for :meth:`served`."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def served(self, since=0):
        """Return the :class:`Served` requests logged after ``since``.

        Only with ``access_log``. A line is written as its answer ends,
        so a request still being answered is not listed yet.
        """
        with open(self.log_path, 'rb') as f:
            f.seek(since)
            lines = f.read().decode(errors='replace').splitlines()
        served = []
        for line in lines:
            match = _ACCESS_LINE.match(line)
            if match:
                size = match.group('size')
                served.append(Served(match.group('method'),
                                     match.group('path'),
                                     int(match.group('status')),
                                     0 if size == '-' else int(size)))
        return served

    def stop(self):
        """Stop the registry now (also how a test makes it disappear)."""
        if self.process is None or self.process.poll() is not None:
            return
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
