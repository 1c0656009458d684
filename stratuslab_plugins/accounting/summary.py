"""Usage summed over a period, by VO or by project, from cloud records.

A cloud record's durations are cumulative since the VM started; to say
how much a VO used between two dates, each record contributes the part of
its life inside the period: wall hours are the overlap of
``[StartTime, EndTime or measurement time]`` with ``[since, until]``;
CPU hours are the record's CpuDuration in the same proportion (CPU time
is assumed spread evenly over the VM's life, the best the record tells),
and are counted only where CpuDuration is known. ``openstack accounting
usage`` prints this.
"""

import collections
import dataclasses

from stratuslab_plugins.accounting import records

NO_VO = '(no VO)'


def overlap_seconds(record, since, until):
    """Return the seconds of a cloud record's life within the period."""
    start = max(records.utc(record.start_time), records.utc(since))
    end = record.end_time or record.measured_at or until
    end = min(records.utc(end), records.utc(until))
    return max(0, int((end - start).total_seconds()))


@dataclasses.dataclass
class UsageRow:
    key: str
    servers: int = 0
    wall_hours: float = 0.0
    vcpu_hours: float = 0.0
    cpu_hours: float = 0.0
    cpu_known: int = 0


def summarise(cloud_records, by, since, until):
    """Return ``[UsageRow]`` sorted by key, one per VO or project.

    :param by: ``vo`` or ``project``.
    """
    if by not in ('vo', 'project'):
        raise ValueError('by must be vo or project, not %r' % (by,))
    rows = collections.OrderedDict()
    for record in cloud_records:
        if record.kind != 'cloud':
            continue
        seconds = overlap_seconds(record, since, until)
        if not seconds:
            continue
        key = (record.vo or NO_VO) if by == 'vo' else record.local_group_id
        row = rows.setdefault(key, UsageRow(key))
        row.servers += 1
        row.wall_hours += seconds / 3600.0
        row.vcpu_hours += seconds * (record.cpu_count or 0) / 3600.0
        if record.cpu_duration is not None and record.wall_duration:
            share = min(1.0, seconds / record.wall_duration)
            row.cpu_hours += record.cpu_duration * share / 3600.0
            row.cpu_known += 1
    return [rows[key] for key in sorted(rows, key=str)]
