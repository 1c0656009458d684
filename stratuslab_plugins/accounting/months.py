"""Month-end records: every second of usage booked in the month it happened.

The APEL repository files a cloud record under the month of its
measurement time (``RecordCreateTime``; the ``EndTime`` of a
``completed`` VM), keeps one record per VM and month (a later one
REPLACEs it), and its summariser takes a VM's usage in a month as its
last record of that month minus its last record before (APEL 2.5.0,
``schemas/cloud.sql``: ``ReplaceCloudRecord`` and ``SummariseVMs``).
One record per VM at the end of each publish window would therefore book
25-30 November into December for a window from 25 November to
2 December, and a VM's whole past into the month of its first
publication.

So each cloud record of a run is preceded by one record per month end
the VM lived across since its previous publication (or, at its first
publication, since it started, as far back as ``[accounting]
first_publication_months`` allows): its cumulative usage to that month
end (the first instant of the next month), stamped with the month's last
second, the latest time the repository still files in that month::

    ends = MonthEnds(measured, cpu_fallback='none')
    for record in ends.with_month_ends(records, floor, until):
        ...   # a VM's month-end records, oldest first, then its own

The usage at a month end comes from the usage ledger where it knows the
VM: its intervals give wall and suspend time, status and flavor at that
instant, and the libvirt agents' readings give CPU time, spread evenly
between the two readings around it. A VM the ledger does not know is
split the way its own record counts it: running from its start to its
end. A VM that stopped before a month began has no record for that
month (its earlier record stands).
"""

import dataclasses
import datetime

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import records

#: A month-end record is stamped this long before the month's end: the
#: repository files the first second of the next month in that month.
LAST_SECOND = datetime.timedelta(seconds=1)
#: Cloud records whose month ends are read from the ledger together.
BATCH = 100


def month_start(moment):
    """Return the first instant of ``moment``'s month."""
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(moment, count):
    """Return the first instant of a month ``count`` months away.

    After ``moment``'s month, or before it when ``count`` is negative.
    """
    index = moment.year * 12 + moment.month - 1 + count
    return month_start(moment).replace(year=index // 12,
                                       month=index % 12 + 1)


def month_ends(after, until):
    """Return the month ends ``B`` with ``after < B <= until``, oldest first.

    A month end is the first instant of the next month (aware UTC).
    """
    ends = []
    end = add_months(records.utc(after), 1)
    while end <= until:
        ends.append(end)
        end = add_months(end, 1)
    return ends


def first_publication_floor(until, months):
    """Return the earliest month end a first publication reaches, exclusive.

    :param months: how many months before ``until``'s a VM's first
        publication books into their own months.
    """
    return add_months(records.utc(until), -months)


def boundaries(record, floor, until):
    """Return the month ends a cloud record needs a record at.

    Those after ``floor`` and the VM's start, up to ``until`` or, for a
    VM completed by then, its end.
    """
    upper = until
    if record.status in records.STOPPED_STATUSES and record.end_time:
        upper = min(until, record.end_time)
    return month_ends(max(records.utc(floor), record.start_time), upper)


def _measured_changes(usage):
    """Return the record fields the ledger's usage at a month end sets."""
    status = records.apel_status(usage.status, usage.ended_at is not None)
    changes = {
        'status': status,
        'end_time': (usage.ended_at if status in records.STOPPED_STATUSES
                     else None),
        'wall_duration': usage.wall_seconds,
        'suspend_duration': usage.suspend_seconds,
    }
    # A resize changes the flavor: the month end reports the one then.
    for field, value in (('cpu_count', usage.vcpus),
                         ('memory', usage.memory_mb),
                         ('disk', usage.disk_gb)):
        if value is not None:
            changes[field] = float(value) if field == 'cpu_count' else value
    return changes


def _unmeasured_changes(record, boundary):
    """Return a month end's fields of a VM known only by its record.

    It ran from its start to its end, as its record counts it.
    """
    end = record.end_time
    if end is not None and end > boundary:
        end = None
    status = record.status
    if end is None and status in records.STOPPED_STATUSES:
        status = 'started'
    wall = int(((end or boundary) - record.start_time).total_seconds())
    return {'status': status, 'end_time': end, 'wall_duration': max(0, wall),
            'suspend_duration': None}


