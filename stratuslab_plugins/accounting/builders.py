"""The builders that turn usage into accounting records.

One builder per record type, fed with a *usage* structure such as
:class:`ServerUsage`, so a new source of usage (Nova's API today, the
notification ledger tomorrow) only has to fill that structure::

    context = RecordContext(site_name='MY-SITE',
                            vo_for_project=vo_map.vo_for_project,
                            user_name_for=user_names.get)
    record = build_cloud_record(ServerUsage(uuid=..., ...), context)

Apart from the records (:mod:`.records`) because this is where usage
that a source may get wrong is judged: numbers that are not finite,
benchmarks that are not numbers, a VM that never started. Accelerators
a flavor declares are read in :mod:`.accelerators`.
"""

import dataclasses
import datetime
import logging
import math
import typing

from stratuslab_plugins.accounting import accelerators
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import records
from stratuslab_plugins.grid import exceptions as grid_exceptions
from stratuslab_plugins.grid import keys

LOG = logging.getLogger(__name__)

#: How CpuDuration is filled when no source measured real CPU time.
CPU_FALLBACK_NONE = 'none'
CPU_FALLBACK_WALL_X_VCPUS = 'wall_x_vcpus'
CPU_FALLBACKS = (CPU_FALLBACK_NONE, CPU_FALLBACK_WALL_X_VCPUS)


@dataclasses.dataclass
class ServerUsage:
    """What any usage source knows about one VM; input of the builder.

    Nova's API fills the allocation fields; the notification ledger and
    the libvirt agent (when present) fill ``suspend_seconds`` and
    ``cpu_seconds`` with measured values.

    :param started_at: when the VM first ran (Nova ``launched_at``).
    :param ended_at: when it stopped consuming its flavor for good
        (deleted, or shut off), None while it runs.
    :param measured_at: the time the usage is measured at; durations of
        a running VM run up to it.
    :param flavor_extra_specs: the flavor's extra specs, for the
        ``accounting:benchmark_*`` keys and accelerators.
    :param host_benchmark: the host's per-core HEPscore23 (aggregate
        ``grid_hepscore``), None when unknown.
    :param wall_seconds: measured wall time; None to derive it from the
        start and end.
    """

    uuid: str
    project_id: str
    started_at: datetime.datetime
    measured_at: datetime.datetime
    user_id: typing.Optional[str] = None
    name: typing.Optional[str] = None
    status: typing.Optional[str] = None
    ended_at: typing.Optional[datetime.datetime] = None
    vcpus: typing.Optional[int] = None
    memory_mb: typing.Optional[int] = None
    disk_gb: typing.Optional[int] = None
    image_id: typing.Optional[str] = None
    host: typing.Optional[str] = None
    flavor_extra_specs: dict = dataclasses.field(default_factory=dict)
    host_benchmark: typing.Optional[float] = None
    public_ip_count: typing.Optional[int] = None
    wall_seconds: typing.Optional[int] = None
    suspend_seconds: typing.Optional[int] = None
    cpu_seconds: typing.Optional[int] = None


@dataclasses.dataclass
class RecordContext:
    """Site-wide facts every builder needs, gathered once per run.

    :param vo_for_project: callable project id -> VO name or None.
    :param user_name_for: callable user id -> GlobalUserName or None.
    :param cpu_fallback: what CpuDuration is when ``cpu_seconds`` is
        unknown: ``none`` (omitted) or ``wall_x_vcpus`` (cASO's value).
    :param refine_usages: callable ``[ServerUsage] -> [ServerUsage]``
        applied to each batch (a page) of VMs before their records are
        built: the seam through which measured usage (the notification
        ledger's intervals, the libvirt agent's CPU time) replaces what
        the API alone can tell. Identity by default.
    :param unseen_usages: callable ``(since, until, seen_uuids, projects)
        -> [ServerUsage]``: VMs a measured source saw in the window that
        the API did not list (created and purged between two runs).
        None by default.
    """

    site_name: str
    vo_for_project: typing.Callable = lambda project_id: None
    user_name_for: typing.Callable = lambda user_id: None
    cloud_type: str = 'OpenStack'
    cloud_compute_service: typing.Optional[str] = None
    cpu_fallback: str = CPU_FALLBACK_NONE
    default_benchmark_type: str = keys.BENCHMARK_TYPE_HEPSCORE
    refine_usages: typing.Callable = lambda usages: usages
    # Exact usage (usage ledger): see ``accounting.usage.measured``.
    unseen_usages: typing.Callable = (
        lambda since, until, seen, projects=None: [])


