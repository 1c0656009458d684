"""Accounting records, and the builders that turn usage into them.

A record is plain data in the terms of the EGI repository: which VM (or
volume, or set of public IPs), whose, for how long. It knows nothing of
its wire format (``messages`` renders it) nor of where usage came from
(``extractors`` read it). Between the two sits one builder per record
type, fed with a *usage* structure such as :class:`ServerUsage`, so a new
source of usage (Nova's API today, the notification ledger tomorrow) only
has to fill that structure::

    context = RecordContext(site_name='MY-SITE', vo_map=vo_map,
                            user_names=user_names.get)
    record = build_cloud_record(ServerUsage(uuid=..., ...), context)

Durations in a cloud record are cumulative since the VM started: the
repository keys a record by VMUUID and month and REPLACEs it, subtracting
the previous month itself. All times are timezone-aware UTC datetimes.
"""

import dataclasses
import datetime
import logging
import math
import typing

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.grid import exceptions as grid_exceptions
from stratuslab_plugins.grid import keys

LOG = logging.getLogger(__name__)

UTC = datetime.timezone.utc

#: APEL cloud ``Status`` values, by lower-case Nova server status. Nova
#: states not listed are reported as ``started`` when the VM has not
#: ended, else ``completed``.
NOVA_STATUS_TO_APEL = {
    'active': 'started',
    'build': 'started',
    'rebuild': 'started',
    'reboot': 'started',
    'hard_reboot': 'started',
    'password': 'started',
    'rescue': 'started',
    'migrating': 'started',
    'resize': 'started',
    'verify_resize': 'started',
    'revert_resize': 'started',
    'paused': 'paused',
    'suspended': 'suspended',
    'shelved': 'suspended',
    'shelved_offloaded': 'completed',
    'shutoff': 'completed',
    'stopped': 'completed',
    'deleted': 'completed',
    'soft_deleted': 'completed',
    'error': 'completed',
}

#: APEL statuses of a VM that is not consuming its flavor any more.
STOPPED_STATUSES = frozenset(('completed',))

#: How CpuDuration is filled when no source measured real CPU time.
CPU_FALLBACK_NONE = 'none'
CPU_FALLBACK_WALL_X_VCPUS = 'wall_x_vcpus'
CPU_FALLBACKS = (CPU_FALLBACK_NONE, CPU_FALLBACK_WALL_X_VCPUS)


def utc(value):
    """Return ``value`` as an aware UTC datetime (naive means UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def epoch(value):
    """Return the integer UNIX time of an aware or naive-UTC datetime."""
    return int(utc(value).timestamp())


def fqan_for_vo(vo):
    """Return the FQAN the repository files a VO's usage under."""
    if not vo:
        return None
    return '/%s/Role=NULL/Capability=NULL' % vo


@dataclasses.dataclass
class CloudRecord:
    """One VM's usage, cumulative since it started (APEL cloud v0.4)."""

    vm_uuid: str
    site_name: str
    start_time: datetime.datetime
    end_time: typing.Optional[datetime.datetime] = None
    measured_at: typing.Optional[datetime.datetime] = None
    machine_name: typing.Optional[str] = None
    local_user_id: typing.Optional[str] = None
    local_group_id: typing.Optional[str] = None
    global_user_name: typing.Optional[str] = None
    vo: typing.Optional[str] = None
    status: typing.Optional[str] = None
    suspend_duration: typing.Optional[int] = None
    wall_duration: typing.Optional[int] = None
    cpu_duration: typing.Optional[int] = None
    cpu_count: typing.Optional[float] = None
    memory: typing.Optional[int] = None
    disk: typing.Optional[int] = None
    public_ip_count: typing.Optional[int] = None
    benchmark_type: typing.Optional[str] = None
    benchmark: typing.Optional[float] = None
    image_id: typing.Optional[str] = None
    cloud_type: typing.Optional[str] = None
    cloud_compute_service: typing.Optional[str] = None
    accelerators: tuple = ()

    kind = 'cloud'

    @property
    def fqan(self):
        return fqan_for_vo(self.vo)

    @property
    def key(self):
        """What identifies the record in the repository (with the month)."""
        return self.vm_uuid


