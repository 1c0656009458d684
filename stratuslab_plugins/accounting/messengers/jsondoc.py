"""The ``json`` messenger: one JSON document per record, one per line.

For logstash (``tcp`` input, ``json_lines`` codec), OpenSearch through
logstash, or a file any log shipper tails::

    [accounting]
    messengers = ssm, json
    [accounting_json]
    output = tcp://127.0.0.1:5000      # or /var/log/stratuslab/records.json

Each document carries the repository's field names plus ``RecordType``
and ``VO`` (see ``messages.record_document``). A file is appended to and
synced on :meth:`flush`; a TCP stream is written as records arrive and
closed cleanly on flush.
"""

import os
import socket
import sys
import urllib.parse

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting.messengers import base
from stratuslab_plugins.conf import accounting as accounting_conf

_CONNECT_TIMEOUT = 30


class JSONMessenger(base.Messenger):

    def __init__(self, conf, kinds):
        super().__init__(conf, kinds)
        self.output = conf[accounting_conf.JSON_GROUP].output
        self._stream = None
        self._socket = None

    def _open(self):
        if self._stream is not None:
            return self._stream
        try:
            if self.output == '-':
                self._stream = sys.stdout
            elif self.output.startswith('tcp://'):
                url = urllib.parse.urlsplit(self.output)
                self._socket = socket.create_connection(
                    (url.hostname, url.port), timeout=_CONNECT_TIMEOUT)
                self._stream = self._socket.makefile('w', encoding='ascii')
            else:
                self._stream = open(self.output, 'a', encoding='ascii')
        except (OSError, ValueError, TypeError) as exc:
            raise exceptions.MessengerError(
                'cannot open the JSON output %r ([%s] output): %s'
                % (self.output, accounting_conf.JSON_GROUP, exc))
        return self._stream

    def add(self, record):
        stream = self._open()
        try:
            stream.write(messages.render_document(record) + '\n')
        except OSError as exc:
            raise exceptions.MessengerError(
                'cannot write to the JSON output %r: %s' % (self.output, exc))
        self.accepted += 1

    def flush(self):
        if self._stream is None:
            return
        try:
            self._stream.flush()
            if self._socket is not None:
                self._stream.close()
                self._socket.close()
                self._stream = self._socket = None
            elif self._stream is not sys.stdout:
                os.fsync(self._stream.fileno())
        except OSError as exc:
            raise exceptions.MessengerError(
                'cannot flush the JSON output %r: %s' % (self.output, exc))

    def close(self):
        if self._socket is not None:
            self._socket.close()
        elif self._stream not in (None, sys.stdout):
            self._stream.close()
        self._stream = self._socket = None
