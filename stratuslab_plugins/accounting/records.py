"""Accounting records: usage in the terms of the EGI repository.

A record is plain data in the terms of the EGI repository: which VM (or
volume, or set of public IPs), whose, for how long. It knows nothing of
its wire format (``messages`` renders it) nor of where usage came from
(``extractors`` read it, ``builders`` turn that usage into records), so
that every one of those reads the same few classes here, with the
vocabulary they share: APEL's VM ``Status`` and the FQAN of a VO.

Durations in a cloud record are cumulative since the VM started: the
repository keys a record by VMUUID and month and REPLACEs it, subtracting
the previous month itself. All times are timezone-aware UTC datetimes.
"""

import dataclasses
import datetime
import typing

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


def apel_status(nova_status, ended):
    """Return the APEL ``Status`` of a Nova server status."""
    status = NOVA_STATUS_TO_APEL.get((nova_status or '').lower())
    if status is None:
        status = 'completed' if ended else 'started'
    return status


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
