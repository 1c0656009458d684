"""The listener's writer process: reading and writing beside receiving.

The listener is one interpreter, and on a busy machine it is CPU-bound:
oslo.messaging's and kombu's receipt of a batch and our reading and
writing of it take turns under one GIL. With ``[accounting_usage]
writer_process = True`` the listener process only receives: each batch
goes, as oslo.messaging decoded it, through a pipe to a writer process
(this module), which reads it, writes it into the ledger in one
transaction and answers with the batch's result; meanwhile
oslo.messaging's threading executor receives the next batch. The
listener acknowledges a batch only once the writer's answer came back,
i.e. after the commit, exactly as the in-process endpoints do (the
writer runs those same endpoints).

A writer that dies (killed, out of memory) makes the listener fail
loudly: the batch in the pipe and every later one go back to the queue
unacknowledged (redelivery is a no-op in the ledger), the error is
logged, and :func:`~.listener.serve` stops the listener and reports the
failure (the command exits 1, for its supervisor to restart it).

The writer logs through the listener's logging, as oslo.log set it up
from the listener's options (file, syslog or journal, format, levels):
a spawned process inherits none of it, so the writer's records cross a
second pipe and the listener hands each to its own logger of that name
(the standard library's "logging from several processes" pattern,
:class:`logging.handlers.QueueHandler` on the writer's side). They keep
the writer's process id and name.
"""

import logging as std_logging
from logging import handlers as log_handlers
import multiprocessing
import pickle
import signal
import threading

from oslo_log import log as logging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import memory

LOG = logging.getLogger(__name__)

#: Seconds a stopping listener waits for its writer to finish and exit.
STOP_TIMEOUT = 30


class WriterDied(exceptions.LedgerError):
    """The writer process is gone; nothing more can be written."""


def _portable(messages, unreadable):
    """Return ``messages``, each one that cannot cross the pipe replaced.

    A payload oslo.messaging decoded is plain JSON and always crosses;
    a message that does not (nested deeper than pickle recurses) goes as
    an unreadable one, which the writer keeps in ``usage_rejected``.
    """
    portable = []
    for message in messages:
        try:
            pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            metadata = message.get('metadata')
            message = {
                'event_type': message.get('event_type'), 'payload': None,
                'metadata': metadata if isinstance(metadata, dict) else {},
                unreadable: message.get(unreadable) or (
                    'cannot be handed to the writer process (%s)'
                    % type(exc).__name__)}
        portable.append(message)
    return portable


class _PipeQueue:
    """The one method :class:`~logging.handlers.QueueHandler` needs, on a pipe.

    A pipe rather than a ``multiprocessing.Queue``: its end in the
    listener sees end-of-file when the writer dies, even mid-record,
    where a queue's reader would wait for ever.
    """

    def __init__(self, connection):
        self._connection = connection

    def put_nowait(self, record):
        self._connection.send(record)


def _log_levels():
    """Return the listener's logging levels, for the writer to filter as it.

    oslo.log sets the root level (``debug``) and a level per library
    (``default_log_levels``); the writer applies the same, so it sends
    only the records the listener would write.
    """
    manager = std_logging.Logger.manager
    levels = {name: one.level for name, one in manager.loggerDict.items()
              if isinstance(one, std_logging.Logger) and one.level}
    levels[None] = std_logging.getLogger().getEffectiveLevel()
    return levels


def _log_to_listener(connection, levels):
    """Make every record of the writer process cross to the listener."""
    root = std_logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(log_handlers.QueueHandler(_PipeQueue(connection)))
    for name, level in levels.items():
        std_logging.getLogger(name).setLevel(level)


def _relay_logs(connection):
    """Hand each record of the writer to the listener's logger of its name.

    Runs in a thread of the listener until the writer is gone.
    """
    with connection:
        while True:
            try:
                record = connection.recv()
            except (EOFError, OSError):
                return
            std_logging.getLogger(record.name).handle(record)


class Writer:
    """The listener's end of a writer process (one per listener process).

    :meth:`handle` is called by oslo.messaging's executor threads; one
    batch is in the writer at a time, the others wait their turn
    (already received).
    """

    def __init__(self, ledger_url):
        context = multiprocessing.get_context('spawn')
        self._connection, child = context.Pipe()
        logs, child_logs = context.Pipe(duplex=False)
        self.process = context.Process(
            target=run, args=(child, ledger_url, child_logs, _log_levels()),
            name='stratuslab-accounting-listener-writer', daemon=True)
        self.process.start()
        child.close()
        child_logs.close()
        self._log_relay = threading.Thread(
            target=_relay_logs, args=(logs,), daemon=True,
            name='stratuslab-accounting-writer-logs')
        self._log_relay.start()
        self._lock = threading.Lock()
        self.died = threading.Event()

    def handle(self, priority, messages, unreadable):
        """Have the writer store a batch; return its NotificationResult.

        :raises WriterDied: the writer is gone; nothing was acknowledged.
        """
        with self._lock:
            if self.died.is_set():
                raise WriterDied('the writer process is gone')
            # Pickled under the lock: batches waiting their turn (up to
            # the executor's threads) hold no second copy.
            try:
                request = pickle.dumps((priority, messages),
                                       pickle.HIGHEST_PROTOCOL)
            except Exception:
                request = pickle.dumps(
                    (priority, _portable(messages, unreadable)),
                    pickle.HIGHEST_PROTOCOL)
            try:
                self._connection.send_bytes(request)
                return self._connection.recv()
            except (EOFError, OSError) as exc:
                self.died.set()
                self.process.join(1)
                raise WriterDied(
                    'the writer process died (exit code %s): %s'
                    % (self.process.exitcode, exc or type(exc).__name__))

    def alive(self):
        return not self.died.is_set() and self.process.is_alive()

    def close(self):
        """Let the writer finish and exit (after the listeners stopped)."""
        with self._lock:
            self._connection.close()
        self.process.join(STOP_TIMEOUT)
        if self.process.is_alive():
            LOG.error('The writer process did not exit in %d s; killing '
                      'it.', STOP_TIMEOUT)
            self.process.kill()
            self.process.join()
        self._log_relay.join(STOP_TIMEOUT)


def run(connection, ledger_url, logs, log_levels):
    """The writer process: store each batch received, answer its result.

    Its log records go to ``logs``, for the listener to write
    (:func:`_relay_logs`), filtered by the listener's ``log_levels``.

    SIGTERM and SIGINT are the listener's to handle: it stops receiving,
    lets the batches in hand be written, then closes the pipe, which
    ends this loop.
    """
    # Imported here: the listener module imports this one.
    from stratuslab_plugins.accounting.ledger import usage as usage_ledger
    from stratuslab_plugins.accounting.usage import listener

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    _log_to_listener(logs, log_levels)
    ledger = usage_ledger.UsageLedger.from_url(ledger_url)
    endpoints = {one.priority: one for one in (
        listener.InstanceEventEndpoint(ledger),
        listener.CpuSampleEndpoint(ledger))}
    memory.freeze_start_up_heap()
    try:
        while True:
            try:
                priority, messages = connection.recv()
            except EOFError:
                return
            connection.send(endpoints[priority].handle_batch(messages))
    finally:
        ledger.engine.dispose()
