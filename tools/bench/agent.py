"""libvirt agent: the CPU time a hard stop loses at the default interval.

Boots the functional tests' real guest (a private libvirtd in session
mode, TCG, no cgroup; see ``tests/functional/libvirt_fixture.py``) with
2 vCPUs burning, reads it with the agent's :class:`CpuTimeAgent` every
``[accounting_usage] sample_interval`` seconds (the option's default) as
the agent's main loop does, and ``virsh destroy``-s it at TRIALS moments
spread over a period. Each loss (``virsh domstats`` just before the
destroy minus the last reading) is printed beside its bound, the
interval times the vCPUs, and beside the CPU time the guest used.
"""

import importlib.util
import os
import threading
import time
import uuid

from stratuslab_plugins.accounting.usage import agent as agent_mod
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.conf import usage as usage_conf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRIALS = int(os.environ.get('BENCH_AGENT_TRIALS', '3'))
VCPUS = 2


def _fixture_module():
    # tests/functional/__init__.py monkey-patches the process for Nova's
    # harness: load the fixture from its file, without that package.
    spec = importlib.util.spec_from_file_location(
        'bench_libvirt_fixture',
        os.path.join(ROOT, 'tests', 'functional', 'libvirt_fixture.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _default_interval():
    [option] = [o for o in usage_conf.agent_opts
                if o.name == 'sample_interval']
    return option.default


def _reading(libvirt, connection, domain):
    [(_, stats)] = connection.domainListGetStats(
        [domain], libvirt.VIR_DOMAIN_STATS_CPU_TOTAL)
    return stats['cpu.time']


def _trial(libvirt, connection, guest, interval, phase):
    """Return ``(loss, used)`` CPU-seconds of one guest destroyed.

    The guest burns, is read every ``interval`` seconds, and is destroyed
    ``phase`` seconds after its second reading.
    """
    domain = connection.createXML(guest.xml('bench', str(uuid.uuid4()),
                                            VCPUS))
    guest.console.connect()
    guest.console.wait_ready()
    guest.console.send('burn')
    guest.console.expect('BURNING')
    samples = []
    reader = agent_mod.CpuTimeAgent(connection, 'bench', samples.extend,
                                    libvirt)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            reader.sample_all()
            stop.wait(interval)
    thread = threading.Thread(target=loop)
    thread.start()
    time.sleep(interval + phase)
    last_seen = _reading(libvirt, connection, domain)
    domain.destroy()
    stop.set()
    thread.join()
    guest.console.close()
    recorded = max(s.cpu_time_ns for s in samples)
    return ((last_seen - recorded) / cpu.NANOSECONDS,
            last_seen / cpu.NANOSECONDS)


def run():
    fixture = _fixture_module()
    reason = fixture.missing() or fixture.qemu_unusable()
    if reason:
        raise RuntimeError(reason)
    libvirt = fixture.libvirt
    daemon = fixture.SessionLibvirt()
    daemon.setUp()
    try:
        connection = libvirt.open(daemon.uri)
        guest = fixture.Guest(daemon.base)
        interval = _default_interval()
        bound = interval * VCPUS
        for trial in range(TRIALS):
            phase = interval * (trial + 0.5) / TRIALS
            loss, used = _trial(libvirt, connection, guest, interval, phase)
            print('destroy %4.1f s after a reading (interval %d s, %d '
                  'vCPUs): lost %.2f CPU-s, bound %d CPU-s (%.2f of it); '
                  'the guest used %.2f CPU-s' % (
                      phase, interval, VCPUS, loss, bound, loss / bound,
                      used), flush=True)
        connection.close()
    finally:
        daemon.cleanUp()
