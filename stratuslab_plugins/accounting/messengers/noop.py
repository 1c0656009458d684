"""The ``noop`` messenger: counts records and drops them.

For dry runs and tests of the extraction alone.
"""

from stratuslab_plugins.accounting.messengers import base


class NoopMessenger(base.Messenger):

    def add(self, record):
        self.accepted += 1

    def flush(self):
        pass
