"""The accounting pillar's one exception hierarchy.

Every message names the input that is wrong (an option, a call, a record
field) and what the operator can do about it, because these errors end up
in a cron mail or a journal read by someone who did not write the code.
"""


class AccountingError(Exception):
    """Base of every error the accounting raises on purpose."""


class ConfigurationError(AccountingError):
    """An option or command-line value cannot be used as given."""


class RecordError(AccountingError):
    """A record cannot be built or rendered (e.g. a missing VMUUID)."""


class ExtractorError(AccountingError):
    """An extractor could not read usage from a cloud service."""


class PermissionDenied(ExtractorError):
    """The cloud refused a call the extractor needs (HTTP 401/403).

    :param call: the call, e.g. ``GET /servers/detail?all_tenants=1``.
    :param service: the service that refused it, e.g. ``Nova``.
    :param needed: what the accounting user needs, in operator words.
    """

    def __init__(self, service, call, needed):
        self.service = service
        self.call = call
        self.needed = needed
        super().__init__(
            '%s refused %s: the accounting user lacks the permission. '
            'Grant it %s (see "EGI accounting" in the README).'
            % (service, call, needed))


class NotAvailable(ExtractorError):
    """The cloud has no such thing (HTTP 404, or no such service).

    A resource deleted since it was named, an API this cloud does not
    offer (an extension a proxy hides), a service missing from the
    catalog.

    :param call: the call, e.g. ``GET /flavors/42``.
    :param reason: how the cloud said so.
    """

    def __init__(self, service, call, reason='HTTP 404'):
        self.service = service
        self.call = call
        super().__init__('%s has nothing at %s (%s).'
                         % (service, call, reason))


class MessengerError(AccountingError):
    """A messenger could not hand a message over; the window stays put."""


class LedgerError(AccountingError):
    """The ledger (state database) cannot be read or written."""


class LedgerDataError(LedgerError):
    """The ledger's database refused a value (type, size, encoding).

    Retrying the same write fails the same way, unlike the other
    :class:`LedgerError` (database down, lock timeout, deadlock): the
    listener then stores the notifications of the batch one by one and
    keeps the one refused in ``usage_rejected``.
    """
