"""Repository part: 1 GiB pushed and pulled by our registry client vs curl.

The appliance repository moves images through
``stratuslab_plugins.appliance.registry.RegistryClient``; its limit
should be the registry, not the client. So, in the same run and against
the same registry (Debian's docker-registry on 127.0.0.1, started as the
tests start it), it is measured beside ``curl``:

* push: ``push_blob`` (chunked upload session, SHA-1/256/512 computed on
  the way) vs ``curl -T`` in one monolithic PUT (digest computed before,
  not timed). Target: at least 0.70 of curl.
* pull: ``pull_blob`` (streamed, digest verified) into /dev/null vs
  ``curl -o /dev/null``. Target: at least 0.80 of curl.
* peak RSS growth during each operation, measured in a forked child
  (``VmHWM`` after ``/proc/self/clear_refs`` minus the RSS before): under
  64 MiB whatever the size.

``STRATUSLAB_BENCH_REPOSITORY_MIB`` sets the size (1024 by default).
"""

import contextlib
import hashlib
import importlib.util
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time

import requests

from stratuslab_plugins.appliance import registry as registry_mod

MiB = 1024 * 1024
SIZE_MIB = int(os.environ.get('STRATUSLAB_BENCH_REPOSITORY_MIB', '1024'))
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


def _rss_kib(field):
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def _cpu_seconds():
    times = os.times()
    return (times.user + times.system + times.children_user
            + times.children_system)


def _measure_here(operation):
    with contextlib.suppress(OSError):
        with open('/proc/self/clear_refs', 'w') as refs:
            refs.write('5')  # resets VmHWM to the current RSS
    before = _rss_kib('VmRSS')
    cpu = _cpu_seconds()
    started = time.monotonic()
    operation()
    elapsed = time.monotonic() - started
    return (elapsed, max(0, _rss_kib('VmHWM') - before) / 1024.0,
            _cpu_seconds() - cpu)


def _measure(operation):
    """Run ``operation`` in a forked child: ``(s, peak RSS MiB, CPU s)``.

    A fresh process per operation: memory an earlier operation freed but
    kept would otherwise hide the next one's peak.
    """
    context = multiprocessing.get_context('fork')
    receiver, sender = context.Pipe(duplex=False)

    def child():
        sender.send(_measure_here(operation))

    process = context.Process(target=child)
    process.start()
    result = receiver.recv()
    process.join()
    return result


def _curl(*args):
    subprocess.run(['curl', '--silent', '--show-error', '--fail'] +
                   list(args), check=True, stdout=subprocess.DEVNULL)


def _curl_push(url, path, digest):
    response = requests.post('%s/v2/%s/blobs/uploads/' % (url, REPOSITORY),
                             timeout=60)
    response.raise_for_status()
    location = requests.compat.urljoin(url, response.headers['Location'])
    separator = '&' if '?' in location else '?'
    _curl('-T', path, '-X', 'PUT', '-H',
          'Content-Type: application/octet-stream',
          '%s%sdigest=%s' % (location, separator, digest))


def _delete_blob(url, digest):
    requests.delete('%s/v2/%s/blobs/%s' % (url, REPOSITORY, digest),
                    timeout=60)


def _line(name, value, unit, base_name, base):
    ratio = value / base if base else float('nan')
    return '%s: %.1f %s (baseline %s: %.1f %s, ratio %.2f)' % (
        name, value, unit, base_name, base, unit, ratio)


def run():
    size = SIZE_MIB * MiB
    workdir = tempfile.mkdtemp(prefix='bench-repository-')
    registry = _registry_fixture()
    try:
        registry.setUp()
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

        curl_push, _, curl_push_cpu = _measure(
            lambda: _curl_push(registry.url, path, digest))
        _delete_blob(registry.url, digest)
        push, push_rss, push_cpu = _measure(ours_push)
        curl_pull, _, curl_pull_cpu = _measure(
            lambda: _curl('-o', os.devnull, blob_url))
        pull, pull_rss, pull_cpu = _measure(ours_pull)

        mb, label = size / 1e6, 'repository %d MiB' % SIZE_MIB
        print(_line('%s push' % label, mb / push, 'MB/s',
                    'curl -T push', mb / curl_push))
        print(_line('%s pull' % label, mb / pull, 'MB/s', 'curl pull',
                    mb / curl_pull))
        print(_line('%s push peak RSS growth' % label, push_rss, 'MiB',
                    'limit', RSS_LIMIT_MIB))
        print(_line('%s pull peak RSS growth' % label, pull_rss, 'MiB',
                    'limit', RSS_LIMIT_MIB))
        # Context for the ratios on a shared machine: our push computes
        # SHA-1, SHA-256 and SHA-512, our pull verifies SHA-256; curl
        # hashes nothing.
        print(_line('%s push CPU (client)' % label, push_cpu, 's',
                    'curl -T push', curl_push_cpu))
        print(_line('%s pull CPU (client)' % label, pull_cpu, 's',
                    'curl pull', curl_pull_cpu))
        print('targets: push ratio >= %.2f, pull ratio >= %.2f, RSS ratio '
              '< 1.00' % (PUSH_TARGET, PULL_TARGET), flush=True)
    finally:
        registry.cleanUp()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    run()
