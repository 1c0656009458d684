"""Repository part: 1 GiB pushed and pulled by our registry client vs curl.

The appliance repository moves images through
``stratuslab_plugins.appliance.registry.RegistryClient``; its limit
should be the registry, not the client. So, in the same run and against
the same registry (Debian's docker-registry on 127.0.0.1, started as the
tests start it), it is measured beside ``curl``:

* push: ``push_blob`` (one upload session, SHA-1/256/512 computed on the
  way) vs ``curl -T`` in one monolithic PUT (digest computed before, not
  timed). Target: at least 0.70 of curl.
* pull: ``pull_blob`` (streamed, digest verified) into /dev/null vs
  ``curl -o /dev/null``. Target: at least 0.80 of curl.
* peak RSS growth during each operation, measured in a forked child
  (``VmHWM`` after ``/proc/self/clear_refs`` minus the RSS before): under
  64 MiB whatever the size.

Each figure is the median of ``STRATUSLAB_BENCH_REPOSITORY_ROUNDS`` rounds
(5), curl and ours alternating (see ``_blobs``). A verified pull is
bounded by SHA-256 on one core and by the CPU the registry and we need
on this machine's cores; that bound, measured in the same run, is
printed beside the pull ratio.

``STRATUSLAB_BENCH_REPOSITORY_MIB`` sets the size (1024 by default).
"""

import hashlib
import importlib.util
import multiprocessing
import os
import shutil
import tempfile

import requests

from stratuslab_plugins.appliance import registry as registry_mod
from tools.bench import _blobs

MiB = _blobs.MiB
SIZE_MIB = int(os.environ.get('STRATUSLAB_BENCH_REPOSITORY_MIB', '1024'))
ROUNDS = int(os.environ.get('STRATUSLAB_BENCH_REPOSITORY_ROUNDS', '5'))
REPOSITORY = 'bench/repository'
PUSH_TARGET, PULL_TARGET, RSS_LIMIT_MIB = 0.70, 0.80, 64
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _registry_fixture():
    # Loaded from its file: importing tests.functional would apply Nova's
    # eventlet monkey patching to this process (tests/functional/
    # __init__.py) and turn the hashing threads into green threads.
    path = os.path.join(_ROOT, 'tests', 'functional', 'registry_fixture.py')
    spec = importlib.util.spec_from_file_location('_bench_repo_registry',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RegistryFixture()


def _write_random(path, size):
    """Write ``size`` random bytes; return their OCI digest."""
    digest = hashlib.sha256()
    with open(path, 'wb') as out:
        for _ in range(size // (16 * MiB)):
            chunk = os.urandom(16 * MiB)
            digest.update(chunk)
            out.write(chunk)
    return 'sha256:' + digest.hexdigest()


def _measure(operation, registry_pid):
    """Run ``operation`` in a forked child; return its ``_blobs.Figures``.

    A fresh process per operation: memory an earlier operation freed but
    kept would otherwise hide the next one's peak.
    """
    context = multiprocessing.get_context('fork')
    receiver, sender = context.Pipe(duplex=False)

    def child():
        sender.send(tuple(_blobs.measure(operation, registry_pid)))

    process = context.Process(target=child)
    process.start()
    result = receiver.recv()
    process.join()
    return _blobs.Figures(*result)


def _delete_blob(url, digest):
    requests.delete('%s/v2/%s/blobs/%s' % (url, REPOSITORY, digest),
                    timeout=60)


def _pull_bound(rounds, size):
    """Seconds a verified pull needs at least here, and why."""
    hashing = _blobs.sha256_seconds(size)
    cpu = (rounds.median('ours pull', 'cpu')
           + rounds.median('ours pull', 'registry_cpu')) / os.cpu_count()
    return max(hashing, cpu), hashing, cpu


def run():
    size = SIZE_MIB * MiB
    workdir = tempfile.mkdtemp(prefix='bench-repository-')
    registry = _registry_fixture()
    try:
        registry.setUp()
        pid = registry.process.pid
        path = os.path.join(workdir, 'appliance.img')
        digest = _write_random(path, size)
        blob_url = '%s/v2/%s/blobs/%s' % (registry.url, REPOSITORY, digest)

        def ours_push():
            client = registry_mod.RegistryClient(registry.url)
            with open(path, 'rb') as source:
                assert client.push_blob(REPOSITORY, source).digest == digest

        def ours_pull():
            client = registry_mod.RegistryClient(registry.url)
            with open(os.devnull, 'wb') as sink:
                client.pull_blob(REPOSITORY, digest, sink)

        rounds = _blobs.Rounds()
        for _ in range(ROUNDS):
            rounds.add('curl -T push', _measure(lambda: _blobs.curl_push(
                registry.url, REPOSITORY, path, digest), pid))
            _delete_blob(registry.url, digest)
            rounds.add('ours push', _measure(ours_push, pid))
            rounds.add('curl pull', _measure(
                lambda: _blobs.curl('-o', os.devnull, blob_url), pid))
            rounds.add('ours pull', _measure(ours_pull, pid))

        label = 'repository %d MiB' % SIZE_MIB
        print(_blobs.throughput_line(rounds, 'ours push', 'curl -T push',
                                     size, '%s push' % label))
        print(_blobs.throughput_line(rounds, 'ours pull', 'curl pull',
                                     size, '%s pull' % label))
        bound, hashing, cpu = _pull_bound(rounds, size)
        print(_blobs.line(
            '%s verified pull bound here (SHA-256 on one core: %.2f s; our '
            'and the registry\'s CPU over %d cores: %.2f s)'
            % (label, hashing, os.cpu_count(), cpu), size / 1e6 / bound,
            'MB/s', 'curl pull', size / 1e6 / rounds.median('curl pull')))
        for name in ('push', 'pull'):
            print(_blobs.line('%s %s peak RSS growth' % (label, name),
                              rounds.peak('ours ' + name), 'MiB', 'limit',
                              RSS_LIMIT_MIB))
        # Context for the ratios on a shared machine: our push computes
        # SHA-1, SHA-256 and SHA-512, our pull verifies SHA-256; curl
        # hashes nothing.
        for ours, base in (('ours push', 'curl -T push'),
                           ('ours pull', 'curl pull')):
            print('%s %s CPU: %.1f s here + %.1f s registry; %s: %.1f s + '
                  '%.1f s registry (medians)' % (
                      label, ours, rounds.median(ours, 'cpu'),
                      rounds.median(ours, 'registry_cpu'), base,
                      rounds.median(base, 'cpu'),
                      rounds.median(base, 'registry_cpu')))
        print('targets: push ratio >= %.2f, pull ratio >= %.2f, RSS ratio '
              '< 1.00' % (PUSH_TARGET, PULL_TARGET), flush=True)
    finally:
        registry.cleanUp()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    run()
