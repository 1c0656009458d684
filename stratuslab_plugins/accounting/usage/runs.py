"""Which run of a domain a CPU reading belongs to.

libvirt's CPU counter of a domain is its QEMU process's: it starts at
zero with every process. The ledger adds up the last reading of each run
(see :mod:`.cpu`), so a run's identity must change with each QEMU
process and never come back. libvirt's domain ID does not do that: it
restarts at 1 after a host reboot, and after a restart of libvirtd while
no domain runs, so a new run whose first reading exceeded the old run's
last one would be taken for the same run and its CPU time lost.

A run id here is ``<domain ID>:<start>@<boot>``: ``<start>`` is the QEMU
process's start time in clock ticks since boot (``/proc/PID/stat``,
field 22; the process is found by the ``-uuid`` libvirt gives QEMU), and
``<boot>`` the first 8 hex digits of the kernel's boot id
(``/proc/sys/kernel/random/boot_id``). A process start and a boot are
never repeated, and neither moves with the wall clock (the boot time in
``/proc/stat`` does, when NTP steps it)::

    runs = for_driver(connection.getType())  # 'QEMU': ProcessRuns
    runs.run_ids([(uuid, domain_id), ...])   # {uuid: '3:287737@4f1c2a9e'}

Where the agent cannot see QEMU processes (another PID namespace, a
``hidepid`` mount) the run id falls back to ``<domain ID>@<boot>``: still
new at every reboot, not at a restart of libvirtd while no domain runs.
Where it can, a domain whose process is not there any more is being torn
down: it has no run id (None), and its reading, which libvirt takes from
a process that is exiting or gone, is not one to keep. The domain ID
stays in front so that the ledger can tell which run an old agent's
plain ``<domain ID>`` continued (see :func:`.cpu.cpu_seconds`).

A driver other than QEMU (libvirt's ``test`` driver, LXC, Xen) has no
QEMU process behind its domains: :func:`for_driver` gives it
:class:`DomainIdRuns`, the fallback ids, without looking in ``/proc``.
Looking there, an unrelated QEMU process on the same host would make
every domain of that driver look torn down.
"""

import os

#: Length of the boot id kept in a run id.
BOOT_ID_CHARS = 8

#: What ``virConnectGetType`` answers for the QEMU/KVM driver, the one
#: whose domains are processes with ``-uuid`` on their command line.
QEMU_DRIVER = 'QEMU'


def read_boot_id(path='/proc/sys/kernel/random/boot_id'):
    """Return the short boot id of this kernel, or '' where there is none."""
    try:
        with open(path) as stream:
            return stream.read().strip().replace('-', '')[:BOOT_ID_CHARS]
    except OSError:
        return ''


def boot_id_in(proc):
    """Return the short boot id of the kernel whose procfs is at ``proc``."""
    return read_boot_id(os.path.join(proc, 'sys', 'kernel', 'random',
                                     'boot_id'))


def domain_run_id(domain_id, boot):
    """The run id of a domain whose process is out of sight."""
    return '%s@%s' % (domain_id, boot)


def for_driver(driver_type, proc='/proc'):
    """Return what names the runs of a libvirt driver's domains.

    :param driver_type: the connection's ``getType()``, 'QEMU' for
        ``qemu:///system`` and ``qemu:///session``.
    """
    if driver_type == QEMU_DRIVER:
        return ProcessRuns(proc)
    return DomainIdRuns(proc)


class DomainIdRuns:
    """Run ids of domains of a driver other than QEMU: ID and boot.

    :param proc: where procfs is mounted (for the boot id).
    """

    def __init__(self, proc='/proc'):
        self.boot = boot_id_in(proc)

    def run_ids(self, domains):
        """Return ``{uuid: '<domain ID>@<boot>'}`` of ``[(uuid, ID)]``."""
        return {uuid: domain_run_id(domain_id, self.boot)
                for uuid, domain_id in domains}


class ProcessRuns:
    """Run ids of QEMU domains, from the processes in ``/proc``.

    :param proc: where procfs is mounted.
    """

    def __init__(self, proc='/proc'):
        self.proc = proc
        self.boot = boot_id_in(proc)
        # {uuid: (pid, start ticks)} of the processes seen so far.
        self._known = {}
        # Whether this agent sees QEMU processes at all.
        self.visible = False

    def run_ids(self, domains):
        """Return ``{uuid: run id or None}`` of ``[(uuid, domain ID)]``.

        Scans ``/proc`` at most once, and only for a domain whose process
        it has not seen yet or that has changed. None for a domain whose
        process has gone, where QEMU processes are in sight.
        """
        domains = list(domains)
        stale = [uuid for uuid, _ in domains if not self._still(uuid)]
        if stale:
            self._scan(set(stale))
        return {uuid: self._run_id(uuid, domain_id)
                for uuid, domain_id in domains}

    def _run_id(self, uuid, domain_id):
        known = self._known.get(uuid)
        if known is None:
            return (None if self.visible
                    else domain_run_id(domain_id, self.boot))
        return '%s:%s@%s' % (domain_id, known[1], self.boot)

    def _still(self, uuid):
        known = self._known.get(uuid)
        return known is not None and self._start_ticks(known[0]) == known[1]

    def _start_ticks(self, pid):
        try:
            with open(os.path.join(self.proc, str(pid), 'stat'), 'rb') as s:
                stat = s.read()
        except OSError:
            return None
        # The command name (field 2) may hold spaces and parentheses: the
        # fields after it follow its last ')'; start time is field 22.
        fields = stat[stat.rfind(b')') + 2:].split()
        return int(fields[19]) if len(fields) > 19 else None

    def _uuid_of(self, pid):
        try:
            with open(os.path.join(self.proc, pid, 'cmdline'), 'rb') as s:
                arguments = s.read().split(b'\0')
        except OSError:
            return None
        if b'-uuid' not in arguments:
            return None
        index = arguments.index(b'-uuid') + 1
        if index >= len(arguments):
            return None
        return arguments[index].decode('ascii', 'replace').lower()

    def _scan(self, wanted):
        for uuid in wanted:
            self._known.pop(uuid, None)
        try:
            pids = [name for name in os.listdir(self.proc) if name.isdigit()]
        except OSError:
            return
        for pid in pids:
            uuid = self._uuid_of(pid)
            if uuid is None:
                continue
            self.visible = True
            if uuid not in wanted:
                continue
            ticks = self._start_ticks(pid)
            if ticks is not None:
                self._known[uuid] = (int(pid), ticks)
