"""The ``nova`` extractor: every VM of every project, one paged listing.

cASO asked Nova project by project, and only for servers changed since its
last run, so a VM running for months vanished from the reports. Here a
run makes, for all projects at once (``all_tenants``):

1. a paged listing of every server still running (``status=ACTIVE``):
   each is re-reported every run with durations cumulative since it
   started, which the repository REPLACEs;
2. a paged listing of everything that changed since the window's start
   (``changes-since``: stopped, resized, deleted...), minus the running
   ones already reported;
3. one listing of aggregates, for the hosts' ``grid_hepscore``;
4. flavors only when a server's embedded flavor lacks its extra specs
   (a policy may hide them), each flavor read once.

Pages are turned into records as they arrive, so memory does not grow
with the number of servers. Microversion 2.47 (Nova Pike) embeds the
flavor in the server.

Start time: Nova rewrites ``launched_at`` on resize, rebuild and unshelve,
so the record starts at the server's ``created`` time (a VM never
launched has no usage and is skipped). End time: ``terminated_at`` of a
deleted server; for a server shut off (or shelved and offloaded) the time
Nova last changed it, ``updated``, which is when it stopped unless it was
changed again since. The API knows neither suspended time nor CPU time;
the notification ledger and the libvirt agent do.

Least privilege (``[accounting_keystone]`` user): Nova's policies
``os_compute_api:servers:detail:get_all_tenants``,
``os_compute_api:servers:show:flavor-extra-specs``,
``os_compute_api:os-aggregates:index`` and
``os_compute_api:os-extended-server-attributes`` (the host), which the
``admin`` role holds by default; a refused call is reported by name.
"""

import dataclasses
import datetime
import logging
import urllib.parse

from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting import records
from stratuslab_plugins.grid import keys

LOG = logging.getLogger(__name__)

MICROVERSION = '2.47'
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


