"""The ``noop`` messenger: renders messages as ``ssm`` would, drops them.

For dry runs (``stratuslab-accounting publish --dry-run`` uses it in
place of the configured messengers) and for timing the extraction alone:
every record is still rendered and packed within ``[accounting_ssm]``'s
limits, so a record the repository would reject fails here too.
"""

from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting.messengers import base
from stratuslab_plugins.conf import accounting as accounting_conf


class NoopMessenger(base.Messenger):

    def __init__(self, conf, kinds):
        super().__init__(conf, kinds)
        group = conf[accounting_conf.SSM_GROUP]
        self._messages = messages.MessageSet(self.kinds, group.max_records,
                                             group.max_bytes)
        self.message_count = 0

    def add(self, record):
        self.accepted += 1
        self.message_count += len(self._messages.add(record))

    def flush(self):
        self.message_count += len(self._messages.flush())
