"""What the usage API answers, computed from the ledger with plain data.

Three reports, each a function of the ledger and a period, free of HTTP
so that the API, tests and tools call them alike:

* :func:`usage_series`: wall and CPU hours per VO (or project) in each
  day or month of a period. The usage ledger gives an instance's usage
  *cumulative* up to a time; a bucket's value is the difference between
  its two ends, so an instance running across a bucket boundary counts in
  both buckets, each for its own share, exactly. A bucket still running
  at the time of the request is flagged ``partial``; CPU time no agent
  measured is None (JSON ``null``), never 0;
* :func:`instance_records`: one row per instance alive in the period with
  its usage within the period, its lifetime totals, and its *send state*
  against the accounting's extraction window (``sent``: it ended before
  the window end, so its final record was handed to the messengers;
  ``partial``: reported up to the window end and still growing;
  ``pending``: started after it);
* :func:`queue_state`: how many messages wait in the outgoing APEL queue
  (the ``dirq`` directory ``ssmsend`` empties) and the last runs, failed
  ones included.

Who may see which project is decided by the caller through ``visible``,
a predicate on ``(project_id, vo)``; see :mod:`.policy`.
"""

import dataclasses
import datetime
import os

from stratuslab_plugins.accounting.api import periods

UTC = datetime.timezone.utc
NO_VO = '(no VO)'
# The extractor whose window tells what of a VM's usage was sent.
CLOUD_EXTRACTOR = 'nova'


def used_between(now, before):
    """Return ``(wall seconds, CPU seconds or None)`` between two snapshots.

    :param now: an instance's :class:`~..usage.intervals.Usage` at the
        later time. :param before: at the earlier one, None if it had not
        started then.

    CPU seconds are None (unknown) when no agent sample covers the later
    time, or when the instance had run before the earlier time without a
    sample by then: the libvirt counter is cumulative, so its first
    reading holds everything the instance used before it, which must not
    be counted in the later bucket.
    """
    wall = now.wall_seconds - (before.wall_seconds if before else 0)
    if now.cpu_seconds is None:
        return wall, None
    if before is None or (before.cpu_seconds is None
                          and not before.wall_seconds):
        return wall, now.cpu_seconds
    if before.cpu_seconds is None:
        return wall, None
    return wall, now.cpu_seconds - before.cpu_seconds


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600.0, 4)


@dataclasses.dataclass
class Point:
    """One bucket of one series.

    CPU hours sum the instances whose CPU time is known (``cpu_known`` of
    them); ``cpu_unknown`` counts those that ran in the bucket whose CPU
    time is not, and when no instance's is known the CPU hours are None,
    never 0.
    """

    start: datetime.datetime
    end: datetime.datetime
    partial: bool = False
    wall_seconds: int = 0
    cpu_seconds: int = 0
    cpu_known: int = 0
    cpu_unknown: int = 0

    def add(self, wall_seconds, cpu_seconds):
        if not wall_seconds and not cpu_seconds:
            return
        self.wall_seconds += wall_seconds
        if cpu_seconds is None:
            self.cpu_unknown += 1
        else:
            self.cpu_seconds += cpu_seconds
            self.cpu_known += 1

    def as_dict(self):
        return {'start': self.start.isoformat(), 'end': self.end.isoformat(),
                'partial': self.partial,
                'wall_hours': _hours(self.wall_seconds),
                'cpu_hours': (None if self.cpu_unknown and not self.cpu_known
                              else _hours(self.cpu_seconds)),
                'cpu_known': self.cpu_known,
                'cpu_unknown': self.cpu_unknown}


def _group_key(usage, by, vo_for_project):
    if by == 'project':
        return usage.project_id or ''
    return vo_for_project(usage.project_id) or NO_VO


