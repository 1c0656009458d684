"""The notification listener: Nova's events and the agents' CPU samples.

``stratuslab-accounting-listener`` runs this. It is a batch notification
listener of oslo.messaging with three subscriptions:

* Nova's versioned notifications (options of ``[accounting_usage]``:
  exchange ``nova_exchange``, topic ``nova_topic``, queue named by
  ``pool``): the instance events of :data:`~.events.HANDLED_EVENT_TYPES`
  go into the ledger;
* the agents' CPU samples (``cpu_samples_topic``, priority ``sample``);
* Nova's legacy notifications (``unversioned_topic``), only to warn once
  when they are all that arrives.

Each batch is written in one transaction and acknowledged only after it
committed: a listener killed mid-batch leaves the batch unacknowledged
and the broker redelivers it, to this listener or another one of the
pool. The ledger makes a redelivered event a no-op, and builds intervals
from the set of an instance's events, so order does not matter either.
A notification that cannot be read is kept in the ledger's rejects with
the reason, and acknowledged: retrying it would fail the same way::

    listeners = build_listeners(conf, ledger)
    for listener in listeners:
        listener.start()
"""

import json
import re
import signal
import threading
import time

from oslo_log import log as logging
import oslo_messaging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events

LOG = logging.getLogger(__name__)

#: Queue-name stem of the unversioned watch when no pool is set; a watch
#: never consumes Nova's own legacy queue, which Ceilometer may read.
DEFAULT_WATCH_POOL = 'stratuslab-accounting'

#: The Nova options that make it send what the listener reads.
NOVA_OPTIONS = ('[notifications] notification_format = versioned (or both)',
                '[oslo_messaging_notifications] driver = messagingv2',
                '[DEFAULT] instance_usage_audit = True')


def _exactly(names):
    return '^(%s)$' % '|'.join(re.escape(name) for name in names)


