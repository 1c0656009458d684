"""The libvirt agent: real CPU time of each domain, sent to the listener.

``stratuslab-accounting-libvirt-agent`` runs on every compute host (the
``[libvirt]`` extra installs libvirt-python). Every
``[accounting_usage] sample_interval`` seconds (30 by default) it reads
the cumulative CPU time of every running domain in one call, libvirt's
bulk statistics (``virConnectGetAllDomainStats`` with
``VIR_DOMAIN_STATS_CPU_TOTAL``: what ``virsh domstats --cpu-total``
shows), and sends the readings as one oslo.messaging notification
(priority ``sample``, event type :data:`~.cpu.EVENT_TYPE`, topic
``[accounting_usage] cpu_samples_topic``); a Nova domain's UUID is its
instance's. The bulk statistics work where ``virDomainGetCPUStats`` does
not: libvirt reads a QEMU process's CPU time from ``/proc`` when the
domain has no cgroup (libvirt in a container, ``cgroup_controllers =
[]``, ``qemu:///session``). A driver whose bulk statistics lack
``cpu.time`` (libvirt's ``test`` driver) is read domain by domain with
``virDomainGetCPUStats``.

It also reads a domain on every lifecycle event libvirt sends while the
domain can still be read, before it goes: suspended or paused (also the
pause at the end of an outgoing migration), shutdown finished,
PM-suspended, crashed::

    agent = CpuTimeAgent(libvirt.open(uri), host, sender.send)
    agent.sample_all()

What a hard stop loses (``virsh destroy``, a host crash; a guest
power-off too when libvirt kills QEMU before the agent's reading
arrives) is the CPU time since the last reading: at most
``sample_interval`` times the domain's vCPUs. A reading that fails for
any other reason than the domain having gone is logged at WARNING.

Each reading carries a run id that changes with every QEMU process
(:mod:`.runs`), so the ledger adds up runs instead of mistaking a
restart for lost CPU time (see :mod:`.cpu`).

libvirt-python is imported lazily, so the package imports without the
extra.
"""

import datetime
import threading

from oslo_log import log as logging
import oslo_messaging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import runs as runs_mod

LOG = logging.getLogger(__name__)
UTC = datetime.timezone.utc

#: Samples per notification: a payload stays well under broker limits.
SAMPLES_PER_MESSAGE = 500


def import_libvirt():
    """Return the libvirt module, or say how to install it.

    libvirt prints every error it raises on the process's stderr by
    default, even the ones its caller expects (a domain gone between a
    listing and a reading); the agent says what matters itself, so
    libvirt's own lines go to this module's log at debug level.
    """
    try:
        import libvirt
    except ImportError:
        raise exceptions.ConfigurationError(
            'the libvirt agent needs libvirt-python: pip install '
            '"stratuslab-plugins[libvirt]" (with libvirt-dev and '
            'pkg-config installed)')
    libvirt.registerErrorHandler(_log_libvirt_error, None)
    return libvirt


def _log_libvirt_error(context, error):
    # error is libvirt's (code, domain, message, level, ...) tuple.
    LOG.debug('libvirt: %s', error[2] if len(error) > 2 else error)


def _readable_events(libvirt):
    # Lifecycle events after which the domain still exists in some form,
    # so its CPU time can be read before it goes.
    return {libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
            libvirt.VIR_DOMAIN_EVENT_SHUTDOWN,
            getattr(libvirt, 'VIR_DOMAIN_EVENT_PMSUSPENDED', -1),
            getattr(libvirt, 'VIR_DOMAIN_EVENT_CRASHED', -1)}


def _stats_flags(libvirt):
    # NOWAIT (libvirt 4.5) skips what would wait for a busy domain's job
    # (CPU time never does).
    return getattr(libvirt, 'VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT', 0)