def usage_series(ledger, vo_for_project, visible, period, step='day',
                 by='vo', max_points=400):
    """Return ``{key: [Point, ...]}``, one series per VO or project.

    :param ledger: a :class:`~..ledger.usage.UsageLedger`.
    :param vo_for_project: ``project_id -> VO or None``.
    :param visible: ``(project_id, vo) -> bool``, the caller's scope.
    :param period: a :class:`~.periods.Period`; a bucket still running at
        its ``now`` is marked partial.
    """
    periods.choice(by, 'by', periods.GROUPINGS, None)
    edges = periods.boundaries(period.since, period.until, step, max_points)
    alive = ledger.usage_by_instance(period.since, period.until)
    keys = {uuid: _group_key(usage, by, vo_for_project)
            for uuid, usage in alive.items()
            if visible(usage.project_id, vo_for_project(usage.project_id))}
    series = {key: [Point(a, b, partial=period.partial(a, step))
                    for a, b in zip(edges, edges[1:])]
              for key in set(keys.values())}
    previous = ledger.usage_for_instances(list(keys), edges[0])
    for index, edge in enumerate(edges[1:]):
        current = (alive if edge == period.until
                   else ledger.usage_for_instances(list(keys), edge))
        for uuid, key in keys.items():
            if uuid in current:
                series[key][index].add(*used_between(current[uuid],
                                                     previous.get(uuid)))
        previous = current
    return dict(sorted(series.items()))


def window_end(state_ledger):
    """Return where the cloud extractor's window ends, or None."""
    ends = [end for extractor, _region, _site, end in state_ledger.windows()
            if extractor == CLOUD_EXTRACTOR]
    return min(ends) if ends else None


def send_state(usage, reported_until):
    """Say what of an instance's usage the accounting has handed over."""
    if reported_until is None or usage.started_at >= reported_until:
        return 'pending'
    if usage.ended_at is not None and usage.ended_at <= reported_until:
        return 'sent'
    return 'partial'


def instance_records(ledger, state_ledger, vo_for_project, visible,
                     period):
    """Return one dict per visible instance alive in the period.

    ``wall_hours`` and ``cpu_hours`` are what it used within the period;
    ``lifetime_wall_hours`` and ``lifetime_cpu_hours`` its whole life up to the
    period's end (what an APEL record of it reports). Unknown CPU time is
    None.
    """
    reported_until = window_end(state_ledger)
    alive = ledger.usage_by_instance(period.since, period.until)
    shown = {uuid: usage for uuid, usage in alive.items()
             if visible(usage.project_id, vo_for_project(usage.project_id))}
    before = ledger.usage_for_instances(list(shown), period.since)
    rows = []
    for uuid, usage in sorted(shown.items()):
        wall, cpu = used_between(usage, before.get(uuid))
        rows.append({
            'uuid': uuid, 'name': usage.name, 'project_id': usage.project_id,
            'vo': vo_for_project(usage.project_id), 'status': usage.status,
            'host': usage.host,
            'started_at': usage.started_at.isoformat(),
            'ended_at': usage.ended_at and usage.ended_at.isoformat(),
            'wall_hours': _hours(wall), 'cpu_hours': _hours(cpu),
            'lifetime_wall_hours': _hours(usage.wall_seconds),
            'lifetime_cpu_hours': _hours(usage.cpu_seconds),
            'vcpus': usage.vcpus,
            'send_state': send_state(usage, reported_until)})
    return {'reported_until': reported_until and reported_until.isoformat(),
            'records': rows}


def _queue_messages(path):
    # The dirq QueueSimple layout: <path>/<8-hex bucket>/<14-hex name>.
    # Counted by hand rather than with dirq's QueueSimple, which creates
    # the directory when missing: a read-only API must not.
    names = []
    for bucket in sorted(os.listdir(path)):
        directory = os.path.join(path, bucket)
        if len(bucket) != 8 or not os.path.isdir(directory):
            continue
        names.extend(os.path.join(directory, name)
                     for name in os.listdir(directory) if len(name) == 14)
    return names


def queue_state(path, state_ledger, runs=5):
    """Return the outgoing APEL queue's state and the last runs.

    Each run has its ``outcome`` (``published``, or ``failed`` with its
    ``error``); ``last_run`` is the newest, None before any.
    """
    state = {'path': path, 'exists': bool(path) and os.path.isdir(path),
             'messages': 0, 'oldest': None}
    if state['exists']:
        names = _queue_messages(path)
        state['messages'] = len(names)
        if names:
            oldest = min(os.stat(name).st_mtime for name in names)
            state['oldest'] = datetime.datetime.fromtimestamp(
                oldest, UTC).isoformat()
    state['runs'] = [
        dict(run, **{key: run[key] and run[key].isoformat()
                     for key in ('finished_at', 'window_start',
                                 'window_end')})
        for run in state_ledger.last_runs(runs)]
    state['last_run'] = state['runs'][0] if state['runs'] else None
    end = window_end(state_ledger)
    state['reported_until'] = end and end.isoformat()
    return state
