"""Nova's notification formats: noticing when only the legacy one comes.

The listener reads Nova's *versioned* notifications. A Nova left at its
default (``[notifications] notification_format = unversioned``) sends
the legacy format alone, and the ledger would stay empty without a
word. The listener therefore also watches the legacy topic
(``[accounting_usage] unversioned_topic``) through its own queue, never
Nova's, and says once, with the exact options to set, when legacy
notifications arrive and versioned ones do not.
"""

import threading

from oslo_log import log as logging
import oslo_messaging

LOG = logging.getLogger(__name__)

#: The Nova options that make it send what the listener reads.
NOVA_OPTIONS = ('[notifications] notification_format = versioned (or both)',
                '[oslo_messaging_notifications] driver = messagingv2',
                '[DEFAULT] instance_usage_audit = True')


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