def _not_finite(value):
    """Return True when ``value`` is a number, or its text, not finite."""
    try:
        return not math.isfinite(float(value))
    except OverflowError:
        # An integer too large for a float.
        return True
    except (TypeError, ValueError):
        return False


#: ServerUsage fields that become numeric APEL fields. The repository's
#: parser refuses a whole message over one ``nan`` or ``inf``, so a value
#: that is not finite is left out of its record (NULL), with a warning.
_NUMERIC_USAGE_FIELDS = ('vcpus', 'memory_mb', 'disk_gb', 'public_ip_count',
                         'wall_seconds', 'suspend_seconds', 'cpu_seconds',
                         'host_benchmark')


def _finite_usage(usage):
    """Return ``usage`` without its numeric values that are not finite.

    A dropped ``wall_seconds`` is derived from the start and end again; a
    dropped ``host_benchmark`` leaves the flavor's benchmark to be used.
    """
    dropped = [name for name in _NUMERIC_USAGE_FIELDS
               if getattr(usage, name) is not None
               and _not_finite(getattr(usage, name))]
    if not dropped:
        return usage
    LOG.warning('Server %s: %s not a finite number; left out of its '
                'accounting record.', usage.uuid, ', '.join(
                    '%s=%s' % (name, grid_exceptions.describe(
                        getattr(usage, name))) for name in dropped))
    return dataclasses.replace(usage, **{name: None for name in dropped})


def _float_or_none(value, what):
    if value in (None, ''):
        return None
    if _not_finite(value):
        LOG.warning('%s is %s, not a finite number: no benchmark is '
                    'written for it; fix the flavor extra spec or the '
                    'aggregate metadata that sets it.', what,
                    grid_exceptions.describe(value))
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise exceptions.RecordError(
            '%s is %s, not a number: fix the flavor extra spec or the '
            'aggregate metadata that sets it.'
            % (what, grid_exceptions.describe(value)))


def benchmark_for(usage, default_type=keys.BENCHMARK_TYPE_HEPSCORE):
    """Return ``(BenchmarkType, Benchmark)`` for a VM, or ``(None, None)``.

    The host's ``grid_hepscore`` (what the scheduler reads too) wins, as
    it describes the hardware the VM actually ran on; otherwise the
    flavor's cASO keys ``accounting:benchmark_type`` and
    ``accounting:benchmark_value``. A benchmark that is not finite
    (``nan``, ``1e999``) is dropped with a warning, never written.
    """
    host_benchmark = _float_or_none(
        usage.host_benchmark, 'aggregate %s' % keys.AGGREGATE_HEPSCORE)
    if host_benchmark is not None:
        return default_type, host_benchmark
    specs = usage.flavor_extra_specs or {}
    value = _float_or_none(specs.get(keys.EXTRA_SPEC_BENCHMARK_VALUE),
                           'flavor extra spec %s'
                           % keys.EXTRA_SPEC_BENCHMARK_VALUE)
    if value is None:
        return None, None
    return specs.get(keys.EXTRA_SPEC_BENCHMARK_TYPE) or default_type, value


def _durations(usage, status):
    start = records.utc(usage.started_at)
    end = (records.utc(usage.ended_at)
           if status in records.STOPPED_STATUSES else None)
    until = end or records.utc(usage.measured_at)
    wall = usage.wall_seconds
    if wall is None:
        wall = max(0, int((until - start).total_seconds()))
    return end, wall


