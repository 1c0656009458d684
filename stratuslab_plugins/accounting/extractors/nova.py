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
4. the flavor list, once, only when a server does not embed its whole
   flavor: the extra specs a policy hides, or the sizes themselves
   (a Nova older than microversion 2.47, Pike, gives only the flavor's
   id; a proxy may drop it); then each flavor's extra specs once.

Pages are turned into records as they arrive, so memory does not grow
with the number of servers. A size no source gives (the flavor deleted
since, or not named at all) stays unknown: the record leaves CpuCount,
Memory or Disk out rather than write 0.

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
import typing
import urllib.parse

from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting.extractors import images
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


def _size(value):
    """Return a flavor size as an int, None when Nova did not say.

    Whatever is not a whole number of 0 or more (absent, empty, mangled
    by a proxy) is unknown: the record leaves the field out.
    """
    if isinstance(value, bool) or (isinstance(value, float)
                                   and not value.is_integer()):
        return None
    try:
        size = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return size if size >= 0 else None


def _text(value):
    """Return a name or id Nova gave as a string, None when it gave none."""
    if value in (None, '') or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def _object(value):
    """Return a JSON object Nova gave, None when it gave something else."""
    return value if isinstance(value, dict) else None


@dataclasses.dataclass
class Flavor:
    """What a server's flavor tells the record; None is unknown, not 0.

    :param disk_gb: root plus ephemeral disk, as cASO and APEL count it.
    :param extra_specs: None until read.
    """

    vcpus: typing.Optional[int] = None
    memory_mb: typing.Optional[int] = None
    disk_gb: typing.Optional[int] = None
    extra_specs: typing.Optional[dict] = None

    @classmethod
    def _of(cls, vcpus, ram, disk, ephemeral, extra_specs):
        root, ephemeral = _size(disk), _size(ephemeral)
        return cls(vcpus=_size(vcpus), memory_mb=_size(ram),
                   disk_gb=(root + ephemeral
                            if None not in (root, ephemeral) else None),
                   extra_specs=extra_specs)

    @classmethod
    def embedded(cls, flavor):
        """From the flavor a server embeds (microversion 2.47 and later)."""
        return cls._of(flavor.get('vcpus'), flavor.get('ram'),
                       flavor.get('disk'), flavor.get('ephemeral'),
                       _object(flavor.get('extra_specs')))

    @classmethod
    def listed(cls, flavor):
        """From an entry of ``GET /flavors/detail`` or ``/flavors/{id}``."""
        return cls._of(flavor.get('vcpus'), flavor.get('ram'),
                       flavor.get('disk'),
                       flavor.get('OS-FLV-EXT-DATA:ephemeral'),
                       _object(flavor.get('extra_specs')))


