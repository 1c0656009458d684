"""Sync part: a signed list of 200 appliances into a real glance-api.

Starts Debian's docker-registry and a glance-api process (the sandbox
harnesses the functional tests use), pushes ``STRATUSLAB_BENCH_SYNC_COUNT``
appliances (200) of ``STRATUSLAB_BENCH_SYNC_KIB`` KiB (1024) each, signs
one HEPiX list of them with a throw-away CA, and measures:

* the first sync by location (issue 9 target: under 30 s), beside the
  copy approach atrope takes (download every image, verify it, upload it
  into Glance), measured in the same run on the same list and Glance (our
  ``import`` mode does exactly that), with the bytes each copies;
* how long Glance takes to validate every location (it reads each image
  once through the ``appliance`` store to check its SHA-512);
* an unchanged re-sync (target: under 5 s, no write call), with the write
  calls counted on the HTTP session, not by the sync itself.

atrope itself is not run: it needs Keystone, which the harness does not
start; its approach is reproduced with our import mode instead.

Glance runs as a site runs it: one glance-api process per core on a
PostgreSQL server (``stratuslab_plugins.sandbox.postgres``, fsync off, in
``/dev/shm``), or, where PostgreSQL or psycopg2 is missing, one process on
SQLite (which serialises every writer, so a second process would not
help); the first line says which. Glance's stores live in ``/dev/shm``
too: the harness' flushes on a disk shared with other jobs would
otherwise swamp what is measured (the sync's calls), for both sides.
Every figure is wall time on this machine: the 1-minute load average is
printed first, since the machine may be shared.

Glance itself does most of the work of a registration (its ORM, and the
location-import task that re-reads each image to check its SHA-512), so
the run also prints glance-api's CPU time per appliance and the floor it
puts under the first sync on this machine's cores.
"""

import contextlib
import io
import os
import random
import shutil
import tempfile
import time

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack.connection
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

COUNT = int(os.environ.get('STRATUSLAB_BENCH_SYNC_COUNT', '200'))
SIZE = int(os.environ.get('STRATUSLAB_BENCH_SYNC_KIB', '1024')) * 1024
WORKERS = int(os.environ.get('STRATUSLAB_BENCH_SYNC_WORKERS', '8'))
PROJECT = '0123456789abcdef0123456789abcdef'
TASK_TIMEOUT = 600


class _Writes:
    """Counts the non-read HTTP calls a session makes."""

    def __init__(self, session):
        self.count = 0
        session.session.hooks['response'].append(self)

    def __call__(self, response, *args, **kwargs):
        if response.request.method not in ('GET', 'HEAD'):
            self.count += 1


def _publish(client, work_dir):
    generator = random.Random(9)
    ca = pki.make_ca()
    ca_path = pki.write_ca_dir(os.path.join(work_dir, 'cas'), ca)
    endorser = pki.issue(ca, 'Bench Endorser', email='bench@example.org')
    appliances = []
    for index in range(COUNT):
        checksums = client.push_blob('bench/sync', io.BytesIO(
            generator.randbytes(SIZE)))
        appliances.append(model.new_appliance(
            checksums, 'Appliance %d' % index, disk_format='raw',
            version='1', locations=[client.blob_url('bench/sync',
                                                    checksums.digest)]))
    listed = image_list.ImageList.new('Bench list', model.Endorser(
        dn='x', ca='y'), appliances, vo='bench.example.org')
    path = os.path.join(work_dir, 'bench.list')
    with open(path, 'wb') as f:
        f.write(listed.sign(endorser.cert_pem(), endorser.key_pem()))
    return path, ca_path


def _subscription(path, ca_path, tag, **settings):
    return subscriptions.parse({'vos': {'bench.example.org': dict(
        sources=[{'image_list': path}], ca_path=ca_path, tag=tag,
        projects=[PROJECT], **settings)}})['bench.example.org']


def _cpu(processes):
    """User + system CPU seconds of ``processes`` so far (gone ones: 0)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _server_cpu(process):
    """CPU seconds of a server and of every child it has had (backends)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        times = process.cpu_times()
        return (times.children_user + times.children_system
                + _cpu([process] + process.children(recursive=True)))
    return 0.0


def _glance(registry_url, work_dir, stack):
    """Start glance-api as described above; return it and a description."""
    options = dict(
        work_dir=os.path.join(work_dir, 'glance'),
        enabled_backends={'local': 'file', 'repo': 'appliance'},
        default_backend='local',
        backend_options={'repo': {'appliance_registry_url': registry_url}},
        threads=16)
    missing = postgres.available()
    if missing:
        api = glance_api.GlanceAPI(**options)
        described = '1 glance-api process on SQLite (%s)' % missing
    else:
        database = postgres.PostgreSQL()
        database.start()
        stack.callback(database.stop)
        api = glance_api.GlanceAPI(
            workers=os.cpu_count(),
            database_url=database.create_database('glance'), **options)
        described = ('%d glance-api processes on PostgreSQL'
                     % os.cpu_count())
    api.start()
    stack.callback(api.stop)
    return api, described