def _cpu_at(wall, cpu_count, cpu_seconds, sampled, cpu_fallback):
    if sampled:
        # An agent read this VM: its readings or nothing, never an
        # estimate the later records' measured time would be taken from.
        return cpu_seconds
    if cpu_fallback == builders.CPU_FALLBACK_WALL_X_VCPUS and cpu_count:
        return int(wall * cpu_count)
    return None


def at_month_end(record, boundary, usage=None, cpu_seconds=None,
                 sampled=False, cpu_fallback=builders.CPU_FALLBACK_NONE):
    """Return ``record`` as of the month end ``boundary``, or None.

    None when the VM used nothing in the month that ends there (it
    stopped before the month began).

    :param usage: the ledger's :class:`~.usage.intervals.Usage` at
        ``boundary``; None for a VM the ledger does not know.
    :param cpu_seconds: its CPU seconds at ``boundary`` from the agents'
        readings, None if none was taken by then.
    :param sampled: whether an agent ever read the VM.
    :param cpu_fallback: the run's ``RecordContext.cpu_fallback``.
    """
    if usage is not None:
        changes = _measured_changes(usage)
    else:
        changes = _unmeasured_changes(record, boundary)
    end = changes['end_time']
    if end is not None and end < add_months(boundary, -1):
        return None
    if end is not None and end >= boundary:
        # Stopped at the month end's very instant: it ran all the month,
        # and a completed record would be filed in the next one.
        changes.update(status='started', end_time=None)
    changes['cpu_duration'] = _cpu_at(
        changes['wall_duration'], changes.get('cpu_count', record.cpu_count),
        cpu_seconds, sampled, cpu_fallback)
    return dataclasses.replace(record, measured_at=boundary - LAST_SECOND,
                               accelerators=(), **changes)


class MonthEnds:
    """Puts a VM's month-end records before its record in a stream.

    :param measured: a :class:`~.usage.measured.LedgerUsage`, or None
        where the run reads no usage ledger.
    :param cpu_fallback: the run's ``RecordContext.cpu_fallback``.
    """

    def __init__(self, measured=None,
                 cpu_fallback=builders.CPU_FALLBACK_NONE):
        self.measured = measured
        self.cpu_fallback = cpu_fallback

    def with_month_ends(self, items, floor, until):
        """Yield ``items``, each cloud record after its month-end records.

        Records that need none pass at once; the others wait in batches
        of :data:`BATCH`, whose month ends are read together.

        :param items: records of any kind, in the order to hand over.
        :param floor: month ends after it only: the window's start, or
            further back at a VM's first publication.
        :param until: the run's end.
        """
        batch, waiting = [], 0
        for item in items:
            plan = (boundaries(item, floor, until) if item.kind == 'cloud'
                    else [])
            if not plan and not batch:
                yield item
                continue
            batch.append((item, plan))
            waiting += bool(plan)
            if waiting >= BATCH:
                yield from self._flush(batch)
                batch, waiting = [], 0
        yield from self._flush(batch)

    def _flush(self, batch):
        readings = self._readings(batch)
        for item, plan in batch:
            for boundary in plan:
                usage, cpu_seconds, sampled = readings.get(
                    (item.vm_uuid, boundary), (None, None, False))
                record = at_month_end(item, boundary, usage, cpu_seconds,
                                      sampled, self.cpu_fallback)
                if record is not None:
                    yield record
            yield item

    def _readings(self, batch):
        """Return ``{(uuid, month end): (usage, cpu seconds, sampled)}``."""
        wanted = {}
        for item, plan in batch:
            for boundary in plan:
                wanted.setdefault(boundary, set()).add(item.vm_uuid)
        if not wanted or self.measured is None:
            return {}
        samples = self.measured.cpu_samples(
            sorted(set().union(*wanted.values())))
        readings = {}
        for boundary, uuids in sorted(wanted.items()):
            usages, cpu = self.measured.as_of(sorted(uuids), boundary,
                                              samples)
            for uuid in uuids:
                readings[(uuid, boundary)] = (
                    usages.get(uuid), cpu.get(uuid), uuid in samples)
        return readings
