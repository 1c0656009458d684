"""A private RabbitMQ broker for functional tests (Debian's rabbitmq-server).

Each fixture starts its own node: a unique node name, free ports on
127.0.0.1 for AMQP and Erlang distribution, and everything it writes
(database, logs, config, Erlang cookie) in a temporary directory, so it
neither sees nor disturbs a system broker or another test's. It runs the
broker in the foreground as a child process, so the fixture owns it and
stops it at cleanup::

    broker = self.useFixture(RabbitMQFixture())
    transport_url = broker.url      # rabbit://guest:guest@127.0.0.1:PORT/

The Debian wrapper ``/usr/sbin/rabbitmq-server`` switches to the
``rabbitmq`` user when run as root, which could not write the temporary
directory; the fixture runs the scripts under ``/usr/lib/rabbitmq/bin``
as the current user instead, with ``HOME`` in the temporary directory
(the Erlang cookie lives there). Starting takes a few seconds: share one
broker per test class (``setUpClass``) where tests allow.

Erlang's port mapper (``epmd``, port 4369) is shared by every Erlang node
of the machine and outlives the broker; it is bound to 127.0.0.1 here.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import fixtures

RABBITMQ_BIN = '/usr/lib/rabbitmq/bin'
START_TIMEOUT = 60


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def rabbitmq_available():
    """Tell whether Debian's rabbitmq-server is installed."""
    return os.path.exists(os.path.join(RABBITMQ_BIN, 'rabbitmq-server'))


class BrokerError(Exception):
    """The broker did not start; the message carries its log's tail."""


class RabbitMQFixture(fixtures.Fixture):
    """One private RabbitMQ node, started in setUp and stopped at cleanup.

    :ivar url: the oslo.messaging transport URL of the broker.
    :ivar port: its AMQP port on 127.0.0.1.
    """

    def _setUp(self):
        if not rabbitmq_available():
            raise BrokerError(
                'rabbitmq-server is not installed: apt-get install -y '
                'rabbitmq-server (it is in bindep.txt)')
        self.base = tempfile.mkdtemp(prefix='stratuslab-rabbitmq-')
        self.addCleanup(shutil.rmtree, self.base, ignore_errors=True)
        self.port = free_port()
        self.node = 'stratuslab-%s@localhost' % uuid.uuid4().hex[:12]
        self.env = self._environment()
        self._write_config()
        self._start()
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def _environment(self):
        home = os.path.join(self.base, 'home')
        os.mkdir(home)
        env = dict(os.environ)
        env.update({
            'HOME': home,
            'RABBITMQ_NODENAME': self.node,
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.port),
            'RABBITMQ_DIST_PORT': str(free_port()),
            'RABBITMQ_MNESIA_BASE': os.path.join(self.base, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(self.base, 'log'),
            'RABBITMQ_CONFIG_FILE': os.path.join(self.base, 'rabbitmq.conf'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
                self.base, 'enabled_plugins'),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
        })
        return env

    def _write_config(self):
        with open(self.env['RABBITMQ_CONFIG_FILE'], 'w') as config:
            config.write('listeners.tcp.default = 127.0.0.1:%d\n'
                         'loopback_users.guest = true\n' % self.port)
        with open(self.env['RABBITMQ_ENABLED_PLUGINS_FILE'], 'w') as plugins:
            plugins.write('[].\n')

    def _start(self):
        self.output_path = os.path.join(self.base, 'server.out')
        with open(self.output_path, 'wb') as output:
            self.process = subprocess.Popen(
                [os.path.join(RABBITMQ_BIN, 'rabbitmq-server')],
                env=self.env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self._stop)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._accepts_connections():
            if self.process.poll() is not None or \
                    time.monotonic() > deadline:
                raise BrokerError('RabbitMQ node %s did not start:\n%s'
                                  % (self.node, self.log_tail()))
            time.sleep(0.2)

    def _accepts_connections(self):
        try:
            socket.create_connection(('127.0.0.1', self.port), 0.5).close()
        except OSError:
            return False
        return True

    def ctl(self, *args):
        """Run ``rabbitmqctl -n NODE ARGS`` against this node; its output."""
        return subprocess.run(
            [os.path.join(RABBITMQ_BIN, 'rabbitmqctl'), '-n', self.node,
             '-q'] + list(args), env=self.env, check=True,
            capture_output=True, text=True, timeout=60).stdout

    def queue_depths(self):
        """Return ``{queue: (ready, unacknowledged)}`` of the ``/`` vhost."""
        depths = {}
        for line in self.ctl('list_queues', '--no-table-headers', 'name',
                             'messages_ready',
                             'messages_unacknowledged').splitlines():
            name, ready, unacked = line.split('\t')
            depths[name] = (int(ready), int(unacked))
        return depths

    def log_tail(self, lines=40):
        try:
            with open(self.output_path, errors='replace') as output:
                return ''.join(output.readlines()[-lines:])
        except OSError:
            return '(no output)'

    def _stop(self):
        if self.process.poll() is None:
            # SIGTERM is RabbitMQ's graceful stop; the whole session goes
            # so no Erlang helper of this node survives it.
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)


class SharedBroker(object):
    """Mixin: one broker for a whole test class.

    RabbitMQ takes seconds to start. Put the mixin before the TestCase
    base; tests read ``cls.broker``.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = RabbitMQFixture()
        cls.broker.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.broker.cleanUp()
        super().tearDownClass()