class NovaExtractor(base.Extractor):
    """Cloud records from Nova's servers API."""

    kinds = ('cloud', 'accelerator')
    service = 'Nova'
    needed = ('the admin role (Nova policies '
              'os_compute_api:servers:detail:get_all_tenants, '
              'os_compute_api:os-aggregates:index, '
              'os_compute_api:servers:show:flavor-extra-specs, '
              'os_compute_api:os-extended-server-attributes)')

    def __init__(self, conf, session, region_name=None, client=None):
        super().__init__(conf, session, region_name)
        self.page_size = conf.accounting.page_size
        self.client = client or nova_client.Client(
            MICROVERSION, session=session, region_name=region_name)
        self._flavors = None
        self._flavor_specs = {}
        self.calls = 0

    # -- HTTP -----------------------------------------------------------

    def _get(self, url):
        self.calls += 1
        try:
            _resp, body = self.client.client.get(url)
        except nova_exceptions.ClientException as exc:
            raise self.call_failed('GET %s' % url, exc)
        except Exception as exc:
            # keystoneauth's own errors (endpoint not found, connection).
            raise exceptions.ExtractorError(
                'Nova failed on GET %s: %s' % (url, exc))
        return body

    def _pages(self, query):
        """Yield every server of a paged ``/servers/detail`` listing."""
        query = dict(query, all_tenants=1, limit=self.page_size)
        marker = None
        while True:
            if marker:
                query['marker'] = marker
            body = self._get('/servers/detail?%s' % urllib.parse.urlencode(
                query, doseq=True))
            servers = body.get('servers') or []
            yield from servers
            more = any(link.get('rel') == 'next'
                       for link in body.get('servers_links') or ())
            if not servers or not more:
                return
            marker = servers[-1]['id']

    # -- caches ---------------------------------------------------------

    def host_benchmarks(self):
        """Return ``{host: per-core HEPscore23}`` from aggregate metadata."""
        body = self._get('/os-aggregates')
        result = {}
        for aggregate in body.get('aggregates') or ():
            value = (aggregate.get('metadata') or {}).get(
                keys.AGGREGATE_HEPSCORE)
            if value in (None, ''):
                continue
            try:
                score = float(value)
            except ValueError:
                LOG.warning('Aggregate %s has %s=%r, not a number; its hosts'
                            ' get the flavor benchmark instead.',
                            aggregate.get('name'), keys.AGGREGATE_HEPSCORE,
                            value)
                continue
            for host in aggregate.get('hosts') or ():
                result.setdefault(host, score)
        return result

    def _flavor_extra_specs(self, flavor):
        """Return a server's flavor extra specs, reading flavors once."""
        if 'extra_specs' in flavor:
            return flavor['extra_specs'] or {}
        name = flavor.get('original_name') or flavor.get('id')
        if self._flavors is None:
            body = self._get('/flavors/detail?is_public=None')
            self._flavors = {f['name']: f['id']
                             for f in body.get('flavors') or ()}
            self._flavors.update({f['id']: f['id']
                                  for f in body.get('flavors') or ()})
        flavor_id = self._flavors.get(name)
        if flavor_id is None:
            return {}
        if flavor_id not in self._flavor_specs:
            body = self._get('/flavors/%s/os-extra_specs' % flavor_id)
            self._flavor_specs[flavor_id] = body.get('extra_specs') or {}
        return self._flavor_specs[flavor_id]

    # -- records --------------------------------------------------------

    def server_usage(self, server, measured_at, benchmarks):
        """Return the ``records.ServerUsage`` of one server, or None.

        None for a server that never launched (it used nothing).
        """
        if not server.get('OS-SRV-USG:launched_at'):
            return None
        flavor = server.get('flavor') or {}
        status = (server.get('status') or '').upper()
        ended_at = parse_time(server.get('OS-SRV-USG:terminated_at'))
        if ended_at is None and status in _ENDED:
            ended_at = parse_time(server.get('updated'))
        image = server.get('image')
        host = server.get('OS-EXT-SRV-ATTR:host')
        return records.ServerUsage(
            uuid=server['id'],
            project_id=server.get('tenant_id'),
            user_id=server.get('user_id'),
            name=server.get('name'),
            status=status,
            started_at=parse_time(server.get('created')),
            ended_at=ended_at,
            measured_at=measured_at,
            vcpus=flavor.get('vcpus'),
            memory_mb=flavor.get('ram'),
            disk_gb=(flavor.get('disk') or 0) + (flavor.get('ephemeral')
                                                 or 0),
            image_id=image.get('id') if isinstance(image, dict) else None,
            host=host,
            flavor_extra_specs=self._flavor_extra_specs(flavor),
            host_benchmark=benchmarks.get(host),
        )

    def servers(self, since, projects=None):
        """Yield each server to report once: running, then changed."""
        scopes = [{'project_id': p} for p in projects] if projects else [{}]
        for scope in scopes:
            yield from self._pages(dict(scope, status='ACTIVE'))
        for scope in scopes:
            for server in self._pages(dict(scope, **{
                    'changes-since': _iso(since)})):
                # Running servers were all reported by the first listing.
                if (server.get('status') or '').upper() != 'ACTIVE':
                    yield server

    def usages(self, since, until, projects=None, benchmarks=None):
        """Yield lists of ``ServerUsage``, one list per page or less.

        :param benchmarks: ``host_benchmarks()``, read here when None.
        """
        if benchmarks is None:
            benchmarks = self.host_benchmarks()
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

    def extract(self, since, until, context, projects=None):
        seen = set()
        benchmarks = self.host_benchmarks()
        for batch in self.usages(since, until, projects, benchmarks):
            for usage in context.refine_usages(batch):
                seen.add(usage.uuid)
                yield records.build_cloud_record(usage, context)
        # Exact usage: VMs the usage ledger saw in the window that the API
        # no longer lists (created and purged between two runs). Their
        # host's aggregate still gives their benchmark.
        for usage in context.unseen_usages(since, until, seen, projects):
            if usage.host_benchmark is None:
                usage = dataclasses.replace(
                    usage, host_benchmark=benchmarks.get(usage.host))
            yield records.build_cloud_record(usage, context)