@dataclasses.dataclass
class StorageRecord:
    """One volume's allocation over a period (EMI StAR)."""

    record_id: str
    site_name: str
    storage_system: str
    start_time: datetime.datetime
    end_time: datetime.datetime
    capacity_bytes: int
    local_user_id: typing.Optional[str] = None
    local_group_id: typing.Optional[str] = None
    global_user_name: typing.Optional[str] = None
    vo: typing.Optional[str] = None
    name: typing.Optional[str] = None
    storage_media: str = 'disk'
    storage_class: typing.Optional[str] = None
    create_time: typing.Optional[datetime.datetime] = None

    kind = 'storage'

    @property
    def fqan(self):
        return fqan_for_vo(self.vo)

    @property
    def key(self):
        return self.record_id


@dataclasses.dataclass
class IPRecord:
    """Public IPs one project (and user) holds, per IP version (v0.2)."""

    measurement_time: datetime.datetime
    site_name: str
    local_group_id: str
    ip_version: int
    ip_count: int
    local_user_id: typing.Optional[str] = None
    global_user_name: typing.Optional[str] = None
    vo: typing.Optional[str] = None
    cloud_type: typing.Optional[str] = None
    cloud_compute_service: typing.Optional[str] = None

    kind = 'ip'

    @property
    def fqan(self):
        return fqan_for_vo(self.vo)

    @property
    def key(self):
        # One record per project, user and version: an IPv6 record never
        # overwrites the IPv4 one (cASO keyed them by project and user).
        return '%s/%s/v%d' % (self.local_group_id, self.local_user_id or '',
                              self.ip_version)


@dataclasses.dataclass
class AcceleratorRecord:
    """Accelerators attached to one VM during one month (v0.1)."""

    associated_record: str
    site_name: str
    measurement_month: int
    measurement_year: int
    count: int
    available_duration: int
    accelerator_type: str = 'GPU'
    vo: typing.Optional[str] = None
    global_user_name: typing.Optional[str] = None
    cores: typing.Optional[int] = None
    active_duration: typing.Optional[int] = None
    benchmark_type: typing.Optional[str] = None
    benchmark: typing.Optional[float] = None
    model: typing.Optional[str] = None

    kind = 'accelerator'

    @property
    def fqan(self):
        return fqan_for_vo(self.vo)

    @property
    def key(self):
        return '%s/%04d-%02d' % (self.associated_record,
                                 self.measurement_year,
                                 self.measurement_month)


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


def apel_status(nova_status, ended):
    """Return the APEL ``Status`` of a Nova server status."""
    status = NOVA_STATUS_TO_APEL.get((nova_status or '').lower())
    if status is None:
        status = 'completed' if ended else 'started'
    return status


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
    start = utc(usage.started_at)
    end = utc(usage.ended_at) if status in STOPPED_STATUSES else None
    until = end or utc(usage.measured_at)
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
    """Return the :class:`CloudRecord` of one VM's :class:`ServerUsage`.

    A VM that never started (no ``started_at``) has no usage: the caller
    skips it; passing one is a :class:`RecordError`.
    """
    if usage.started_at is None:
        raise exceptions.RecordError(
            'server %s never started (no launched_at): it has no usage to '
            'record.' % usage.uuid)
    usage = _finite_usage(usage)
    status = apel_status(usage.status, usage.ended_at is not None)
    end, wall = _durations(usage, status)
    benchmark_type, benchmark = benchmark_for(
        usage, context.default_benchmark_type)
    return CloudRecord(
        vm_uuid=usage.uuid,
        site_name=context.site_name,
        start_time=utc(usage.started_at),
        end_time=end,
        measured_at=utc(usage.measured_at),
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
        accelerators=tuple(accelerators_for(usage, wall, context)),
    )


#: Flavor extra specs that declare accelerators: Nova's PCI aliases
#: (``pci_passthrough:alias`` = ``alias:count[,alias:count]``) and
#: Placement resources (``resources:VGPU`` = count).
_PCI_ALIAS_SPEC = 'pci_passthrough:alias'
_VGPU_SPEC = 'resources:VGPU'
#: Most accelerators of one kind a VM may declare: far above any host's.
MAX_ACCELERATOR_COUNT = 1024


