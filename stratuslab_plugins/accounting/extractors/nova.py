"""The ``nova`` extractor: every VM of every project, in paged listings.

cASO asked Nova only for servers changed since its last run, so a VM
running for months vanished from the reports. Here a run reads, in each
scope (every project at once for an admin, else each project the
accounting user holds ``reader`` on, see :mod:`..scopes`):

1. a paged listing of every server still running (``status=ACTIVE``):
   each is re-reported every run with durations cumulative since it
   started, which the repository REPLACEs;
2. a paged listing of everything that changed since the window's start
   (``changes-since``: stopped, resized, deleted...), minus the running
   ones already reported.

Then, each once a run and only when needed: the aggregates (the first
time a server shows its host), for the hosts' ``grid_hepscore``; the
flavors (:mod:`.flavors`), when a server does not embed its whole flavor;
the images (:mod:`.images`), for ImageId. Pages are turned into records
as they arrive, so memory does not grow with the number of servers.

Start time: Nova rewrites ``launched_at`` on resize, rebuild and unshelve,
so the record starts at the server's ``created`` time (a VM never
launched has no usage and is skipped). End time: ``terminated_at`` of a
deleted server; for a server shut off (or shelved and offloaded) the time
Nova last changed it, ``updated``, which is when it stopped unless it was
changed again since. The API knows neither suspended time nor CPU time;
the notification ledger and the libvirt agent do.

Least privilege: with Nova's default policies the ``reader`` role on each
project is enough (``os_compute_api:servers:detail``, and
``os_compute_api:servers:show:flavor-extra-specs`` for the benchmark in
the flavor). The host of a server
(``os_compute_api:os-extended-server-attributes``) and the aggregates
(``os_compute_api:os-aggregates:index``) are the admin's: a reader's run
warns once and records quote the flavor's benchmark instead of the host's.
A refused listing of servers is an error naming the call.
"""

import dataclasses
import datetime
import logging
import urllib.parse

from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting.extractors import flavors
from stratuslab_plugins.accounting.extractors import images
from stratuslab_plugins.accounting import records
from stratuslab_plugins.grid import keys

LOG = logging.getLogger(__name__)

MICROVERSION = '2.47'
#: The server attribute naming its compute host (admin's by default).
HOST = 'OS-EXT-SRV-ATTR:host'
#: Statuses whose server no longer consumes its flavor; its end is
#: ``updated`` when Nova gives no ``terminated_at``.
_ENDED = frozenset(('DELETED', 'SOFT_DELETED', 'SHUTOFF',
                    'SHELVED_OFFLOADED'))


def parse_time(value):
    """Return an aware UTC datetime from Nova's ISO strings, or None."""
    if not value:
        return None
    text = value.replace('Z', '+00:00')
    parsed = datetime.datetime.fromisoformat(text)
    return records.utc(parsed)


def _iso(value):
    return records.utc(value).strftime('%Y-%m-%dT%H:%M:%SZ')


def _call_refused(exc):
    """Say in a few words what a refused or absent optional call met."""
    if isinstance(exc, exceptions.PermissionDenied):
        return '%s refused %s' % (exc.service, exc.call)
    return str(exc).rstrip('.')


def _aggregate_benchmarks(body):
    """Return ``{host: per-core HEPscore23}`` of a ``/os-aggregates`` body.

    A host in several aggregates takes the first one's value.
    """
    result = {}
    for aggregate in body.get('aggregates') or ():
        if not isinstance(aggregate, dict):
            continue
        metadata = aggregate.get('metadata')
        value = (metadata.get(keys.AGGREGATE_HEPSCORE)
                 if isinstance(metadata, dict) else None)
        if value in (None, ''):
            continue
        try:
            score = float(value)
        except (TypeError, ValueError):
            LOG.warning('Aggregate %s has %s=%r, not a number; its hosts get '
                        'the flavor benchmark instead.',
                        aggregate.get('name'), keys.AGGREGATE_HEPSCORE, value)
            continue
        for host in aggregate.get('hosts') or ():
            if isinstance(host, str):
                result.setdefault(host, score)
    return result


