"""Store part: 1 GiB through glance_store's ``appliance`` driver vs curl.

The limit of the ``appliance`` store is the registry, not Glance: so its
``add`` is measured against ``curl -T`` pushing the same bytes to the same
registry (Debian's docker-registry on 127.0.0.1) in one monolithic PUT,
and its ``get`` against ``curl`` pulling the blob, all in this run.
``get`` runs as configured by default for a store's own registry
(``appliance_read_verification = auto``: the bytes are not re-hashed,
Glance's clients check ``os_hash_value``), and again as a store with a
trust policy or reading another site's registry does, hashing SHA-256 as
it serves (``always``). glance_store's ``file`` driver is measured
beside them for scale. Targets (issue 11): add and get at least 0.80 of
curl, peak RSS growth under 64 MiB for each operation.

The data is random bytes in a temporary file (``STRATUSLAB_BENCH_STORE_MIB``
MiB, 1024 by default), removed at the end with the registry's storage.
Each figure is the median of ``STRATUSLAB_BENCH_STORE_ROUNDS`` rounds (5),
the baseline and the measured operations alternating within a round
(see ``_blobs``); peak RSS growth is the largest of the rounds. A
checked ``get`` is bounded by SHA-256 on one core and by the CPU Glance's
side and the registry need on this machine's cores: that bound, measured
in the same run, is printed beside its ratio.
"""

import contextlib
import hashlib
import os
import random
import shutil
import tempfile
import uuid

import glance_store
from glance_store import location as store_location
from oslo_config import cfg

from stratuslab_plugins.sandbox import registry as sandbox_registry
from tools.bench import _blobs

MiB = _blobs.MiB
SIZE_MIB = int(os.environ.get('STRATUSLAB_BENCH_STORE_MIB', '1024'))
ROUNDS = int(os.environ.get('STRATUSLAB_BENCH_STORE_ROUNDS', '5'))
REPOSITORY = 'bench/store'
TARGET_RATIO = 0.80
RSS_LIMIT_MIB = 64


def _write_data(path, size):
    generator = random.Random(11)
    digest = hashlib.sha256()
    with open(path, 'wb') as out:
        left = size
        while left:
            chunk = generator.randbytes(min(16 * MiB, left))
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return 'sha256:' + digest.hexdigest()


def _configure_stores(registry_url, file_dir):
    conf = cfg.CONF
    with contextlib.suppress(cfg.DuplicateOptError):
        conf.register_opt(cfg.DictOpt('enabled_backends'))
    conf.set_override('enabled_backends', {'repo': 'appliance',
                                           'checked': 'appliance',
                                           'local': 'file'})
    glance_store.register_store_opts(conf)
    conf.set_override('default_backend', 'repo', group='glance_store')
    for group in ('repo', 'checked'):
        conf.set_override('appliance_registry_url', registry_url,
                          group=group)
        conf.set_override('appliance_repository', REPOSITORY, group=group)
    conf.set_override('appliance_read_verification', 'always',
                      group='checked')
    conf.set_override('filesystem_store_datadir', file_dir, group='local')
    store_location.SCHEME_TO_CLS_BACKEND_MAP.clear()
    glance_store.create_multi_stores(conf)
    return conf


def _store_add(conf, backend, path, size):
    result = {}

    def add():
        with open(path, 'rb') as data:
            result['url'] = glance_store.add_with_multihash(
                conf, str(uuid.uuid4()), data, size, backend, 'sha512')[0]
    return add, result


def _store_get(backend, result):
    def get():
        chunks, _ = glance_store.get(result['url'], backend)
        for _ in chunks:
            pass
    return get


def _run_rounds(conf, server, path, size, digest):
    blob_url = '%s/v2/%s/blobs/%s' % (server.url, REPOSITORY, digest)
    rounds = _blobs.Rounds()

    def measured(name, operation):
        rounds.add(name, _blobs.measure(operation, server.process.pid))

    for _ in range(ROUNDS):
        measured('curl -T push', lambda: _blobs.curl_push(
            server.url, REPOSITORY, path, digest))
        add, added = _store_add(conf, 'repo', path, size)
        measured('appliance add', add)
        measured('curl pull', lambda: _blobs.curl('-o', os.devnull,
                                                  blob_url))
        measured('appliance get', _store_get('repo', added))
        measured('appliance get checked', _store_get('checked', added))
        add, filed = _store_add(conf, 'local', path, size)
        measured('file add (scale)', add)
        measured('file get (scale)', _store_get('local', filed))
        os.unlink(filed['url'][len('file://'):])
    return rounds


def _report(rounds, size):
    label = 'store %d MiB' % SIZE_MIB
    for name, base in (('appliance add', 'curl -T push'),
                       ('appliance get', 'curl pull'),
                       ('appliance get checked', 'curl pull'),
                       ('file add (scale)', 'curl -T push'),
                       ('file get (scale)', 'curl pull')):
        print(_blobs.throughput_line(rounds, name, base, size,
                                     '%s %s' % (label, name)))
    hashing = _blobs.sha256_seconds(size)
    cpu = (rounds.median('appliance get checked', 'cpu') + rounds.median(
        'appliance get checked', 'registry_cpu')) / os.cpu_count()
    print(_blobs.line(
        '%s checked get bound here (SHA-256 on one core: %.2f s; our and '
        'the registry\'s CPU over %d cores: %.2f s)'
        % (label, hashing, os.cpu_count(), cpu),
        size / 1e6 / max(hashing, cpu), 'MB/s', 'curl pull',
        size / 1e6 / rounds.median('curl pull')))
    for name in ('appliance add', 'appliance get', 'appliance get checked'):
        print(_blobs.line('%s %s peak RSS growth' % (label, name),
                          rounds.peak(name), 'MiB', 'limit', RSS_LIMIT_MIB))
    for name in ('curl -T push', 'appliance add', 'curl pull',
                 'appliance get', 'appliance get checked'):
        print('%s %s CPU: %.1f s here + %.1f s registry over %.1f s on %d '
              'cores (medians)' % (
                  label, name, rounds.median(name, 'cpu'),
                  rounds.median(name, 'registry_cpu'), rounds.median(name),
                  os.cpu_count()))
    print('targets: add and get ratio >= %.2f, RSS ratio < 1.00'
          % TARGET_RATIO, flush=True)


def run():
    size = SIZE_MIB * MiB
    workdir = tempfile.mkdtemp(prefix='bench-store-')
    server = sandbox_registry.Registry(os.path.join(workdir, 'registry'))
    try:
        server.start()
        path = os.path.join(workdir, 'data')
        digest = _write_data(path, size)
        conf = _configure_stores(server.url,
                                 os.path.join(workdir, 'file-store'))
        _report(_run_rounds(conf, server, path, size, digest), size)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    run()
