"""The libvirt agent: real CPU time of each domain, sent to the listener.

``stratuslab-accounting-libvirt-agent`` runs on every compute host (the
``[libvirt]`` extra installs libvirt-python). Every
``[accounting_usage] sample_interval`` seconds it reads the cumulative CPU
time of each running domain (``virDomainGetCPUStats``, nanoseconds; a
Nova domain's UUID is its instance's) and sends the readings as one
oslo.messaging notification (priority ``sample``, event type
:data:`~.cpu.EVENT_TYPE`, topic ``[accounting_usage] cpu_samples_topic``).
It also reads a domain when libvirt reports a lifecycle change while the
domain can still be read (suspended, paused, shutting down), so the CPU
time of its last minutes is not left to the next periodic reading::

    agent = CpuTimeAgent(libvirt.open(uri), host, sender.send)
    agent.sample_all()

libvirt's counter restarts at zero with every start of a domain; each
reading carries libvirt's domain ID, new at every start, so the ledger
adds up runs instead of mistaking a restart for lost CPU time (see
:mod:`.cpu`). CPU time spent between the last reading and a hard stop
(libvirt cannot read a domain that is gone) is lost: the interval bounds
it.

libvirt-python is imported lazily, so the package imports without the
extra.
"""

import datetime
import threading

from oslo_log import log as logging
import oslo_messaging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import cpu

LOG = logging.getLogger(__name__)
UTC = datetime.timezone.utc

#: Samples per notification: a payload stays well under broker limits.
SAMPLES_PER_MESSAGE = 500


def import_libvirt():
    """Return the libvirt module, or say how to install it."""
    try:
        import libvirt
    except ImportError:
        raise exceptions.ConfigurationError(
            'the libvirt agent needs libvirt-python: pip install '
            '"stratuslab-plugins[libvirt]" (with libvirt-dev and '
            'pkg-config installed)')
    return libvirt


def _readable_events(libvirt):
    # Lifecycle events after which the domain still runs in some form,
    # so its CPU time can be read.
    return {libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
            libvirt.VIR_DOMAIN_EVENT_SHUTDOWN,
            getattr(libvirt, 'VIR_DOMAIN_EVENT_PMSUSPENDED', -1)}


class NotificationSender:
    """Sends samples as oslo.messaging notifications to the listeners."""

    def __init__(self, transport, host, topic):
        self.host = host
        self.notifier = oslo_messaging.Notifier(
            transport, publisher_id='stratuslab-libvirt-agent.%s' % host,
            driver='messagingv2', topics=[topic])

    def send(self, samples):
        for start in range(0, len(samples), SAMPLES_PER_MESSAGE):
            chunk = samples[start:start + SAMPLES_PER_MESSAGE]
            self.notifier.sample({}, cpu.EVENT_TYPE,
                                 cpu.to_payload(self.host, chunk))


class CpuTimeAgent:
    """Reads domains' CPU time from one libvirt connection.

    :param connection: an open libvirt connection.
    :param host: the name samples are reported under.
    :param send: callable taking a list of :class:`~.cpu.CpuSample`.
    """

    def __init__(self, connection, host, send, libvirt=None):
        self.libvirt = libvirt or import_libvirt()
        self.connection = connection
        self.host = host
        self.send = send
        self._lock = threading.Lock()

    def read(self, domain):
        """Return a :class:`~.cpu.CpuSample` of ``domain``, or None.

        None when the domain is not running (nothing to read) or vanished
        while being read.
        """
        try:
            if not domain.isActive():
                return None
            stats = domain.getCPUStats(True)
            run_id = domain.ID()
            uuid = domain.UUIDString()
        except self.libvirt.libvirtError as exc:
            LOG.debug('Domain vanished while being read: %s', exc)
            return None
        if not stats or 'cpu_time' not in stats[0]:
            return None
        return cpu.CpuSample(instance_uuid=uuid, host=self.host,
                             run_id=str(run_id),
                             sampled_at=datetime.datetime.now(UTC),
                             cpu_time_ns=int(stats[0]['cpu_time']))

    def sample_all(self):
        """Read and send every running domain; return the samples sent."""
        domains = self.connection.listAllDomains(
            self.libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        samples = [s for s in map(self.read, domains) if s is not None]
        self._send(samples)
        return samples

    def _send(self, samples):
        if samples:
            with self._lock:
                self.send(samples)

    def on_lifecycle(self, connection, domain, event, detail, opaque=None):
        """libvirt lifecycle callback: read a domain that is stopping."""
        if event not in _readable_events(self.libvirt):
            return
        sample = self.read(domain)
        if sample is not None:
            try:
                self._send([sample])
            except Exception:
                # A callback must not raise into libvirt's event loop;
                # the next periodic reading covers this one.
                LOG.exception('Could not send the CPU time of %s',
                              sample.instance_uuid)

    def watch_lifecycle(self):
        """Register :meth:`on_lifecycle`; needs the event loop running."""
        return self.connection.domainEventRegisterAny(
            None, self.libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            self.on_lifecycle, None)


def start_event_loop(libvirt):
    """Run libvirt's default event loop in a daemon thread.

    ``virEventRegisterDefaultImpl`` must run before the connection is
    opened, or lifecycle events never arrive.
    """
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    thread = threading.Thread(target=loop, name='libvirt-events',
                              daemon=True)
    thread.start()
    return thread


def _open(libvirt, uri):
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise exceptions.ConfigurationError(
            'cannot open libvirt at [accounting_usage] libvirt_uri = %s: '
            '%s' % (uri, exc))


def _reconnect(agent, uri):
    """Reopen libvirt after a failure (libvirtd restarted, say)."""
    try:
        agent.connection.close()
    except agent.libvirt.libvirtError:
        pass
    agent.connection = agent.libvirt.open(uri)
    agent.watch_lifecycle()


def run(conf, stop_event, transport=None):
    """Sample until ``stop_event`` is set; the agent process's main loop.

    A libvirt failure is logged and the connection reopened at the next
    reading; only a first connection that fails stops the agent (a wrong
    URI is a configuration error, not a transient one).
    """
    libvirt = import_libvirt()
    start_event_loop(libvirt)
    opts = conf.accounting_usage
    connection = _open(libvirt, opts.libvirt_uri)
    host = opts.host or connection.getHostname()
    if transport is None:
        transport = oslo_messaging.get_notification_transport(conf)
    sender = NotificationSender(transport, host, opts.cpu_samples_topic)
    agent = CpuTimeAgent(connection, host, sender.send, libvirt)
    agent.watch_lifecycle()
    LOG.info('libvirt agent reading %s every %d s as host %s',
             opts.libvirt_uri, opts.sample_interval, host)
    broken = False
    while not stop_event.is_set():
        try:
            if broken:
                _reconnect(agent, opts.libvirt_uri)
                broken = False
            agent.sample_all()
        except libvirt.libvirtError:
            LOG.exception('Reading libvirt at %s failed; reconnecting in '
                          '%d s', opts.libvirt_uri, opts.sample_interval)
            broken = True
        stop_event.wait(opts.sample_interval)
    agent.connection.close()