def _payload_text(payload):
    try:
        return json.dumps(payload, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(payload)


class FormatWatch:
    """Notices when Nova sends only legacy notifications, and says so once.

    Legacy and versioned notifications of one action arrive nearly
    together when Nova sends both; :attr:`threshold` legacy ones without
    a single versioned one is Nova sending only the legacy format.
    """

    threshold = 10

    def __init__(self):
        self._lock = threading.Lock()
        self.versioned = 0
        self.unversioned = 0
        self.warned = False

    def saw_versioned(self, count=1):
        with self._lock:
            self.versioned += count

    def saw_unversioned(self, count=1):
        with self._lock:
            self.unversioned += count
            if (self.warned or self.versioned
                    or self.unversioned < self.threshold):
                return
            self.warned = True
        LOG.warning(
            'Nova sends only unversioned notifications (%d received, no '
            'versioned one): the usage ledger stays empty. Set in '
            'nova.conf on every Nova host: %s; then restart Nova.',
            self.unversioned, '; '.join(NOVA_OPTIONS))


class UnversionedEndpoint:
    """Counts legacy notifications for the :class:`FormatWatch`."""

    def __init__(self, watch):
        self.watch = watch

    def info(self, messages):
        self.watch.saw_unversioned(len(messages))
        return oslo_messaging.NotificationResult.HANDLED


class _LedgerEndpoint:
    """Writes a batch into the ledger, then lets it be acknowledged."""

    #: Seconds to wait before handing back a batch the ledger refused:
    #: the broker redelivers at once, and a database that is down would
    #: otherwise be hammered (and the log flooded) in a tight loop.
    retry_delay = 2.0

    def __init__(self, ledger):
        self.ledger = ledger

    def _write(self, parsed, rejected):
        try:
            self.ledger.record(rejected=rejected, **parsed)
        except exceptions.LedgerError:
            # Not acknowledged: the broker redelivers the batch, and the
            # ledger ignores what of it was already written.
            LOG.exception('Usage ledger write failed; the batch of %d '
                          'notifications goes back to the queue.',
                          sum(len(v) for v in parsed.values()))
            time.sleep(self.retry_delay)
            return oslo_messaging.NotificationResult.REQUEUE
        return oslo_messaging.NotificationResult.HANDLED

    @staticmethod
    def _reject(message, exc):
        LOG.error('Dropping unreadable notification (kept in the ledger '
                  'table usage_rejected): %s', exc)
        return (message.get('event_type'),
                (message.get('metadata') or {}).get('message_id'),
                str(exc), _payload_text(message.get('payload')))


class InstanceEventEndpoint(_LedgerEndpoint):
    """Nova's instance lifecycle events, at priority ``info``."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=_exactly(events.HANDLED_EVENT_TYPES))

    def __init__(self, ledger, watch=None):
        super().__init__(ledger)
        self.watch = watch or FormatWatch()

    def info(self, messages):
        self.watch.saw_versioned(len(messages))
        parsed, rejected = [], []
        for message in messages:
            try:
                parsed.append(events.parse_notification(
                    message['event_type'], message['payload'],
                    message.get('metadata')))
            except events.MalformedNotification as exc:
                rejected.append(self._reject(message, exc))
        return self._write({'events': parsed}, rejected)


class CpuSampleEndpoint(_LedgerEndpoint):
    """The libvirt agents' CPU samples, at priority ``sample``."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=_exactly([cpu.EVENT_TYPE]))

    def sample(self, messages):
        samples, rejected = [], []
        for message in messages:
            try:
                samples.extend(cpu.from_payload(
                    message['payload'], 'CPU samples from %s'
                    % message.get('publisher_id')))
            except events.MalformedNotification as exc:
                rejected.append(self._reject(message, exc))
        return self._write({'samples': samples}, rejected)


def _batch_listener(conf, transport, targets, endpoints, pool):
    return oslo_messaging.get_batch_notification_listener(
        transport, targets, endpoints, executor='threading',
        allow_requeue=True, pool=pool or None,
        batch_size=conf.accounting_usage.batch_size,
        batch_timeout=conf.accounting_usage.batch_timeout)


def build_listeners(conf, ledger, transport=None):
    """Return the (unstarted) listeners of one listener process.

    :param conf: a ConfigOpts with ``[accounting_usage]`` registered.
    :param ledger: a :class:`~..ledger.usage.UsageLedger`.
    :param transport: a notification transport; by default the one of
        ``conf`` (``[oslo_messaging_notifications] transport_url``).
    """
    if transport is None:
        transport = oslo_messaging.get_notification_transport(conf)
    opts = conf.accounting_usage
    watch = FormatWatch()
    listeners = [
        _batch_listener(
            conf, transport,
            [oslo_messaging.Target(topic=opts.nova_topic,
                                   exchange=opts.nova_exchange)],
            [InstanceEventEndpoint(ledger, watch)], opts.pool),
        # No pool: every listener shares the queue the agents' notifier
        # declares, so each sample is stored by exactly one of them.
        _batch_listener(
            conf, transport,
            [oslo_messaging.Target(topic=opts.cpu_samples_topic)],
            [CpuSampleEndpoint(ledger)], None),
    ]
    if opts.unversioned_topic:
        listeners.append(_batch_listener(
            conf, transport,
            [oslo_messaging.Target(topic=opts.unversioned_topic,
                                   exchange=opts.nova_exchange)],
            [UnversionedEndpoint(watch)],
            '%s.unversioned-watch' % (opts.pool or DEFAULT_WATCH_POOL)))
    return listeners


def serve(listeners, stop_event=None):
    """Run ``listeners`` until SIGTERM or SIGINT (or ``stop_event``).

    Stopping lets the batches in hand finish and be acknowledged.
    """
    stop_event = stop_event or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *args: stop_event.set())
    for listener in listeners:
        listener.start()
    LOG.info('Usage listener started (%d subscriptions).', len(listeners))
    while not stop_event.wait(1):
        pass
    for listener in listeners:
        listener.stop()
    for listener in listeners:
        listener.wait()
    LOG.info('Usage listener stopped.')
