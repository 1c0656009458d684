"""What the usage API answers, computed from the ledger with plain data.

Three reports, each a function of the ledger and a period, free of HTTP
so that the API, tests and tools call them alike:

* :func:`usage_series`: wall and CPU hours per VO (or project) in each
  day or month of a period. The usage ledger gives an instance's usage
  *cumulative* up to a time; a bucket's value is the difference between
  its two ends, so an instance running across a bucket boundary counts in
  both buckets, each for its own share, exactly;
* :func:`instance_records`: one row per instance alive in the period with
  its usage and its *send state* against the accounting's extraction
  window (``sent``: it ended before the window end, so its final record
  was handed to the messengers; ``partial``: reported up to the window
  end and still growing; ``pending``: started after it);
* :func:`queue_state`: how many messages wait in the outgoing APEL queue
  (the ``dirq`` directory ``ssmsend`` empties) and the last runs.

Who may see which project is decided by the caller through ``visible``,
a predicate on ``(project_id, vo)``; see :mod:`.policy`.
"""

import calendar
import dataclasses
import datetime
import os

from stratuslab_plugins.accounting import exceptions

UTC = datetime.timezone.utc
STEPS = ('day', 'month')
NO_VO = '(no VO)'
# The extractor whose window tells what of a VM's usage was sent.
CLOUD_EXTRACTOR = 'nova'


class BadRequest(exceptions.AccountingError):
    """A request parameter cannot be used; the message names it."""


def parse_time(value, name):
    """Parse an ISO 8601 query parameter (UTC when it has no offset)."""
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadRequest('%s=%r is not an ISO 8601 time such as '
                         '2026-11-01 or 2026-11-01T12:00:00+00:00'
                         % (name, value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def start_of_month(when):
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period(since, until, now, max_days):
    """Return ``(since, until)`` from query values; default: this month.

    :param since: a string or None. :param until: a string or None.
    :param max_days: the longest period allowed (``[accounting_api]
        max_period_days``).
    """
    until = parse_time(until, 'until') if until else now
    since = parse_time(since, 'since') if since else start_of_month(until)
    if since >= until:
        raise BadRequest('since=%s is not before until=%s'
                         % (since.isoformat(), until.isoformat()))
    if (until - since).days > max_days:
        raise BadRequest(
            'the period %s..%s is longer than %d days ([accounting_api] '
            'max_period_days); ask for a shorter one'
            % (since.date(), until.date(), max_days))
    return since, until


def _next_boundary(when, step):
    if step == 'day':
        return (when + datetime.timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(when.year, when.month)[1]
    return start_of_month(when) + datetime.timedelta(days=days)


def boundaries(since, until, step, max_points):
    """Return the bucket edges ``[since, b1, ..., until]``.

    Buckets follow calendar days or months (UTC); the first and last are
    cut to the period.
    """
    if step not in STEPS:
        raise BadRequest('step=%r is not one of %s' % (step, ', '.join(STEPS)))
    edges = [since]
    while edges[-1] < until:
        edges.append(min(_next_boundary(edges[-1], step), until))
        if len(edges) > max_points + 1:
            raise BadRequest(
                'step=%s over %s..%s gives more than %d buckets '
                '([accounting_api] max_points): use step=month or a shorter '
                'period' % (step, since.date(), until.date(), max_points))
    return edges


@dataclasses.dataclass
class Point:
    start: datetime.datetime
    end: datetime.datetime
    wall_hours: float = 0.0
    cpu_hours: float = 0.0

    def as_dict(self):
        return {'start': self.start.isoformat(), 'end': self.end.isoformat(),
                'wall_hours': round(self.wall_hours, 4),
                'cpu_hours': round(self.cpu_hours, 4)}


def _group_key(usage, by, vo_for_project):
    if by == 'project':
        return usage.project_id or ''
    return vo_for_project(usage.project_id) or NO_VO


def usage_series(ledger, vo_for_project, visible, since, until, step='day',
                 by='vo', max_points=400):
    """Return ``{key: [Point, ...]}``, one series per VO or project.

    :param ledger: a :class:`~..ledger.usage.UsageLedger`.
    :param vo_for_project: ``project_id -> VO or None``.
    :param visible: ``(project_id, vo) -> bool``, the caller's scope.
    """
    if by not in ('vo', 'project'):
        raise BadRequest('by=%r is not vo or project' % (by,))
    edges = boundaries(since, until, step, max_points)
    alive = ledger.usage_by_instance(since, until)
    keys = {uuid: _group_key(usage, by, vo_for_project)
            for uuid, usage in alive.items()
            if visible(usage.project_id, vo_for_project(usage.project_id))}
    series = {key: [Point(a, b) for a, b in zip(edges, edges[1:])]
              for key in set(keys.values())}
    previous = ledger.usage_for_instances(list(keys), edges[0])
    for index, edge in enumerate(edges[1:]):
        current = (alive if edge == until
                   else ledger.usage_for_instances(list(keys), edge))
        for uuid, key in keys.items():
            now, before = current.get(uuid), previous.get(uuid)
            if now is None:
                continue
            point = series[key][index]
            point.wall_hours += (now.wall_seconds - (
                before.wall_seconds if before else 0)) / 3600.0
            if now.cpu_seconds is not None:
                point.cpu_hours += (now.cpu_seconds - (
                    (before.cpu_seconds or 0) if before else 0)) / 3600.0
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


def instance_records(ledger, state_ledger, vo_for_project, visible, since,
                     until):
    """Return one dict per visible instance alive in the period."""
    reported_until = window_end(state_ledger)
    rows = []
    for uuid, usage in sorted(ledger.usage_by_instance(since, until).items()):
        vo = vo_for_project(usage.project_id)
        if not visible(usage.project_id, vo):
            continue
        rows.append({
            'uuid': uuid, 'name': usage.name, 'project_id': usage.project_id,
            'vo': vo, 'status': usage.status, 'host': usage.host,
            'started_at': usage.started_at.isoformat(),
            'ended_at': usage.ended_at and usage.ended_at.isoformat(),
            'wall_hours': round(usage.wall_seconds / 3600.0, 4),
            'cpu_hours': (None if usage.cpu_seconds is None
                          else round(usage.cpu_seconds / 3600.0, 4)),
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
    """Return the outgoing APEL queue's state and the last runs."""
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
    end = window_end(state_ledger)
    state['reported_until'] = end and end.isoformat()
    return state
