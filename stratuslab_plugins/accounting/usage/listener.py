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

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging
from oslo_messaging.notify import dispatcher as notify_dispatcher
from oslo_messaging.notify import listener as notify_listener

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import fields
from stratuslab_plugins.accounting.usage import formats
from stratuslab_plugins.accounting.usage import memory
from stratuslab_plugins.accounting.usage import writer as writer_mod

LOG = logging.getLogger(__name__)

#: Queue-name stem of the unversioned watch when no pool is set; a watch
#: never consumes Nova's own legacy queue, which Ceilometer may read.
DEFAULT_WATCH_POOL = 'stratuslab-accounting'


#: Event type given to a message whose envelope oslo.messaging cannot read
#: (see :class:`Dispatcher`), and the key carrying why.
UNREADABLE = 'stratuslab.unreadable'
UNREADABLE_KEY = 'stratuslab_unreadable'


def _exactly(names):
    return '^(%s)$' % '|'.join(re.escape(name) for name in names)


def _payload_text(payload):
    try:
        return json.dumps(payload, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return fields.shown(payload)


def _rejection(message, reason):
    """Return what the ledger keeps of a notification it cannot store."""
    LOG.error('Dropping unreadable notification (kept in the ledger '
              'table usage_rejected): %s', reason)
    metadata = message.get('metadata')
    if not isinstance(metadata, dict):
        metadata = {}
    return (message.get('event_type'), metadata.get('message_id'),
            str(reason), _payload_text(message.get('payload')))


class _LedgerEndpoint:
    """Writes a batch into the ledger, then lets it be acknowledged.

    A notification that cannot be read, or whose values the database
    refuses, is kept in ``usage_rejected`` and acknowledged with the
    rest: redelivering it would fail the same way, for ever, and hold
    up the notifications behind it.
    """

    #: Seconds to wait before handing back a batch the ledger refused:
    #: the broker redelivers at once, and a database that is down would
    #: otherwise be hammered (and the log flooded) in a tight loop.
    retry_delay = 2.0
    #: The argument of ``UsageLedger.record`` this endpoint's records go to.
    records = None

    def __init__(self, ledger):
        self.ledger = ledger

    def _read(self, message):
        """Return the ledger records of one message (a list)."""
        raise NotImplementedError

    def handle_batch(self, messages):
        """Store a batch; return its NotificationResult."""
        entries = []
        for message in messages:
            try:
                if message.get(UNREADABLE_KEY):
                    raise events.MalformedNotification(
                        message[UNREADABLE_KEY])
                entries.append((message, self._read(message), None))
            except events.MalformedNotification as exc:
                entries.append((message, [], _rejection(message, exc)))
            except Exception as exc:
                # A bug of ours must not stall accounting either.
                LOG.exception('Unexpected error reading a notification')
                entries.append((message, [], _rejection(
                    message, 'unexpected error reading it: %s'
                    % fields.shown(exc))))
        return self._write(entries)

    def _record(self, entries):
        """Write ``(message, records, rejection)`` entries at once."""
        self.ledger.record(
            rejected=[rejected for _, _, rejected in entries if rejected],
            **{self.records: [record for _, records, _ in entries
                              for record in records]})

    def _requeue(self, entries):
        # Not acknowledged: the broker redelivers the batch, and the
        # ledger ignores what of it was already written.
        LOG.exception('Usage ledger write failed; the batch of %d '
                      'notifications goes back to the queue.', len(entries))
        time.sleep(self.retry_delay)
        return oslo_messaging.NotificationResult.REQUEUE

    def _write(self, entries):
        try:
            self._record(entries)
        except exceptions.LedgerDataError as exc:
            LOG.warning('The ledger refused a value of a batch (%s); '
                        'storing its %d notifications one by one.',
                        exc, len(entries))
            return self._write_each(entries)
        except exceptions.LedgerError:
            return self._requeue(entries)
        return oslo_messaging.NotificationResult.HANDLED

    def _write_each(self, entries):
        for entry in entries:
            try:
                self._record([entry])
            except exceptions.LedgerDataError as exc:
                message = entry[0]
                try:
                    self._record([(message, [], _rejection(
                        message, 'the ledger refused it: %s' % exc))])
                except exceptions.LedgerError:
                    return self._requeue(entries)
            except exceptions.LedgerError:
                return self._requeue(entries)
        return oslo_messaging.NotificationResult.HANDLED


class InstanceEventEndpoint(_LedgerEndpoint):
    """Nova's instance lifecycle events, at priority ``info``."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=_exactly(events.HANDLED_EVENT_TYPES + (UNREADABLE,)))
    priority = 'info'
    records = 'events'

    def __init__(self, ledger, watch=None):
        super().__init__(ledger)
        self.watch = watch or formats.FormatWatch()

    def _read(self, message):
        return [events.parse_notification(
            message['event_type'], message['payload'],
            message.get('metadata'))]

    def info(self, messages):
        self.watch.saw_versioned(len(messages))
        return self.handle_batch(messages)


class CpuSampleEndpoint(_LedgerEndpoint):
    """The libvirt agents' CPU samples, at priority ``sample``."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=_exactly([cpu.EVENT_TYPE, UNREADABLE]))
    priority = 'sample'
    records = 'samples'

    def _read(self, message):
        return cpu.from_payload(message['payload'], 'CPU samples from %s'
                                % fields.shown(message.get('publisher_id')))

    def sample(self, messages):
        return self.handle_batch(messages)


class WriterEndpoint:
    """An endpoint of the listener process that hands its batches over.

    It stands for ``local`` (an :class:`InstanceEventEndpoint` or
    :class:`CpuSampleEndpoint` class) in the listener process: same
    filter and priority, but the batch is read and written by the
    writer process (:mod:`.writer`), and acknowledged when the writer
    answers, after the commit. A writer that died leaves the batch
    unacknowledged, and stops the listener (see :func:`serve`).
    """

    def __init__(self, writer, local, watch=None):
        self.writer = writer
        self.filter_rule = local.filter_rule
        self.priority = local.priority
        self.watch = watch
        setattr(self, self.priority, self.handle_batch)

    def handle_batch(self, messages):
        if self.watch is not None:
            self.watch.saw_versioned(len(messages))
        try:
            return self.writer.handle(self.priority, messages, UNREADABLE_KEY)
        except writer_mod.WriterDied as exc:
            LOG.error('Usage ledger writer failed (%s); the batch of %d '
                      'notifications goes back to the queue and the '
                      'listener stops.', exc, len(messages))
            return oslo_messaging.NotificationResult.REQUEUE


class Dispatcher(notify_dispatcher.BatchNotificationDispatcher):
    """oslo.messaging's batch dispatcher, for messages it cannot read too.

    oslo.messaging reads each message's envelope (priority, event type)
    before any endpoint sees it; an envelope it cannot read (a priority
    that is not a string, say) makes it hand back the whole batch, for
    ever. Here such a message goes to the endpoint instead, marked, at
    the endpoint's own priority: the endpoint keeps it in
    ``usage_rejected`` and the batch goes on.
    """

    def __init__(self, endpoint):
        super().__init__([endpoint], None)
        self.priority = endpoint.priority

    def _extract_user_message(self, incoming):
        try:
            return super()._extract_user_message(incoming)
        except Exception as exc:
            message = incoming.message
            # A plain dict: the rabbit driver's is a subclass holding
            # the connection, which cannot cross to a writer process.
            message = dict(message) if isinstance(message, dict) else {}
            return self.priority, incoming, {
                'ctxt': {}, 'publisher_id': None, 'event_type': UNREADABLE,
                'payload': message,
                'metadata': {'message_id': message.get('message_id'),
                             'timestamp': None},
                UNREADABLE_KEY: 'oslo.messaging cannot read its envelope '
                                '(%s: %s)' % (type(exc).__name__,
                                              fields.shown(str(exc)))}


def _batch_listener(conf, transport, targets, endpoint, pool):
    if isinstance(endpoint, (_LedgerEndpoint, WriterEndpoint)):
        # get_batch_notification_listener(), with our dispatcher.
        return notify_listener.BatchNotificationServer(
            transport, targets, Dispatcher(endpoint), 'threading', True,
            pool or None, conf.accounting_usage.batch_size,
            conf.accounting_usage.batch_timeout)
    return oslo_messaging.get_batch_notification_listener(
        transport, targets, [endpoint], executor='threading',
        allow_requeue=True, pool=pool or None,
        batch_size=conf.accounting_usage.batch_size,
        batch_timeout=conf.accounting_usage.batch_timeout)


#: Batches RabbitMQ hands a listener ahead of its acknowledgements when
#: ``[oslo_messaging_rabbit] rabbit_qos_prefetch_count`` is not set.
PREFETCH_BATCHES = 3


def default_prefetch(conf):
    """Default RabbitMQ's prefetch to :data:`PREFETCH_BATCHES` batches.

    oslo.messaging's default, 0, is no limit: a listener starting on a
    backlog (a day of notifications after an outage) is handed all of
    it, holds every message it has not yet written in memory, and leaves
    none to the other listeners of its queue. A few batches keep the
    writer busy (one written, the next received) at the same drain rate
    (``tox -e bench -- listener``). A value set in the configuration
    wins; nothing is done for a transport other than RabbitMQ's.
    Return the prefetch in force, or None.
    """
    try:
        conf.set_default(
            'rabbit_qos_prefetch_count',
            PREFETCH_BATCHES * conf.accounting_usage.batch_size,
            group='oslo_messaging_rabbit')
        return conf.oslo_messaging_rabbit.rabbit_qos_prefetch_count
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return None


def _ledger_endpoints(ledger, watch, writer):
    if writer is None:
        return (InstanceEventEndpoint(ledger, watch),
                CpuSampleEndpoint(ledger))
    return (WriterEndpoint(writer, InstanceEventEndpoint, watch),
            WriterEndpoint(writer, CpuSampleEndpoint))


def build_listeners(conf, ledger, transport=None, writer=None):
    """Return the (unstarted) listeners of one listener process.

    :param conf: a ConfigOpts with ``[accounting_usage]`` registered.
    :param ledger: a :class:`~..ledger.usage.UsageLedger`; unused when
        ``writer`` is given (the writer process has its own).
    :param transport: a notification transport; by default the one of
        ``conf`` (``[oslo_messaging_notifications] transport_url``).
    :param writer: a :class:`~.writer.Writer` that reads and writes the
        batches in a process of its own, or None to do it here.
    """
    if transport is None:
        transport = oslo_messaging.get_notification_transport(conf)
    # After the transport: its driver registers its options.
    default_prefetch(conf)
    opts = conf.accounting_usage
    watch = formats.FormatWatch()
    events_endpoint, samples_endpoint = _ledger_endpoints(
        ledger, watch, writer)
    listeners = [
        _batch_listener(
            conf, transport,
            [oslo_messaging.Target(topic=opts.nova_topic,
                                   exchange=opts.nova_exchange)],
            events_endpoint, opts.pool),
        # No pool: every listener shares the queue the agents' notifier
        # declares, so each sample is stored by exactly one of them.
        _batch_listener(
            conf, transport,
            [oslo_messaging.Target(topic=opts.cpu_samples_topic)],
            samples_endpoint, None),
    ]
    if opts.unversioned_topic:
        listeners.append(_batch_listener(
            conf, transport,
            [oslo_messaging.Target(topic=opts.unversioned_topic,
                                   exchange=opts.nova_exchange)],
            formats.UnversionedEndpoint(watch),
            '%s.unversioned-watch' % (opts.pool or DEFAULT_WATCH_POOL)))
    return listeners


def serve(listeners, stop_event=None, writer=None):
    """Run ``listeners`` until SIGTERM or SIGINT (or ``stop_event``).

    Stopping lets the batches in hand finish and be acknowledged, then
    closes ``writer`` (a :class:`~.writer.Writer`, if the listeners use
    one). A writer that dies stops the listeners at once, its batches
    unacknowledged. Return False in that case, True otherwise.
    """
    stop_event = stop_event or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *args: stop_event.set())
    memory.freeze_start_up_heap()
    for listener in listeners:
        listener.start()
    LOG.info('Usage listener started (%d subscriptions).', len(listeners))
    healthy = True
    while not stop_event.wait(1):
        if writer is not None and not writer.alive():
            LOG.critical('The usage ledger writer process is gone (exit '
                         'code %s); the listener stops, leaving its '
                         'batches to the queue.', writer.process.exitcode)
            healthy = False
            break
    for listener in listeners:
        listener.stop()
    for listener in listeners:
        listener.wait()
    if writer is not None:
        writer.close()
    LOG.info('Usage listener stopped.')
    return healthy
