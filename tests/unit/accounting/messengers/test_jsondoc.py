"""The json messenger writes one JSON document per record and line."""

import json
import socket
import threading

import fixtures
import testtools

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.messengers import jsondoc
from stratuslab_plugins.accounting.messengers import noop
from tests.unit.accounting import fakes


def cloud(n):
    return [builders.build_cloud_record(u, fakes.context())
            for u in fakes.usages(n)]


class TestJSONMessenger(testtools.TestCase):

    def test_file_gets_one_document_per_line(self):
        path = self.useFixture(fixtures.TempDir()).join('records.json')
        conf = fakes.make_conf(accounting_json={'output': path})
        messenger = jsondoc.JSONMessenger(conf, ['cloud'])
        for record in cloud(3):
            messenger.add(record)
        messenger.flush()
        messenger.close()
        with open(path) as stream:
            lines = stream.read().splitlines()
        self.assertEqual(3, len(lines))
        first = json.loads(lines[0])
        self.assertEqual('vm-p1-0000', first['VMUUID'])
        self.assertEqual('vo.one', first['VO'])
        self.assertEqual('cloud', first['RecordType'])

    def test_tcp_output_like_logstash(self):
        server = socket.socket()
        server.bind(('127.0.0.1', 0))
        server.listen(1)
        self.addCleanup(server.close)
        received = []

        def accept():
            conn, _ = server.accept()
            with conn:
                data = b''
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            received.append(data)

        thread = threading.Thread(target=accept)
        thread.start()
        port = server.getsockname()[1]
        conf = fakes.make_conf(
            accounting_json={'output': 'tcp://127.0.0.1:%d' % port})
        messenger = jsondoc.JSONMessenger(conf, ['cloud'])
        for record in cloud(5):
            messenger.add(record)
        messenger.flush()
        thread.join(10)
        lines = received[0].decode('ascii').splitlines()
        self.assertEqual(5, len(lines))
        self.assertEqual('vm-p1-0004', json.loads(lines[4])['VMUUID'])

    def test_unreachable_output_names_it(self):
        probe = socket.socket()
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
        probe.close()
        conf = fakes.make_conf(
            accounting_json={'output': 'tcp://127.0.0.1:%d' % port})
        messenger = jsondoc.JSONMessenger(conf, ['cloud'])
        exc = self.assertRaises(exceptions.MessengerError, messenger.add,
                                cloud(1)[0])
        self.assertIn('tcp://127.0.0.1:%d' % port, str(exc))


class TestNoopMessenger(testtools.TestCase):

    def test_counts(self):
        messenger = noop.NoopMessenger(fakes.make_conf(), ['cloud'])
        for record in cloud(4):
            messenger.add(record)
        messenger.flush()
        self.assertEqual(4, messenger.accepted)
