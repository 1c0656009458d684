"""Measured usage for the record builder: the ledger preferred over the API.

The Nova extractor builds a ``builders.ServerUsage`` per server from the
API; :class:`LedgerUsage` then replaces what the ledger measured (start,
end, wall and suspend time, status, and real CPU time from the libvirt
agents) and adds the VMs the API no longer lists (created and purged
between two runs)::

    measured = LedgerUsage(UsageLedger.from_url(url))
    context = builders.RecordContext(..., refine_usages=measured.refine,
                                    unseen_usages=measured.unseen)

An instance the ledger does not know keeps the API's values: a site
without the listener gets the API's records, unchanged.
"""

import dataclasses

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting.usage import cpu as cpu_mod


def apply_measured(server_usage, usage=None, cpu_seconds=None):
    """Return ``server_usage`` with what the ledger measured in place.

    :param usage: the ledger's :class:`~.intervals.Usage`, or None.
    :param cpu_seconds: real CPU seconds, or None to keep the API's.
    """
    changes = {}
    if usage is not None:
        changes.update(
            started_at=usage.started_at, ended_at=usage.ended_at,
            status=usage.status, wall_seconds=usage.wall_seconds,
            suspend_seconds=usage.suspend_seconds)
        for field in ('vcpus', 'memory_mb', 'disk_gb', 'user_id', 'name',
                      'image_id', 'host'):
            if getattr(server_usage, field) is None:
                changes[field] = getattr(usage, field)
        if usage.cpu_seconds is not None:
            changes['cpu_seconds'] = usage.cpu_seconds
    if cpu_seconds is not None:
        changes['cpu_seconds'] = cpu_seconds
    return dataclasses.replace(server_usage, **changes)


def server_usage_of(usage):
    """Return a ``builders.ServerUsage`` built from the ledger alone."""
    return builders.ServerUsage(
        uuid=usage.uuid, project_id=usage.project_id,
        started_at=usage.started_at, measured_at=usage.measured_at,
        user_id=usage.user_id, name=usage.name, status=usage.status,
        ended_at=usage.ended_at, vcpus=usage.vcpus,
        memory_mb=usage.memory_mb, disk_gb=usage.disk_gb,
        image_id=usage.image_id, host=usage.host,
        wall_seconds=usage.wall_seconds,
        suspend_seconds=usage.suspend_seconds,
        cpu_seconds=usage.cpu_seconds)


class LedgerUsage:
    """The usage ledger, as the record builder's source of measured usage.

    :param ledger: a :class:`~..ledger.usage.UsageLedger`.
    """

    def __init__(self, ledger):
        self.ledger = ledger

    def refine(self, usages):
        """Return a batch of ``ServerUsage`` with measured values in place.

        One ledger lookup per batch; every usage of a batch is measured at
        the same time (the run's end).
        """
        usages = list(usages)
        if not usages:
            return usages
        until = usages[0].measured_at
        uuids = [u.uuid for u in usages]
        measured = self.ledger.usage_for_instances(uuids, until)
        cpu = self.ledger.cpu_seconds_for_instances(uuids, until)
        return [apply_measured(u, measured.get(u.uuid), cpu.get(u.uuid))
                for u in usages]

    def cpu_samples(self, uuids):
        """Return ``{uuid: [CpuSample]}`` of the instances the agents read."""
        return self.ledger.cpu_samples_for_instances(list(uuids))

    def as_of(self, uuids, moment, samples=None):
        """Return ``({uuid: Usage}, {uuid: CPU seconds})`` at ``moment``.

        The usage is the ledger's, from its intervals (absent for an
        instance it has no event of, or that had not started); the CPU
        seconds are interpolated between the readings around ``moment``
        (see :func:`.cpu.cpu_seconds`), for every instance an agent read
        by then.

        :param samples: :meth:`cpu_samples` of ``uuids``, when the caller
            asks for several moments; read here when None.
        """
        uuids = list(uuids)
        if samples is None:
            samples = self.cpu_samples(uuids)
        usages = self.ledger.usage_for_instances(uuids, moment)
        cpu = {}
        for uuid in uuids:
            seconds = cpu_mod.cpu_seconds(samples.get(uuid, ()), moment,
                                          interpolate=True)
            if seconds is not None:
                cpu[uuid] = seconds
        return usages, cpu

    def unseen(self, since, until, seen, projects=None):
        """Return ``ServerUsage`` of VMs alive in the window the API missed.

        :param seen: uuids the API listed.
        :param projects: only these projects, when given.
        """
        found = []
        for uuid, usage in sorted(
                self.ledger.usage_by_instance(since, until).items()):
            if uuid in seen or usage.project_id is None:
                continue
            if projects and usage.project_id not in projects:
                continue
            found.append(server_usage_of(usage))
        return found