def _accelerator_count(value, what, uuid):
    """Return the count ``value`` gives, or None when it gives none.

    Nova checks these specs only under strict validation, so a flavor may
    hold any text: what is not a count (``x``, ``²``, ``1e999``, a
    negative or huge number) is left out with a warning, so that one
    flavor neither stops the run nor writes an absurd Count.
    """
    count = None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 6:
            count = int(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        count = value
    if count is not None and 0 <= count <= MAX_ACCELERATOR_COUNT:
        return count or None
    LOG.warning('Server %s: flavor extra spec %s gives %s, not a count of '
                'accelerators (0 to %d); no accelerator record for it: fix '
                'the flavor.', uuid, what, grid_exceptions.describe(value),
                MAX_ACCELERATOR_COUNT)
    return None


def _accelerator_counts(specs, uuid):
    counts = []
    aliases = specs.get(_PCI_ALIAS_SPEC) or ''
    if not isinstance(aliases, str):
        aliases = ''
        LOG.warning('Server %s: flavor extra spec %s is %s, not text; no '
                    'accelerator record for it: fix the flavor.', uuid,
                    _PCI_ALIAS_SPEC, grid_exceptions.describe(
                        specs[_PCI_ALIAS_SPEC]))
    for item in aliases.split(','):
        alias, _, count = item.strip().partition(':')
        if alias:
            counts.append((alias, _accelerator_count(
                count or '1', _PCI_ALIAS_SPEC, uuid)))
    if specs.get(_VGPU_SPEC):
        counts.append(('VGPU', _accelerator_count(specs[_VGPU_SPEC],
                                                  _VGPU_SPEC, uuid)))
    return [(model, count) for model, count in counts if count]


def accelerators_for(usage, wall, context):
    """Yield an :class:`AcceleratorRecord` per accelerator kind a VM has.

    The accelerator record covers the measurement month; with cumulative
    wall time from the API its AvailableDuration is the VM's time in the
    month of ``measured_at``.
    """
    specs = usage.flavor_extra_specs or {}
    measured = utc(usage.measured_at)
    month_start = measured.replace(day=1, hour=0, minute=0, second=0,
                                   microsecond=0)
    start = max(utc(usage.started_at), month_start)
    end = utc(usage.ended_at) or measured
    in_month = max(0, int((end - start).total_seconds()))
    for model, count in _accelerator_counts(specs, usage.uuid):
        yield AcceleratorRecord(
            associated_record=usage.uuid,
            site_name=context.site_name,
            measurement_month=measured.month,
            measurement_year=measured.year,
            count=count,
            available_duration=min(in_month, wall),
            accelerator_type='GPU',
            vo=context.vo_for_project(usage.project_id),
            global_user_name=context.user_name_for(usage.user_id)
            if usage.user_id else None,
            model=model,
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
    """Return the :class:`StorageRecord` of one volume.

    The record id is the volume id (as cASO does), so each run REPLACEs
    the volume's record; the period runs from the volume's creation to the
    measurement time.
    """
    return StorageRecord(
        record_id=usage.uuid,
        site_name=context.site_name,
        storage_system=context.cloud_compute_service or context.site_name,
        start_time=utc(usage.created_at),
        end_time=utc(usage.measured_at),
        capacity_bytes=int(usage.size_gb) * 1024 ** 3,
        local_user_id=usage.user_id,
        local_group_id=usage.project_id,
        global_user_name=context.user_name_for(usage.user_id)
        if usage.user_id else None,
        vo=context.vo_for_project(usage.project_id),
        name=usage.name,
        storage_class=usage.volume_type,
        create_time=utc(usage.measured_at),
    )


def build_ip_record(project_id, user_id, ip_version, ip_count,
                    measured_at, context):
    """Return the :class:`IPRecord` of one (project, user, version)."""
    return IPRecord(
        measurement_time=utc(measured_at),
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