def _cpu_seconds(usage, wall, context):
    if usage.cpu_seconds is not None:
        return int(usage.cpu_seconds)
    if context.cpu_fallback == CPU_FALLBACK_WALL_X_VCPUS and usage.vcpus:
        return int(wall * usage.vcpus)
    return None


def build_cloud_record(usage, context):
    """Return the cloud record of one VM's :class:`ServerUsage`.

    A VM that never started (no ``started_at``) has no usage: the caller
    skips it; passing one is a :class:`RecordError`.
    """
    if usage.started_at is None:
        raise exceptions.RecordError(
            'server %s never started (no launched_at): it has no usage to '
            'record.' % usage.uuid)
    usage = _finite_usage(usage)
    status = records.apel_status(usage.status, usage.ended_at is not None)
    end, wall = _durations(usage, status)
    benchmark_type, benchmark = benchmark_for(
        usage, context.default_benchmark_type)
    return records.CloudRecord(
        vm_uuid=usage.uuid,
        site_name=context.site_name,
        start_time=records.utc(usage.started_at),
        end_time=end,
        measured_at=records.utc(usage.measured_at),
        machine_name=usage.name,
        local_user_id=usage.user_id,
        local_group_id=usage.project_id,
        global_user_name=context.user_name_for(usage.user_id)
        if usage.user_id else None,
        vo=context.vo_for_project(usage.project_id),
        status=status,
        suspend_duration=usage.suspend_seconds,
        wall_duration=wall,
        cpu_duration=_cpu_seconds(usage, wall, context),
        cpu_count=float(usage.vcpus) if usage.vcpus is not None else None,
        memory=usage.memory_mb,
        disk=usage.disk_gb,
        public_ip_count=usage.public_ip_count,
        benchmark_type=benchmark_type if benchmark is not None else None,
        benchmark=benchmark,
        image_id=usage.image_id,
        cloud_type=context.cloud_type,
        cloud_compute_service=context.cloud_compute_service,
        accelerators=tuple(accelerators.accelerators_for(usage, wall,
                                                         context)),
    )


@dataclasses.dataclass
class VolumeUsage:
    """What the block-storage service knows about one volume."""

    uuid: str
    project_id: str
    created_at: datetime.datetime
    measured_at: datetime.datetime
    size_gb: int
    user_id: typing.Optional[str] = None
    name: typing.Optional[str] = None
    volume_type: typing.Optional[str] = None


def build_storage_record(usage, context):
    """Return the :class:`~.records.StorageRecord` of one volume.

    The record id is the volume id (as cASO does), so each run REPLACEs
    the volume's record; the period runs from the volume's creation to the
    measurement time.
    """
    return records.StorageRecord(
        record_id=usage.uuid,
        site_name=context.site_name,
        storage_system=context.cloud_compute_service or context.site_name,
        start_time=records.utc(usage.created_at),
        end_time=records.utc(usage.measured_at),
        capacity_bytes=int(usage.size_gb) * 1024 ** 3,
        local_user_id=usage.user_id,
        local_group_id=usage.project_id,
        global_user_name=context.user_name_for(usage.user_id)
        if usage.user_id else None,
        vo=context.vo_for_project(usage.project_id),
        name=usage.name,
        storage_class=usage.volume_type,
        create_time=records.utc(usage.measured_at),
    )


def build_ip_record(project_id, user_id, ip_version, ip_count,
                    measured_at, context):
    """Return the IP record of one (project, user, version)."""
    return records.IPRecord(
        measurement_time=records.utc(measured_at),
        site_name=context.site_name,
        local_group_id=project_id,
        local_user_id=user_id,
        ip_version=int(ip_version),
        ip_count=int(ip_count),
        global_user_name=context.user_name_for(user_id) if user_id else None,
        vo=context.vo_for_project(project_id),
        cloud_type=context.cloud_type,
        cloud_compute_service=context.cloud_compute_service,
    )
