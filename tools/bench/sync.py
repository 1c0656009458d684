"""Sync part: 200 appliances of 256 MiB into a real glance-api by location.

Starts Debian's docker-registry (with its access log, to count the bytes
it serves) and glance-api as a site runs it: one process per core on a
PostgreSQL server (``stratuslab_plugins.sandbox.postgres``, fsync off, in
``/dev/shm``), configured as the README's appliance-sync section asks
(``do_secure_hash = False``). Where PostgreSQL or psycopg2 is missing,
one process on SQLite (which serialises every writer); the first lines
say which. It pushes ``STRATUSLAB_BENCH_SYNC_BLOBS`` (4) distinct blobs of
``STRATUSLAB_BENCH_SYNC_MIB`` MiB (256), signs a HEPiX list of
``STRATUSLAB_BENCH_SYNC_COUNT`` (200) appliances spread over them (each
its own appliance and image: Glance and the sync handle every location
on its own; sharing blobs only keeps the registry small) and measures:

* the first sync, until every image is active (target: under 60 s on 2
  cores), with the registry bytes read meanwhile (target: under 1% of
  the images' bytes), the sync's own CPU per appliance and glance-api's
  (per worker process, to show the calls spread over them);
* an unchanged re-sync (target: under 5 s, no write call, counted on the
  HTTP session rather than by the sync itself);
* the baseline, in the same run: the same appliances imported by copying,
  atrope's approach (download every image, verify it, upload it into
  Glance; our ``import`` mode does exactly that), with its time and the
  bytes it moves. Copying 50 GiB would fill this machine's memory and
  hold its shared cores for minutes, so it copies the first
  ``STRATUSLAB_BENCH_SYNC_COPY_COUNT`` (20) appliances and prints the
  figures measured and scaled to all of them (copy cost is linear in
  bytes; set the count to the full number to measure it all);
* for scale, by location with Glance's default ``do_secure_hash = True``
  on ``STRATUSLAB_BENCH_SYNC_HASHED_COUNT`` (4) appliances, on a second
  glance-api: the image bytes Glance then reads and its CPU per GiB.

atrope itself is not run (it needs Keystone). Glance's stores and the
registry live in ``/dev/shm``: flushes to a disk shared with other jobs
would otherwise swamp what is measured, for both sides. Every figure is
wall time on this machine, which may be shared: the load average is
printed before and after.
"""

import collections
import contextlib
import io
import os
import shutil
import tempfile
import time

import psutil

from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins.image import sync as glance_sync
from stratuslab_plugins.sandbox import glance_api
from stratuslab_plugins.sandbox import pki
from stratuslab_plugins.sandbox import postgres
from stratuslab_plugins.sandbox import registry as sandbox_registry

MiB = 1024 * 1024
COUNT = int(os.environ.get('STRATUSLAB_BENCH_SYNC_COUNT', '200'))
SIZE = int(os.environ.get('STRATUSLAB_BENCH_SYNC_MIB', '256')) * MiB
BLOBS = int(os.environ.get('STRATUSLAB_BENCH_SYNC_BLOBS', '4'))
COPY_COUNT = min(COUNT, int(os.environ.get(
    'STRATUSLAB_BENCH_SYNC_COPY_COUNT', '20')))
HASHED_COUNT = min(COUNT, int(os.environ.get(
    'STRATUSLAB_BENCH_SYNC_HASHED_COUNT', '4')))
WORKERS = int(os.environ.get('STRATUSLAB_BENCH_SYNC_WORKERS', '8'))
PROJECT = '0123456789abcdef0123456789abcdef'
VO = 'bench.example.org'
TASK_TIMEOUT = 900
#: glance-api.conf as the README asks for registration by location.
NO_READ = {'DEFAULT': {'do_secure_hash': 'False'}}


class _Writes:
    """Counts the non-read HTTP calls a session makes."""

    def __init__(self, session):
        self.count = 0
        session.session.hooks['response'].append(self)

    def __call__(self, response, *args, **kwargs):
        if response.request.method not in ('GET', 'HEAD'):
            self.count += 1


