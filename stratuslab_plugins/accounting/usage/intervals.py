"""From an instance's events to its intervals, and from intervals to usage.

Pure functions over :class:`~.events.InstanceEvent` lists: the ledger calls
them after every write, the record builder's source reads their results.
They take the *set* of events an instance has, never a stream, which is
what makes the listener tolerant of out-of-order and duplicate delivery:
the same events in any order give the same intervals::

    timeline = build_timeline(events)
    usage = usage_until(timeline, until=period_end)
    usage.wall_seconds, usage.suspend_seconds, usage.status

An instance alternates between kinds (running, suspended, shelved, ...;
see :mod:`.events`); an interval also ends where the flavor changes (a
finished resize), so each interval has one kind and one flavor.
"""

import dataclasses
import datetime
import typing

from stratuslab_plugins.accounting.usage import events as events_mod


@dataclasses.dataclass(frozen=True)
class Flavor:
    """The sizes a record reports, as the latest event saw them."""

    flavor_id: typing.Optional[str] = None
    vcpus: typing.Optional[int] = None
    memory_mb: typing.Optional[int] = None
    disk_gb: typing.Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Interval:
    """A span during which an instance had one kind and one flavor.

    :param end: None while the interval is still open.
    """

    kind: str
    start: datetime.datetime
    end: typing.Optional[datetime.datetime]
    flavor: Flavor = Flavor()

    def seconds_until(self, until):
        """Return the seconds of this interval before ``until``."""
        end = until if self.end is None else min(self.end, until)
        return max(0.0, (end - self.start).total_seconds())


@dataclasses.dataclass(frozen=True)
class InstanceFacts:
    """Who owns an instance and what it is, as its latest events say."""

    uuid: str
    project_id: typing.Optional[str] = None
    user_id: typing.Optional[str] = None
    name: typing.Optional[str] = None
    image_id: typing.Optional[str] = None
    host: typing.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Timeline:
    """Everything the ledger derives from one instance's events.

    :param started_at: when it first ran (the earliest ``launched_at`` or
        event), None if no event says it ever ran.
    :param deleted_at: when it was deleted, None while it exists.
    """

    facts: InstanceFacts
    intervals: typing.Tuple[Interval, ...]
    started_at: typing.Optional[datetime.datetime]
    deleted_at: typing.Optional[datetime.datetime]


@dataclasses.dataclass(frozen=True)
class Usage:
    """One instance's usage up to a time, cumulative since it started.

    The field names match the record builder's ``ServerUsage``, so the
    extractor copies them over. ``status`` is a Nova ``vm_state``.

    :param ended_at: when it was deleted, or when it entered the stopped
        or offloaded state it is still in at ``measured_at``.
    :param cpu_seconds: real CPU seconds from libvirt samples, None when
        no agent reported this instance.
    """

    uuid: str
    started_at: datetime.datetime
    measured_at: datetime.datetime
    ended_at: typing.Optional[datetime.datetime]
    status: str
    wall_seconds: int
    suspend_seconds: int
    cpu_seconds: typing.Optional[int] = None
    project_id: typing.Optional[str] = None
    user_id: typing.Optional[str] = None
    name: typing.Optional[str] = None
    image_id: typing.Optional[str] = None
    host: typing.Optional[str] = None
    vcpus: typing.Optional[int] = None
    memory_mb: typing.Optional[int] = None
    disk_gb: typing.Optional[int] = None


def order_key(event):
    """Return the key events of one instance are ordered by.

    At one instant an observation (exists) comes before a transition, and
    a deletion after everything: it ends the instance.
    """
    if event.kind == events_mod.DELETED:
        rank = 2
    elif event.event_type == events_mod.EXISTS:
        rank = 0
    else:
        rank = 1
    return (event.occurred_at, rank, event.event_type)


def _flavor_of(event, current):
    if event.vcpus is None and event.memory_mb is None:
        return current
    return Flavor(event.flavor_id, event.vcpus, event.memory_mb,
                  event.disk_gb)


def _facts(uuid, ordered, values=None):
    values = dict(values or {})
    for event in ordered:
        for field in ('project_id', 'user_id', 'name', 'image_id', 'host'):
            value = getattr(event, field)
            if value is not None:
                values[field] = value
    return InstanceFacts(uuid=uuid, **values)


def _started_at(ordered):
    candidates = [e.launched_at for e in ordered if e.launched_at]
    running = [e.occurred_at for e in ordered if e.kind is not None
               and e.kind != events_mod.DELETED]
    candidates.extend(running[:1])
    return min(candidates) if candidates else None


def _fold(ordered, kind, flavor, started_at):
    """Yield ``(kind, start, flavor)`` at each change, from a given state."""
    for event in ordered:
        new_kind = event.kind or kind
        new_flavor = _flavor_of(event, flavor)
        if new_kind is None or (new_kind, new_flavor) == (kind, flavor):
            continue
        kind, flavor = new_kind, new_flavor
        yield kind, max(event.occurred_at, started_at), flavor
        if kind == events_mod.DELETED:
            return


