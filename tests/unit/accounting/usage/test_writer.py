"""The listener with its writer process, over the ``fake://`` transport.

The same checks as ``test_listener`` (a subclass), with a real writer
process (``multiprocessing``, spawned) reading and writing the batches;
and what a writer that dies does: nothing acknowledged, the listener
stops and says so. The real-RabbitMQ tests in ``tests/functional/usage``
run the command, which uses a writer process by default.
"""

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

    logs_here = False  # the writer logs to its own stderr

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
