"""The extractor interface, and the HTTP plumbing all extractors share."""

import abc
import logging
import urllib.parse

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import scopes as scopes_mod

LOG = logging.getLogger(__name__)


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
    :param project_sessions: a ``scopes.ProjectSessions`` to read
        projects one by one with; one made from ``conf`` and ``session``
        by default.
    """

    #: Record kinds this extractor yields.
    kinds = ()
    #: Name of the service, for messages.
    service = None
    #: What the accounting user needs, in operator words.
    needed = None

    def __init__(self, conf, session, region_name=None,
                 project_sessions=None):
        self.conf = conf
        self.session = session
        self.region_name = region_name
        self.project_sessions = project_sessions or \
            scopes_mod.ProjectSessions(conf, session, region_name)
        self._all_projects = None
        self._warned = set()

    @abc.abstractmethod
    def extract(self, since, until, context, projects=None):
        """Yield the records of everything used between ``since`` and now.

        :param since: aware UTC datetime; what changed since then is read.
        :param until: aware UTC datetime the usage is measured at.
        :param context: the run's ``builders.RecordContext``.
        :param projects: project ids to restrict to, or None for all.
        """

    def reads_all_projects(self):
        """Whether this run reads every project in one listing."""
        if self._all_projects is None:
            self._all_projects = self.project_sessions.reads_all_projects()
            if not self._all_projects:
                LOG.info('%s: reading project by project, each with a token '
                         'scoped to it ([accounting] listing_scope).',
                         self.service)
        return self._all_projects

    def scopes(self, projects=None):
        """Yield the ``scopes.Scope`` s this run reads, one after the other.

        :param projects: project ids to restrict to, or None for all.
        """
        if self.reads_all_projects():
            for project_id in projects or [None]:
                yield scopes_mod.Scope(self.session, project_id)
            return
        for project_id in self.project_sessions.readable(projects):
            yield scopes_mod.Scope(self.session_for(project_id), project_id,
                                   all_projects=False)

    def session_for(self, project_id):
        """Return the session that reads what belongs to ``project_id``."""
        if project_id and not self.reads_all_projects():
            return self.project_sessions.session_for(project_id)
        return self.session

    def warn_once(self, key, message, *args):
        """Log a warning the first time ``key`` is met in this run."""
        if key not in self._warned:
            self._warned.add(key)
            LOG.warning(message, *args)

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
