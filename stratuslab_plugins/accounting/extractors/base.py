"""The extractor interface, and the HTTP plumbing all extractors share."""

import abc
import urllib.parse

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions


def call_failed(service, call, exc, needed):
    """Return the accounting error for a failed HTTP ``call``.

    :param service: the service called, e.g. ``Nova``.
    :param exc: a keystoneauth1 or client-library exception.
    :param needed: what the accounting user needs, in operator words.
    """
    if isinstance(exc, ks_exceptions.EndpointNotFound):
        return exceptions.NotAvailable(service, call,
                                       'no endpoint in the catalog')
    status = getattr(exc, 'http_status', None) or getattr(exc, 'code', None)
    if isinstance(exc, (ks_exceptions.Forbidden,
                        ks_exceptions.Unauthorized)) or status in (401, 403):
        return exceptions.PermissionDenied(service, call, needed)
    if status == 404:
        return exceptions.NotAvailable(service, call)
    return exceptions.ExtractorError(
        '%s failed on %s: %s' % (service, call, exc))


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
        return call_failed(self.service, call, exc, self.needed)

    def adapter(self, service_type, session=None):
        """Return a keystoneauth1 adapter for ``service_type``.

        The interface comes from ``[accounting_keystone] interface``; the
        region is this extractor's.

        :param session: the session to call with; the run's by default.
        """
        group = self.conf.accounting_keystone
        return ks_adapter.Adapter(
            session or self.session, service_type=service_type,
            interface=getattr(group, 'interface', None) or 'public',
            region_name=self.region_name or getattr(group, 'region_name',
                                                    None))

    def get_json(self, adapter, url):
        """GET ``url`` and return its JSON body; count the call."""
        self.calls = getattr(self, 'calls', 0) + 1
        try:
            return adapter.get(url).json()
        except ks_exceptions.ClientException as exc:
            raise self.call_failed('GET %s' % url, exc)

    def paged(self, adapter, path, collection, query):
        """Yield every item of a marker-paged OpenStack listing.

        Follows ``<collection>_links`` (Cinder, Neutron and Nova all page
        this way), asking ``[accounting] page_size`` items a call.
        """
        query = dict(query, limit=self.conf.accounting.page_size)
        while True:
            body = self.get_json(adapter, '%s?%s' % (
                path, urllib.parse.urlencode(query, doseq=True)))
            items = body.get(collection) or []
            yield from items
            more = any(link.get('rel') == 'next'
                       for link in body.get(collection + '_links') or ())
            if not items or not more:
                return
            query['marker'] = items[-1]['id']
