"""The ``ssm`` messenger: APEL messages into the queue ``ssmsend`` reads.

Records are packed into messages of at most ``[accounting_ssm]
max_records`` records and under ``max_bytes`` bytes (EGI's limits), and
each finished message becomes one element of a ``dirq`` QueueSimple
directory, the layout ``ssmsend`` reads::

    [accounting]
    messengers = ssm
    [accounting_ssm]
    output_path = /var/spool/apel/outgoing/openstack

A message is written as soon as it is full, so a run of any size holds one
message per record kind in memory. ``dirq`` writes an element with a
temporary file and a hard link but never syncs it; :meth:`flush` syncs the
elements and their directories, so "accepted" means on disk even if the
host loses power right after.
"""

import os

from dirq import QueueSimple

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting.messengers import base
from stratuslab_plugins.conf import accounting as accounting_conf


def _fsync(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SSMMessenger(base.Messenger):

    def __init__(self, conf, kinds):
        super().__init__(conf, kinds)
        group = conf[accounting_conf.SSM_GROUP]
        self.paths = {kind: group.output_path for kind in self.kinds}
        if group.storage_output_path:
            self.paths['storage'] = group.storage_output_path
        self._queues = {}
        self._written = []
        self._messages = messages.MessageSet(
            self.kinds, group.max_records, group.max_bytes)
        self.message_count = 0
        # Open every queue now: a bad path fails the run before it reads
        # the cloud, not after.
        for kind in self.kinds:
            self._queue(kind)

    def _queue(self, kind):
        path = self.paths[kind]
        if path not in self._queues:
            try:
                self._queues[path] = QueueSimple.QueueSimple(path)
            except OSError as exc:
                raise exceptions.MessengerError(
                    'cannot open the SSM outgoing queue %s (%s): create it '
                    'writable by the accounting user or fix [%s] '
                    'output_path.' % (path, exc.strerror or exc,
                                      accounting_conf.SSM_GROUP))
        return path, self._queues[path]

    def _write(self, message):
        path, queue = self._queue(message.kind)
        try:
            name = queue.add(message.body)
        except OSError as exc:
            raise exceptions.MessengerError(
                'cannot add a %s message of %d records to the SSM outgoing '
                'queue %s: %s' % (message.kind, len(message.keys), path, exc))
        self._written.append((path, name))
        self.message_count += 1
        self.accepted += len(message.keys)

    def add(self, record):
        for message in self._messages.add(record):
            self._write(message)

    def flush(self):
        for message in self._messages.flush():
            self._write(message)
        directories = set()
        try:
            for path, name in self._written:
                _fsync(os.path.join(path, name))
                directories.add(os.path.dirname(os.path.join(path, name)))
            for directory in directories:
                _fsync(directory, directory=True)
        except OSError as exc:
            raise exceptions.MessengerError(
                'cannot sync the SSM outgoing queue: %s' % exc)
        self._written = []
