"""The messenger interface every plugin implements."""

import abc


class Messenger(abc.ABC):
    """Hand records over to a consumer outside the accounting.

    :param conf: the oslo.config ``ConfigOpts`` of the run.
    :param kinds: the record kinds this run publishes (``cloud``,
        ``storage``, and ``ip`` / ``accelerator`` when enabled); a
        messenger never sees another kind.
    """

    def __init__(self, conf, kinds):
        self.conf = conf
        self.kinds = tuple(kinds)
        self.accepted = 0

    @abc.abstractmethod
    def add(self, record):
        """Take one record; it may be buffered until :meth:`flush`."""

    @abc.abstractmethod
    def flush(self):
        """Hand over everything added; return only once it is durable.

        :raises MessengerError: when any record could not be handed over;
            the run then leaves the extraction window where it was.
        """

    def close(self):
        """Release what the messenger holds (files, sockets)."""