def _timed_run(syncer, subscription, glance=()):
    """Run once; return wall seconds, the report and CPU seconds.

    The CPU seconds are ``(this process, glance-api's processes)``.
    """
    me = [psutil.Process()]
    cpu = (_cpu(me), _cpu(glance))
    started = time.monotonic()
    report, = syncer.run([subscription])
    elapsed = time.monotonic() - started
    if not report.ok:
        raise RuntimeError('%s: %s' % (report.summary(), report.failed[:3]))
    return elapsed, report, (_cpu(me) - cpu[0], _cpu(glance) - cpu[1])


def _wait_active(catalog, tag):
    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        images = catalog.managed_images(tag)
        if images and all(i.status == 'active' for i in images):
            return
        if time.monotonic() > deadline:
            raise RuntimeError('images of %s never all became active' % tag)
        time.sleep(0.5)


def _connection(api):
    headers = dict(api.identity_headers, **{'X-Service-Roles': 'service'})
    session = ks_session.Session(auth=noauth.NoAuth(endpoint=api.url),
                                 additional_headers=headers)
    writes = _Writes(session)
    return openstack.connection.Connection(
        session=session, image_endpoint_override=api.url), writes


def _line(name, value, unit, baseline=None):
    if baseline is None:
        print('%s: %.2f %s' % (name, value, unit), flush=True)
        return
    base_name, base_value = baseline
    print('%s: %.2f %s (baseline %s: %.2f %s, ratio %.2f)'
          % (name, value, unit, base_name, base_value, unit,
             value / base_value if base_value else float('nan')),
          flush=True)


def run():
    print('sync load average before the run: %.2f' % os.getloadavg()[0])
    work_dir = tempfile.mkdtemp(prefix='bench-sync-', dir=(
        '/dev/shm' if os.path.isdir('/dev/shm') else None))
    os.makedirs(os.path.join(work_dir, 'registry'))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        reg = sandbox_registry.Registry(os.path.join(work_dir, 'registry'))
        reg.start()
        stack.callback(reg.stop)
        client = registry.RegistryClient(reg.url)
        path, ca_path = _publish(client, work_dir)
        api, described = _glance(reg.url, work_dir, stack)
        print('sync Glance: %s, on %d cores' % (described, os.cpu_count()),
              flush=True)
        _measure(api, client, path, ca_path)


def _measure(api, client, path, ca_path):
    conn, writes = _connection(api)
    catalog = glance_sync.GlanceCatalog(conn, workers=WORKERS)
    syncer = runner.Synchronizer(catalog, lambda url: client,
                                 workers=WORKERS)
    glance = [psutil.Process(pid) for pid in api.pids]
    database = psutil.Process(os.getpid()).children()
    database = [p for p in database if p.name() == 'postgres']

    copy = _subscription(path, ca_path, 'bench-copy', mode='import',
                         store='local')
    copy_first, _, copy_cpu = _timed_run(syncer, copy, glance)
    ours = _subscription(path, ca_path, 'bench-location')
    database_cpu = _server_cpu(database[0]) if database else 0.0
    first, report, cpu = _timed_run(syncer, ours, glance)
    _line('sync first sync, %d appliances by location (target < 30 s)'
          % COUNT, first, 's', ('atrope-style copy of every image',
                                copy_first))
    _line('sync bytes copied by the first sync', 0.0, 'MiB',
          ('atrope-style copy', COUNT * SIZE / 1024.0 / 1024.0))
    _line('sync CPU of the sync itself per appliance, first sync',
          1000 * cpu[0] / COUNT, 'ms',
          ('atrope-style copy', 1000 * copy_cpu[0] / COUNT))
    _line('sync CPU of glance-api per appliance during the first sync',
          1000 * cpu[1] / COUNT, 'ms',
          ('atrope-style copy', 1000 * copy_cpu[1] / COUNT))
    started = time.monotonic()
    before = _cpu(glance)
    _wait_active(catalog, 'bench-location')
    _line('sync Glance validating every location after the first sync '
          '(reads each image once)', time.monotonic() - started, 's')
    glance_cpu = cpu[1] + _cpu(glance) - before
    if database:
        database_cpu = _server_cpu(database[0]) - database_cpu
    _line('sync CPU of glance-api per appliance, whole registration',
          1000 * glance_cpu / COUNT, 'ms')
    _line('sync CPU of the database server per appliance, whole '
          'registration', 1000 * database_cpu / COUNT, 'ms')
    _line('sync floor Glance puts under the first sync on %d cores '
          '(its and its database\'s CPU time / cores)' % os.cpu_count(),
          (glance_cpu + database_cpu) / os.cpu_count(), 's')

    writes.count = 0
    again, report, _ = _timed_run(syncer, ours)
    _line('sync unchanged re-sync (target < 5 s)', again, 's',
          ('first sync', first))
    _line('sync write calls of the unchanged re-sync (target 0)',
          writes.count, 'calls')
    _line('sync bytes copied by the unchanged re-sync', 0.0, 'MiB')
    if writes.count or report.planned:
        raise RuntimeError('the unchanged re-sync wrote: %s'
                           % [a.describe() for a in report.planned][:5])