def _spans(ordered, started_at):
    """Yield ``(kind, start, flavor)`` at each change of kind or flavor."""
    first_flavor = next((f for f in (_flavor_of(e, None) for e in ordered)
                         if f is not None), Flavor())
    kind = None
    first = next((e for e in ordered if e.kind is not None), None)
    if first is not None and started_at < first.occurred_at:
        kind = events_mod.UNKNOWN
        yield kind, started_at, first_flavor
    yield from _fold(ordered, kind, first_flavor, started_at)


def _intervals_of(spans):
    """Return ``(intervals, deleted_at)`` of consecutive spans."""
    intervals, deleted_at = [], None
    for (kind, start, flavor), following in zip(
            spans, spans[1:] + [(None, None, None)]):
        if kind == events_mod.DELETED:
            deleted_at = start
            break
        end = following[1]
        if end is None or end > start:
            intervals.append(Interval(kind, start, end, flavor))
    return tuple(intervals), deleted_at


def build_timeline(events):
    """Return the :class:`Timeline` of one instance's events.

    :param events: every event the ledger holds for one instance, in any
        order, duplicates allowed.
    """
    ordered = sorted(set(events), key=order_key)
    if not ordered:
        raise ValueError('build_timeline needs at least one event')
    started_at = _started_at(ordered)
    facts = _facts(ordered[0].instance_uuid, ordered)
    if started_at is None:
        return Timeline(facts, (), None, None)
    intervals, deleted_at = _intervals_of(list(_spans(ordered, started_at)))
    return Timeline(facts, intervals, started_at, deleted_at)


def extend_timeline(timeline, last_key, events):
    """Return ``timeline`` continued with ``events``, or None.

    The in-order case, without reading an instance's past events again:
    when every one of ``events`` comes after ``last_key`` (the
    :func:`order_key` of the latest event ``timeline`` was built from),
    continuing from the open interval gives what :func:`build_timeline`
    would give from all events. None when that does not hold (an event
    from the past, a launch earlier than the start, no open interval):
    the caller then rebuilds from every event.

    :param timeline: the instance's timeline; only its last interval is
        read, and the intervals returned replace that one.
    """
    ordered = sorted(set(events), key=order_key)
    if (not ordered or timeline.started_at is None
            or order_key(ordered[0]) <= last_key
            or any(e.launched_at and e.launched_at < timeline.started_at
                   for e in ordered)):
        return None
    facts = _facts(timeline.facts.uuid, ordered,
                   {k: v for k, v in dataclasses.asdict(
                       timeline.facts).items() if k != 'uuid'
                    and v is not None})
    if timeline.deleted_at is not None:
        return dataclasses.replace(timeline, facts=facts, intervals=())
    if not timeline.intervals or timeline.intervals[-1].end is not None:
        return None
    last = timeline.intervals[-1]
    spans = [(last.kind, last.start, last.flavor)]
    spans.extend(_fold(ordered, last.kind, last.flavor,
                       timeline.started_at))
    intervals, deleted_at = _intervals_of(spans)
    return Timeline(facts, intervals, timeline.started_at, deleted_at)


def _kind_at(timeline, until):
    if timeline.deleted_at is not None and timeline.deleted_at <= until:
        return events_mod.DELETED, None
    current = None
    for interval in timeline.intervals:
        if interval.start <= until:
            current = interval
    return (current.kind, current) if current else (None, None)


def _ended_at(timeline, kind, interval):
    if kind == events_mod.DELETED:
        return timeline.deleted_at
    if kind in (events_mod.STOPPED, events_mod.OFFLOADED):
        return interval.start
    return None


def usage_until(timeline, until, cpu_seconds=None):
    """Return the :class:`Usage` of a timeline up to ``until``, or None.

    None when the instance had not started by ``until``.

    :param until: the end of the accounting period (aware UTC); durations
        of an instance still running run up to it.
    :param cpu_seconds: real CPU seconds to report (from :mod:`.cpu`).
    """
    if timeline.started_at is None or timeline.started_at > until:
        return None
    kind, interval = _kind_at(timeline, until)
    wall = sum(i.seconds_until(until) for i in timeline.intervals
               if i.kind in events_mod.WALL_KINDS)
    suspend = sum(i.seconds_until(until) for i in timeline.intervals
                  if i.kind in events_mod.SUSPEND_KINDS)
    flavor = interval.flavor if interval else (
        timeline.intervals[-1].flavor if timeline.intervals else Flavor())
    facts = timeline.facts
    return Usage(
        uuid=facts.uuid,
        started_at=timeline.started_at,
        measured_at=until,
        ended_at=_ended_at(timeline, kind, interval),
        status=events_mod.NOVA_STATE_OF_KIND.get(kind, 'active'),
        wall_seconds=int(wall),
        suspend_seconds=int(suspend),
        cpu_seconds=cpu_seconds,
        project_id=facts.project_id,
        user_id=facts.user_id,
        name=facts.name,
        image_id=facts.image_id,
        host=facts.host,
        vcpus=flavor.vcpus,
        memory_mb=flavor.memory_mb,
        disk_gb=flavor.disk_gb,
    )
