"""The listener with its writer process, over the ``fake://`` transport.

The same checks as ``test_listener`` (a subclass), with a real writer
process (``multiprocessing``, spawned) reading and writing the batches;
and what a writer that dies does: nothing acknowledged, the listener
stops and says so. The real-RabbitMQ tests in ``tests/functional/usage``
run the command, which uses a writer process by default.

The inherited checks of what the endpoints log read the listener's own
logger: the writer's records reach it through the log pipe.
"""

import logging
import multiprocessing
import os
import signal
import threading

import testtools

from stratuslab_plugins.accounting.usage import listener
from stratuslab_plugins.accounting.usage import writer as usage_writer
from tests.unit.accounting.usage import nova_payloads as nova
from tests.unit.accounting.usage import test_listener

A = test_listener.A


class WriterProcessTest(test_listener.ListenerTest):

    def writer(self):
        writer = usage_writer.Writer(
            self.ledger.engine.url.render_as_string(hide_password=False))
        self.addCleanup(writer.close)
        return writer

    def start(self, ledger=None, writer=None):
        self.assertIsNone(ledger, 'the writer process has its own ledger')
        listeners = listener.build_listeners(
            self.conf, None, self.transport, writer=writer or self.writer())
        for one in listeners:
            one.start()
            self.addCleanup(one.wait)
            self.addCleanup(one.stop)
        return listeners

    def test_a_failed_commit_is_not_acknowledged_and_comes_back(self):
        self.skipTest('a failing ledger object cannot cross to the '
                      'writer; a dead writer is tested below')

    def test_a_dead_writer_acknowledges_nothing_and_stops_the_listener(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        writer = self.writer()
        listeners = listener.build_listeners(
            self.conf, None, self.transport, writer=writer)
        # Killed as the OOM killer would, before the batch arrives.
        os.kill(writer.process.pid, signal.SIGKILL)
        self.publish(nova.lifecycle(A, [(0, 'instance.create.end')]))
        self.assertFalse(listener.serve(listeners, writer=writer))
        self.assertIsNone(self.usage_now())
        self.assertIn('writer process is gone', self.logger.output)
        # The batch is still on the queue: a new listener stores it.
        self.start()
        self.wait_for(lambda: self.usage_now() is not None)

    def test_the_writer_logs_through_the_listeners_logging(self):
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(root.removeHandler, handler)
        writer = self.writer()
        self.start(writer=writer)
        _, payload, _ = nova.notification('instance.create.end', A,
                                          nova.at(0), nova.at(0))
        payload['nova_object.data']['uuid'] = None
        self.publish([('instance.create.end', payload, {})])

        def rejected():
            return [one for one in records
                    if 'usage_rejected' in one.getMessage()]
        self.wait_for(rejected)
        [record] = rejected()
        self.assertEqual(writer.process.pid, record.process)
        self.assertEqual('stratuslab-accounting-listener-writer',
                         record.processName)
        self.assertEqual('stratuslab_plugins.accounting.usage.listener',
                         record.name)
        self.assertEqual(logging.ERROR, record.levelno)

    def test_levels_follow_the_listeners(self):
        logging.getLogger('sqlalchemy.engine').setLevel(logging.INFO)
        self.addCleanup(logging.getLogger('sqlalchemy.engine').setLevel,
                        logging.NOTSET)
        levels = usage_writer._log_levels()
        self.assertEqual(logging.INFO, levels['sqlalchemy.engine'])
        self.assertEqual(logging.getLogger().getEffectiveLevel(),
                         levels[None])

    def test_the_writer_sends_only_what_the_listener_would_write(self):
        root = logging.getLogger()
        for handler in list(root.handlers):
            self.addCleanup(root.addHandler, handler)
        self.addCleanup(root.setLevel, root.level)
        reader, sender = multiprocessing.Pipe(duplex=False)
        self.addCleanup(reader.close)
        self.addCleanup(sender.close)
        chatty = logging.getLogger('stratuslab-test.chatty')
        self.addCleanup(chatty.setLevel, logging.NOTSET)
        usage_writer._log_to_listener(
            sender, {None: logging.WARNING,
                     'stratuslab-test.chatty': logging.DEBUG})
        self.addCleanup(root.handlers.clear)
        logging.getLogger('stratuslab-test.quiet').info('not sent')
        chatty.debug('sent, %s', 'formatted')
        record = reader.recv()
        self.assertEqual(('stratuslab-test.chatty', 'sent, formatted'),
                         (record.name, record.getMessage()))
        self.assertFalse(reader.poll())


class PortableTest(testtools.TestCase):

    def test_a_message_that_cannot_cross_the_pipe_goes_as_unreadable(self):
        good = {'event_type': 'instance.create.end', 'payload': {'a': 1},
                'metadata': {'message_id': 'm1'}}
        odd = {'event_type': 'instance.create.end',
               'payload': threading.Lock(), 'metadata': {'message_id': 'm2'}}
        portable = usage_writer._portable([good, odd], 'unreadable')
        self.assertEqual(good, portable[0])
        self.assertEqual({'event_type': 'instance.create.end',
                          'payload': None, 'metadata': {'message_id': 'm2'},
                          'unreadable': 'cannot be handed to the writer '
                                        'process (TypeError)'}, portable[1])