class NovaExtractor(base.Extractor):
    """Cloud records from Nova's servers API."""

    kinds = ('cloud', 'accelerator')
    service = 'Nova'
    needed = ('the admin role (Nova policies '
              'os_compute_api:servers:detail:get_all_tenants, '
              'os_compute_api:os-aggregates:index, '
              'os_compute_api:servers:show:flavor-extra-specs, '
              'os_compute_api:os-extended-server-attributes)')

    #: The compute API microversion asked for (2.47 embeds the flavor).
    microversion = MICROVERSION

    def __init__(self, conf, session, region_name=None):
        super().__init__(conf, session, region_name)
        self.page_size = conf.accounting.page_size
        self.client = nova_client.Client(
            self.microversion, session=session, region_name=region_name)
        self._flavors = None
        self._flavor_ids = None
        self._flavor_specs = {}
        self.images = images.ImageIds(
            conf.accounting.image_id_source, self.page_size,
            lambda session: self.adapter('image', session))
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

    def _listed_flavors(self):
        """Return ``{id: flavor}`` and ``{name: id}`` of the flavor list.

        Read once a run, with every flavor an admin may see
        (``is_public=None``; Nova shows others the public ones and those
        their project may use).
        """
        if self._flavors is None:
            body = self._get('/flavors/detail?is_public=None')
            flavors = body.get('flavors') or ()
            self._flavors = {f['id']: f for f in flavors if f.get('id')}
            self._flavor_ids = {f['name']: f['id'] for f in flavors
                                if f.get('name') and f.get('id')}
        return self._flavors, self._flavor_ids

    def _listed_flavor(self, flavor_id=None, name=None):
        """Return the flavor list's entry for an id or a name, or None.

        A flavor missing from the list (deleted since, or private to
        another project) is read on its own once; a 404 leaves it unknown.
        """
        if not (flavor_id or name):
            return None
        flavors, ids = self._listed_flavors()
        flavor_id = flavor_id or ids.get(name)
        if flavor_id is None:
            return None
        if flavor_id not in flavors:
            try:
                flavors[flavor_id] = _object(self._get(
                    '/flavors/%s' % urllib.parse.quote(flavor_id)).get(
                        'flavor'))
            except exceptions.NotAvailable:
                flavors[flavor_id] = None
        return flavors[flavor_id]

    def _extra_specs(self, flavor_id):
        """Return a listed flavor's extra specs, each flavor read once."""
        if flavor_id not in self._flavor_specs:
            body = self._get('/flavors/%s/os-extra_specs'
                             % urllib.parse.quote(flavor_id))
            self._flavor_specs[flavor_id] = _object(
                body.get('extra_specs')) or {}
        return self._flavor_specs[flavor_id]

    def flavor_of(self, server):
        """Return the :class:`Flavor` a server runs with.

        Microversion 2.47 embeds the flavor (sizes, ``original_name``, and
        the extra specs when the policy shows them). A Nova older than
        that, or a proxy that rewrites the server, gives only the flavor's
        id, or nothing: the sizes then come from the flavor list, and a
        size nobody knows stays None rather than 0.
        """
        embedded = server.get('flavor')
        if not isinstance(embedded, dict):
            embedded = {}
        if 'vcpus' in embedded:
            flavor = Flavor.embedded(embedded)
            if flavor.extra_specs is None:
                listed = self._listed_flavor(
                    name=_text(embedded.get('original_name')))
                flavor.extra_specs = (self._extra_specs(listed['id'])
                                      if listed else {})
            return flavor
        listed = self._listed_flavor(flavor_id=_text(embedded.get('id')))
        if listed is None:
            return Flavor(extra_specs={})
        flavor = Flavor.listed(listed)
        if flavor.extra_specs is None:
            flavor.extra_specs = self._extra_specs(listed['id'])
        return flavor

    # -- records --------------------------------------------------------

    def server_usage(self, server, measured_at, benchmarks):
        """Return the ``records.ServerUsage`` of one server, or None.

        None for a server that never launched (it used nothing).
        """
        if not server.get('OS-SRV-USG:launched_at'):
            return None
        flavor = self.flavor_of(server)
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
            vcpus=flavor.vcpus,
            memory_mb=flavor.memory_mb,
            disk_gb=flavor.disk_gb,
            image_id=image.get('id') if isinstance(image, dict) else None,
            host=host,
            flavor_extra_specs=flavor.extra_specs,
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

    def named_image(self, usage):
        """Return ``usage`` with its ImageId in place of its Glance id.

        After the measured usage refined it, so that a Glance id only the
        usage ledger knew gets its name too.
        """
        image_id = self.images.get(usage.image_id, self.session)
        if image_id == usage.image_id:
            return usage
        return dataclasses.replace(usage, image_id=image_id)

    def extract(self, since, until, context, projects=None):
        seen = set()
        benchmarks = self.host_benchmarks()
        for batch in self.usages(since, until, projects, benchmarks):
            for usage in context.refine_usages(batch):
                seen.add(usage.uuid)
                yield records.build_cloud_record(self.named_image(usage),
                                                 context)
        # Exact usage: VMs the usage ledger saw in the window that the API
        # no longer lists (created and purged between two runs). Their
        # host's aggregate still gives their benchmark.
        for usage in context.unseen_usages(since, until, seen, projects):
            if usage.host_benchmark is None:
                usage = dataclasses.replace(
                    usage, host_benchmark=benchmarks.get(usage.host))
            yield records.build_cloud_record(self.named_image(usage),
                                             context)