class _Bench:
    """The services, the lists and the figures of one run."""

    def __init__(self, work_dir, stack):
        self.work_dir = work_dir
        self.stack = stack
        self.registry = sandbox_registry.Registry(
            os.path.join(work_dir, 'registry'), access_log=True)
        self.registry.start()
        stack.callback(self.registry.stop)
        self.client = registry.RegistryClient(self.registry.url)
        self.lists = {}

    # -- sources ----------------------------------------------------------

    def publish(self):
        """Push the blobs; sign the lists of all and of the subsets."""
        blobs = []
        for _ in range(BLOBS):
            data = os.urandom(SIZE)
            blobs.append(self.client.push_blob('bench/sync', io.BytesIO(data),
                                               size=len(data)))
            del data
        appliances = [model.new_appliance(
            blobs[index % BLOBS], 'Appliance %d' % index, disk_format='raw',
            version='1', locations=[self.client.blob_url(
                'bench/sync', blobs[index % BLOBS].digest)])
            for index in range(COUNT)]
        ca = pki.make_ca()
        self.ca_path = pki.write_ca_dir(os.path.join(self.work_dir, 'cas'),
                                        ca)
        endorser = pki.issue(ca, 'Bench Endorser', email='bench@example.org')
        for name, count in (('all', COUNT), ('copy', COPY_COUNT),
                            ('hashed', HASHED_COUNT)):
            listed = image_list.ImageList.new(
                'Bench list', model.Endorser(dn='x', ca='y'),
                appliances[:count], vo=VO)
            path = os.path.join(self.work_dir, name + '.list')
            with open(path, 'wb') as f:
                f.write(listed.sign(endorser.cert_pem(), endorser.key_pem()))
            self.lists[name] = path

    def subscription(self, name, tag, **settings):
        return subscriptions.parse({'vos': {VO: dict(
            sources=[{'image_list': self.lists[name]}], ca_path=self.ca_path,
            tag=tag, projects=[PROJECT], **settings)}})[VO]

    # -- Glance -----------------------------------------------------------

    def glance(self, name, options, site_like=True):
        """Start a glance-api (see the module docstring); return it."""
        settings = dict(
            work_dir=os.path.join(self.work_dir, name),
            enabled_backends={'local': 'file', 'repo': 'appliance'},
            default_backend='local', options=options, threads=16,
            backend_options={'repo': {
                'appliance_registry_url': self.registry.url}})
        missing = postgres.available() if site_like else 'not asked for'
        if missing:
            api = glance_api.GlanceAPI(**settings)
            api.described = '1 glance-api process on SQLite (%s)' % missing
            api.database = None
        else:
            server = postgres.PostgreSQL()
            server.start()
            self.stack.callback(server.stop)
            api = glance_api.GlanceAPI(
                workers=os.cpu_count(),
                database_url=server.create_database('glance'), **settings)
            api.described = ('%d glance-api processes on PostgreSQL'
                             % os.cpu_count())
            api.database = server
        api.start()
        self.stack.callback(api.stop)
        api.processes = [psutil.Process(pid) for pid in api.pids]
        return api

    def syncer(self, api):
        session = api.session()
        # Adding a location of a non-http store needs the service role.
        session.additional_headers['X-Service-Roles'] = 'service'
        writes = _Writes(session)
        import openstack.connection

        conn = openstack.connection.Connection(
            session=session, image_endpoint_override=api.url)
        catalog = glance_sync.GlanceCatalog(conn, workers=WORKERS)
        return runner.Synchronizer(catalog, lambda url: self.client,
                                   workers=WORKERS), writes


