"""What the repository and store parts share: curl as the baseline, the
figures of one transfer, and repeated rounds summed up by their median.

A 1 GiB transfer against a registry on the same 2-core machine varies by
a third from one run to the next (the registry, the page cache and other
jobs compete for the cores). So each part runs its operations in rounds,
baseline and measured operation alternating within a round, and reports
the median of the rounds, with the fastest and slowest beside it.

A verified download cannot go faster than one core hashes SHA-256, and
the registry needs CPU too: :func:`sha256_seconds` measures the first
in the same run, so the limit is printed beside the ratio it bounds.
"""

import contextlib
import hashlib
import os
import statistics
import subprocess
import time

import requests

MiB = 1024 * 1024


def rss_kib(field):
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in KiB."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid='self'):
    """User + system CPU seconds of a process and its threads so far.

    For this process, with its finished children (curl) too.
    """
    if pid == 'self':
        times = os.times()
        return (times.user + times.system + times.children_user
                + times.children_system)
    with open('/proc/%s/stat' % pid) as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def measure(operation, registry_pid):
    """Run ``operation`` here; return its :class:`Figures`.

    Peak RSS growth is this process's high-water mark (``VmHWM``, reset
    through ``/proc/self/clear_refs``) minus its RSS before.
    """
    with contextlib.suppress(OSError):
        with open('/proc/self/clear_refs', 'w') as refs:
            refs.write('5')  # resets VmHWM to the current RSS
    before = rss_kib('VmRSS')
    cpu, registry_cpu = cpu_seconds(), cpu_seconds(registry_pid)
    started = time.monotonic()
    operation()
    elapsed = time.monotonic() - started
    return Figures(elapsed, max(0, rss_kib('VmHWM') - before) / 1024.0,
                   cpu_seconds() - cpu,
                   cpu_seconds(registry_pid) - registry_cpu)


class Figures(tuple):
    """``(seconds, peak RSS growth MiB, our CPU s, the registry's CPU s)``."""

    def __new__(cls, seconds, rss_mib, cpu, registry_cpu):
        return super().__new__(cls, (seconds, rss_mib, cpu, registry_cpu))

    seconds = property(lambda self: self[0])
    rss_mib = property(lambda self: self[1])
    cpu = property(lambda self: self[2])
    registry_cpu = property(lambda self: self[3])


class Rounds(object):
    """Figures of named operations over several rounds."""

    def __init__(self):
        self.figures = {}

    def add(self, name, figures):
        self.figures.setdefault(name, []).append(figures)

    def median(self, name, field='seconds'):
        return statistics.median(getattr(f, field)
                                 for f in self.figures[name])

    def peak(self, name, field='rss_mib'):
        return max(getattr(f, field) for f in self.figures[name])

    def spread(self, name):
        seconds = [f.seconds for f in self.figures[name]]
        return min(seconds), max(seconds)


def curl(*args):
    subprocess.run(['curl', '--silent', '--show-error', '--fail'] + list(
        args), check=True, stdout=subprocess.DEVNULL)


def curl_push(registry_url, repository, path, digest):
    """Upload ``path`` as one blob with ``curl -T``, one monolithic PUT."""
    response = requests.post('%s/v2/%s/blobs/uploads/'
                             % (registry_url, repository), timeout=60)
    response.raise_for_status()
    location = requests.compat.urljoin(registry_url,
                                       response.headers['Location'])
    separator = '&' if '?' in location else '?'
    curl('-T', path, '-X', 'PUT', '-H',
         'Content-Type: application/octet-stream',
         '%s%sdigest=%s' % (location, separator, digest))


def sha256_seconds(size):
    """Seconds one core takes to hash ``size`` bytes with SHA-256 here."""
    block = memoryview(os.urandom(4 * MiB))
    digest = hashlib.sha256()
    started = time.monotonic()
    for _ in range(size // len(block)):
        digest.update(block)
    return time.monotonic() - started


def line(name, value, unit, base_name, base, base_unit=None):
    """One figure beside its baseline, with their ratio."""
    ratio = value / base if base else float('nan')
    return '%s: %.1f %s (baseline %s: %.1f %s, ratio %.2f)' % (
        name, value, unit, base_name, base, base_unit or unit, ratio)


def throughput_line(rounds, name, base_name, size, label):
    """Median MB/s of ``name`` beside ``base_name``'s, with both spreads."""
    mb = size / 1e6
    ours, base = rounds.median(name), rounds.median(base_name)
    fast, slow = rounds.spread(name)
    base_fast, base_slow = rounds.spread(base_name)
    return '%s [median of %d rounds; ours %.0f-%.0f, baseline %.0f-%.0f ' \
        'MB/s]' % (line(label, mb / ours, 'MB/s', base_name, mb / base),
                   len(rounds.figures[name]), mb / slow, mb / fast,
                   mb / base_slow, mb / base_fast)