class NovaExtractor(base.Extractor):
    """Cloud records from Nova's servers API."""

    kinds = ('cloud', 'accelerator')
    service = 'Nova'
    needed = ('the reader role on each project read (Nova policy '
              'os_compute_api:servers:detail), or the admin role to read '
              'every project at once (os_compute_api:servers:detail:'
              'get_all_tenants)')

    #: The compute API microversion asked for (2.47 embeds the flavor).
    microversion = MICROVERSION

    def __init__(self, conf, session, region_name=None,
                 project_sessions=None):
        super().__init__(conf, session, region_name, project_sessions)
        self.page_size = conf.accounting.page_size
        self._clients = {}
        self._benchmarks = None
        self.flavors = flavors.Flavors(self._get)
        self.images = images.ImageIds(
            conf.accounting.image_id_source, self.page_size,
            lambda session: self.adapter('image', session))
        self.calls = 0

    # -- HTTP -----------------------------------------------------------

    def _client(self, session):
        """Return the novaclient of a session, made once."""
        if session not in self._clients:
            self._clients[session] = nova_client.Client(
                self.microversion, session=session,
                region_name=self.region_name)
        return self._clients[session]

    def _get(self, session, url):
        self.calls += 1
        try:
            _resp, body = self._client(session).client.get(url)
        except nova_exceptions.ClientException as exc:
            raise self.call_failed('GET %s' % url, exc)
        except Exception as exc:
            # keystoneauth's own errors (endpoint not found, connection).
            raise exceptions.ExtractorError(
                'Nova failed on GET %s: %s' % (url, exc))
        if not isinstance(body, dict):
            raise exceptions.ExtractorError(
                'Nova answered GET %s with %s, not a JSON object.'
                % (url, type(body).__name__))
        return body

    def _pages(self, scope, **query):
        """Yield every server of a paged ``/servers/detail`` listing."""
        query = dict(scope.filters(), limit=self.page_size, **query)
        marker = None
        while True:
            if marker:
                query['marker'] = marker
            body = self._get(scope.session, '/servers/detail?%s'
                             % urllib.parse.urlencode(query, doseq=True))
            servers = [s for s in body.get('servers') or ()
                       if isinstance(s, dict) and s.get('id')]
            yield from servers
            more = any(isinstance(link, dict) and link.get('rel') == 'next'
                       for link in body.get('servers_links') or ())
            if not servers or not more or servers[-1]['id'] == marker:
                return
            marker = servers[-1]['id']

    # -- host benchmarks ------------------------------------------------

    def host_benchmarks(self, session=None):
        """Return ``{host: per-core HEPscore23}`` from aggregate metadata.

        Read once a run. When Nova refuses the aggregates (admin-only by
        default) or has none to show, the run warns once and goes on with
        every VM quoting its flavor's benchmark.
        """
        if self._benchmarks is None:
            refused = None
            try:
                body = self._get(session or self.session, '/os-aggregates')
            except (exceptions.PermissionDenied,
                    exceptions.NotAvailable) as exc:
                body, refused = {}, exc
            if refused is not None:
                # Logged outside the handler: oslo.log would add a
                # traceback to a warning.
                self.warn_once(
                    'aggregates', "%s (policy os_compute_api:os-aggregates:"
                    "index, admin's by default): records quote their "
                    "flavor's benchmark, not their host's %s, this run.",
                    _call_refused(refused), keys.AGGREGATE_HEPSCORE)
            self._benchmarks = _aggregate_benchmarks(body)
        return self._benchmarks

    def benchmark_of(self, host, session=None):
        """Return the per-core HEPscore23 of a host, None when unknown."""
        if not host:
            return None
        return self.host_benchmarks(session).get(host)

    # -- records --------------------------------------------------------

    def server_usage(self, server, measured_at, benchmarks=None):
        """Return the ``builders.ServerUsage`` of one server, or None.

        None for a server that never launched (it used nothing).

        :param benchmarks: ``{host: HEPscore23}``; the aggregates read
            once a run when None.
        """
        if not server.get('OS-SRV-USG:launched_at'):
            return None
        project_id = server.get('tenant_id')
        session = self.session_for(project_id)
        flavor = self.flavors.flavor_of(server, session)
        status = (server.get('status') or '').upper()
        ended_at = parse_time(server.get('OS-SRV-USG:terminated_at'))
        if ended_at is None and status in _ENDED:
            ended_at = parse_time(server.get('updated'))
        image = server.get('image')
        host = self.host_of(server)
        return builders.ServerUsage(
            uuid=server['id'],
            project_id=project_id,
            user_id=server.get('user_id'),
            name=server.get('name'),
            status=status,
            started_at=parse_time(server.get('created')),
            ended_at=ended_at,
            measured_at=measured_at,
            vcpus=flavor.vcpus,
            memory_mb=flavor.memory_mb,
            disk_gb=flavor.disk_gb,
            image_id=image.get('id') if isinstance(image, dict) else None,
            host=host,
            flavor_extra_specs=flavor.extra_specs,
            host_benchmark=(benchmarks.get(host) if benchmarks is not None
                            else self.benchmark_of(host, session)),
        )

    def host_of(self, server):
        """Return the host a server runs on, None when Nova hides it."""
        if HOST not in server:
            # Not null but absent: the policy hides it from this user.
            self.warn_once(
                'host', "Nova hides the servers' host from the accounting "
                'user (policy os_compute_api:os-extended-server-attributes, '
                "admin's by default): records quote their flavor's "
                "benchmark, not their host's %s, this run.",
                keys.AGGREGATE_HEPSCORE)
        return server.get(HOST) or None

    def servers(self, since, projects=None):
        """Yield each server to report once, scope by scope.

        In each scope the running servers, then those changed since
        ``since`` that are not running (the first listing had those).
        """
        for scope in self.scopes(projects):
            yield from self._pages(scope, status='ACTIVE')
            for server in self._pages(scope, **{
                    'changes-since': _iso(since)}):
                if (server.get('status') or '').upper() != 'ACTIVE':
                    yield server

    def usages(self, since, until, projects=None, benchmarks=None):
        """Yield lists of ``ServerUsage``, one list per page or less.

        :param benchmarks: ``{host: HEPscore23}``; the aggregates read
            once a run when None.
        """
        batch = []
        for server in self.servers(since, projects):
            usage = self.server_usage(server, until, benchmarks)
            if usage is not None:
                batch.append(usage)
            if len(batch) >= self.page_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def named_image(self, usage):
        """Return ``usage`` with its ImageId in place of its Glance id.

        After the measured usage refined it, so that a Glance id only the
        usage ledger knew gets its name too.
        """
        image_id = self.images.get(usage.image_id,
                                   self.session_for(usage.project_id))
        if image_id == usage.image_id:
            return usage
        return dataclasses.replace(usage, image_id=image_id)

    def extract(self, since, until, context, projects=None):
        seen = set()
        for batch in self.usages(since, until, projects):
            for usage in context.refine_usages(batch):
                seen.add(usage.uuid)
                yield builders.build_cloud_record(self.named_image(usage),
                                                  context)
        # Exact usage: VMs the usage ledger saw in the window that the API
        # no longer lists (created and purged between two runs). Their
        # host's aggregate still gives their benchmark.
        for usage in context.unseen_usages(since, until, seen, projects):
            if usage.host_benchmark is None:
                usage = dataclasses.replace(
                    usage, host_benchmark=self.benchmark_of(
                        usage.host, self.session_for(usage.project_id)))
            yield builders.build_cloud_record(self.named_image(usage),
                                              context)
