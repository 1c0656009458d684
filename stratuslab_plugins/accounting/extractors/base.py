"""The extractor interface, and the HTTP error translation all share."""

import abc

from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions


class Extractor(abc.ABC):
    """Read one cloud service's usage and yield records.

    :param conf: the oslo.config ``ConfigOpts`` of the run.
    :param session: a keystoneauth1 session with the accounting's
        credentials.
    :param region_name: the region to read, None for the session's.
    """

    #: Record kinds this extractor yields.
    kinds = ()
    #: Name of the service, for messages.
    service = None
    #: What the accounting user needs, in operator words.
    needed = None

    def __init__(self, conf, session, region_name=None):
        self.conf = conf
        self.session = session
        self.region_name = region_name

    @abc.abstractmethod
    def extract(self, since, until, context, projects=None):
        """Yield the records of everything used between ``since`` and now.

        :param since: aware UTC datetime; what changed since then is read.
        :param until: aware UTC datetime the usage is measured at.
        :param context: the run's ``records.RecordContext``.
        :param projects: project ids to restrict to, or None for all.
        """

    def call_failed(self, call, exc):
        """Return the accounting error for a failed HTTP ``call``."""
        if isinstance(exc, (ks_exceptions.Forbidden,
                            ks_exceptions.Unauthorized)):
            return exceptions.PermissionDenied(self.service, call,
                                               self.needed)
        status = getattr(exc, 'http_status', None) or getattr(
            exc, 'code', None)
        if status in (401, 403):
            return exceptions.PermissionDenied(self.service, call,
                                               self.needed)
        return exceptions.ExtractorError(
            '%s failed on %s: %s' % (self.service, call, exc))