def _cpu(processes):
    """User + system CPU seconds of ``processes`` so far (gone ones: 0)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _database_processes(api):
    """The PostgreSQL server of ``api`` and its backends, if any."""
    if api.database is None:
        return []
    with contextlib.suppress(psutil.NoSuchProcess, AttributeError):
        server = psutil.Process(api.database.process.pid)
        return [server] + server.children(recursive=True)
    return []


def _wait_active(catalog, tag, count):
    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        images = catalog.managed_images(tag)
        if len(images) == count and all(i.status == 'active'
                                        for i in images):
            return
        if time.monotonic() > deadline:
            raise RuntimeError('images of %s never all became active' % tag)
        time.sleep(0.5)


class _Run:
    """One timed sync: wall, CPU of each side, registry bytes."""

    def __init__(self, bench, api, syncer, subscription, count):
        self.report = None
        me = psutil.Process()
        database = _database_processes(api)
        mark = bench.registry.log_offset()
        before = (_cpu([me]), [_cpu([p]) for p in api.processes],
                  _cpu(database))
        started = time.monotonic()
        self.report, = syncer.run([subscription])
        self.calls = time.monotonic() - started
        if not self.report.ok:
            raise RuntimeError('%s: %s' % (self.report.summary(),
                                           self.report.failed[:3]))
        if self.report.planned:
            _wait_active(syncer.catalog, subscription.tag, count)
        self.seconds = time.monotonic() - started
        time.sleep(0.5)     # the registry logs an answer as it ends
        self.served = bench.registry.served(mark)
        self.bytes = sum(served.size for served in self.served)
        self.sync_cpu = _cpu([me]) - before[0]
        self.glance_cpu = [_cpu([p]) - cpu
                           for p, cpu in zip(api.processes, before[1])]
        self.database_cpu = _cpu(_database_processes(api)) - before[2]


def _methods(served):
    counts = collections.Counter(request.method for request in served)
    return ', '.join('%d %s' % (n, method) for method, n in sorted(
        counts.items())) or 'none'


def _line(name, value, unit, note=''):
    text = '%d' % value if unit == 'bytes' or unit == 'calls' else \
        '%.2f' % value
    print('sync %s: %s %s%s' % (name, text, unit,
                                ' (%s)' % note if note else ''),
          flush=True)


def run():
    print('sync load average before the run: %.2f' % os.getloadavg()[0])
    work_dir = tempfile.mkdtemp(prefix='bench-sync-', dir=(
        '/dev/shm' if os.path.isdir('/dev/shm') else None))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        bench = _Bench(work_dir, stack)
        bench.publish()
        api = bench.glance('glance', NO_READ)
        print('sync Glance: %s, on %d cores, do_secure_hash = False; '
              '%d appliances of %d MiB over %d distinct blobs'
              % (api.described, os.cpu_count(), COUNT, SIZE // MiB, BLOBS),
              flush=True)
        copy = _copy_baseline(bench, api)
        first = _by_location(bench, api, copy)
        if HASHED_COUNT:
            _glance_hashing(bench, sum(first.glance_cpu) / COUNT)
    print('sync load average after the run: %.2f' % os.getloadavg()[0])


def _copy_baseline(bench, api):
    syncer, _ = bench.syncer(api)
    subscription = bench.subscription('copy', 'bench-copy', mode='import',
                                      store='local')
    copy = _Run(bench, api, syncer, subscription, COPY_COUNT)
    scale = COUNT / COPY_COUNT
    note = 'measured on %d appliances, x%.0f' % (COPY_COUNT, scale)
    _line('baseline: atrope-style copy of %d appliances, time' % COUNT,
          copy.seconds * scale, 's', note)
    _line('baseline: registry bytes read by the copy', copy.bytes * scale
          / 1024 ** 3, 'GiB', note)
    _line('baseline: the sync\'s CPU per appliance, copying',
          1000 * copy.sync_cpu / COPY_COUNT, 'ms')
    # Free the copies' memory (/dev/shm) before what is measured next.
    for image in syncer.catalog.managed_images(subscription.tag):
        syncer.catalog.delete(image.id)
    return copy


def _by_location(bench, api, copy):
    syncer, writes = bench.syncer(api)
    subscription = bench.subscription('all', 'bench-location')
    first = _Run(bench, api, syncer, subscription, COUNT)
    image_bytes = COUNT * SIZE
    scaled_copy = copy.seconds * COUNT / COPY_COUNT
    _line('first sync by location, %d appliances, until all active '
          '(target < 60 s)' % COUNT, first.seconds, 's',
          'calls done after %.1f s; baseline copy %.0f s, ratio %.3f'
          % (first.calls, scaled_copy, first.seconds / scaled_copy))
    _line('registry bytes read during the first sync (target < 1%% of '
          '%.0f GiB)' % (image_bytes / 1024 ** 3), first.bytes, 'bytes',
          '%.4f%% of the images\' bytes, in %d answers (%s); baseline '
          'copy %.0f GiB' % (100.0 * first.bytes / image_bytes,
                             len(first.served), _methods(first.served),
                             copy.bytes * COUNT / COPY_COUNT / 1024 ** 3))
    _line('the sync\'s CPU per appliance, first sync',
          1000 * first.sync_cpu / COUNT, 'ms')
    _line('glance-api CPU per appliance, first sync',
          1000 * sum(first.glance_cpu) / COUNT, 'ms',
          'per worker process: %s s' % ', '.join(
              '%.1f' % cpu for cpu in first.glance_cpu))
    _line('database server CPU per appliance, first sync',
          1000 * first.database_cpu / COUNT, 'ms')
    _line('Glance\'s floor under the first sync on %d cores (its and its '
          'database\'s CPU / cores)' % os.cpu_count(),
          (sum(first.glance_cpu) + first.database_cpu) / os.cpu_count(), 's')

    writes.count = 0
    again = _Run(bench, api, syncer, subscription, COUNT)
    _line('unchanged re-sync (target < 5 s)', again.seconds, 's',
          'CPU: the sync %.1f s, glance-api %.1f s, its database %.1f s'
          % (again.sync_cpu, sum(again.glance_cpu), again.database_cpu))
    _line('write calls of the unchanged re-sync (target 0)', writes.count,
          'calls')
    _line('registry bytes read by the unchanged re-sync', again.bytes,
          'bytes')
    if writes.count or again.report.planned:
        raise RuntimeError('the unchanged re-sync wrote: %s' % [
            a.describe() for a in again.report.planned][:5])
    return first


def _glance_hashing(bench, per_appliance):
    """By location with Glance's default: what the setting saves.

    :param per_appliance: glance-api's CPU per appliance without hashing,
        subtracted to give the CPU the hashing itself costs per GiB.
    """
    api = bench.glance('glance-hashing', {}, site_like=False)
    syncer, _ = bench.syncer(api)
    subscription = bench.subscription('hashed', 'bench-hashed')
    hashed = _Run(bench, api, syncer, subscription, HASHED_COUNT)
    gib = HASHED_COUNT * SIZE / 1024 ** 3
    note = 'Glance\'s default do_secure_hash = True, %d appliances, %s' % (
        HASHED_COUNT, api.described)
    _line('for scale: registry bytes read per image byte registered',
          hashed.bytes / (HASHED_COUNT * SIZE), 'bytes/byte', note)
    _line('for scale: glance-api CPU per GiB registered, beyond its CPU '
          'per appliance without hashing',
          (sum(hashed.glance_cpu) - HASHED_COUNT * per_appliance) / gib,
          's', note)
    _line('for scale: time per appliance until active',
          hashed.seconds / HASHED_COUNT, 's', note)