def _stats_groups(libvirt):
    return libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_STATE


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
    :param runs: what names a domain's runs; by default the one for the
        connection's driver (:func:`.runs.for_driver`).
    """

    def __init__(self, connection, host, send, libvirt=None, runs=None):
        self.libvirt = libvirt or import_libvirt()
        self.connection = connection
        self.host = host
        self.send = send
        self.runs = runs or runs_mod.for_driver(connection.getType())
        self._lock = threading.Lock()
        # {uuid: (run id, last reading)}, of the domains still running.
        self._last = {}

    def sample_all(self):
        """Read and send every running domain; return the samples sent.

        :raises libvirt.libvirtError: when the bulk call itself fails (the
            connection broke): the caller reconnects.
        """
        stats = self.connection.getAllDomainStats(
            _stats_groups(self.libvirt),
            _stats_flags(self.libvirt)
            | self.libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
        samples = self._samples(stats, datetime.datetime.now(UTC))
        self._forget_all_but(s.instance_uuid for s in samples)
        self._send(samples)
        return samples

    def read(self, domain):
        """Return a :class:`~.cpu.CpuSample` of ``domain``, or None.

        None when it is not running or has gone (logged at DEBUG), or
        could not be read (logged at WARNING).
        """
        try:
            stats = self.connection.domainListGetStats(
                [domain], _stats_groups(self.libvirt),
                _stats_flags(self.libvirt))
        except self.libvirt.libvirtError as exc:
            self._failed(domain, exc)
            return None
        samples = self._samples(stats, datetime.datetime.now(UTC))
        return samples[0] if samples else None

    def _samples(self, stats, sampled_at):
        readings = [(domain, self._cpu_time(domain, record))
                    for domain, record in stats if self._running(record)]
        readings = [(d, ns) for d, ns in readings if ns is not None]
        run_ids = self.runs.run_ids(
            (d.UUIDString(), d.ID()) for d, _ in readings)
        samples = [cpu.CpuSample(
            instance_uuid=d.UUIDString(), host=self.host,
            run_id=run_ids[d.UUIDString()], sampled_at=sampled_at,
            cpu_time_ns=int(ns)) for d, ns in readings
            if run_ids[d.UUIDString()] is not None]
        return [s for s in samples if self._plausible(s)]

    def _running(self, record):
        # A domain that has just shut off still shows up in statistics:
        # without a cgroup, libvirt 9 then reads the CPU time of process
        # 0, its own, as the domain's.
        return (record.get('state.state')
                != self.libvirt.VIR_DOMAIN_SHUTOFF)

    def _plausible(self, sample):
        """Whether a reading is not lower than the run's last one.

        A QEMU process's CPU time never goes down: a lower reading is
        one of a process being torn down, dropped.
        """
        last = self._last.get(sample.instance_uuid)
        if (last is not None and last[0] == sample.run_id
                and sample.cpu_time_ns < last[1]):
            LOG.debug('Dropped a reading of %s lower than its last one',
                      sample.instance_uuid)
            return False
        self._last[sample.instance_uuid] = (sample.run_id,
                                            sample.cpu_time_ns)
        return True

    def _forget_all_but(self, uuids):
        keep = set(uuids)
        for uuid in list(self._last):
            if uuid not in keep:
                del self._last[uuid]

    def _cpu_time(self, domain, record):
        """Return a domain's CPU time (ns) from its bulk record, or None."""
        if 'cpu.time' in record:
            return record['cpu.time']
        # Drivers without the bulk CPU group (libvirt's test driver).
        try:
            total = domain.getCPUStats(True)
        except self.libvirt.libvirtError as exc:
            self._failed(domain, exc)
            return None
        if not total or 'cpu_time' not in total[0]:
            LOG.warning('libvirt reports no CPU time for domain %s: its '
                        'CPU time is not recorded.', domain.UUIDString())
            return None
        return total[0]['cpu_time']

    def _failed(self, domain, exc):
        """Log a failed reading: DEBUG if the domain went, else WARNING."""
        try:
            gone = not domain.isActive()
        except self.libvirt.libvirtError as check:
            gone = check.get_error_code() == self.libvirt.VIR_ERR_NO_DOMAIN
        if gone:
            LOG.debug('Domain %s went while being read: %s',
                      domain.UUIDString(), exc)
        else:
            LOG.warning('Cannot read the CPU time of domain %s: %s',
                        domain.UUIDString(), exc)

    def _send(self, samples):
        if samples:
            with self._lock:
                self.send(samples)

    def on_lifecycle(self, connection, domain, event, detail, opaque=None):
        """libvirt lifecycle callback: read a domain before it goes."""
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
