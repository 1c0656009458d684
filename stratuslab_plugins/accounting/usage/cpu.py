"""CPU-time samples from the libvirt agents, and the CPU seconds in them.

libvirt reports a domain's CPU time (``cpu.time`` of the bulk domain
statistics, nanoseconds) as a counter that starts at zero with each QEMU
process: after a power-off, a migration or a resize the counter starts
again. The agent therefore sends, with each reading, the host and the
domain's *run id* (see :mod:`.runs`: new with every QEMU process, never
repeated); the CPU time of an instance is the sum, over its runs, of the
last reading of each::

    cpu_seconds([CpuSample(uuid, 'cn1', '7:2877@4f1c2a9e', t1, 5 * 10**9),
                 ...], until)

Samples travel as oslo.messaging notifications of priority ``sample`` and
event type :data:`EVENT_TYPE`; :func:`to_payload` and :func:`from_payload`
are the two ends of that wire format.
"""

import dataclasses
import datetime

from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import fields

#: Event type of the agents' notifications.
EVENT_TYPE = 'stratuslab.instance.cpu'
#: Version of the payload below; a listener refuses other major versions.
PAYLOAD_VERSION = '1.0'

NANOSECONDS = 10 ** 9
_MICROSECOND = datetime.timedelta(microseconds=1)
#: Most samples one payload may hold: an agent sends one per domain of
#: its host, and no host runs this many.
MAX_SAMPLES = 10000


@dataclasses.dataclass(frozen=True)
class CpuSample:
    """One reading of one domain's cumulative CPU time.

    :param run_id: which QEMU process of the domain was read (see
        :mod:`.runs`); a new one means the counter restarted from zero.
        Earlier agents sent libvirt's domain ID alone.
    :param sampled_at: when it was read (aware UTC).
    :param cpu_time_ns: the counter, nanoseconds.
    """

    instance_uuid: str
    host: str
    run_id: str
    sampled_at: datetime.datetime
    cpu_time_ns: int


def to_payload(host, samples):
    """Return the notification payload of ``samples`` from ``host``."""
    return {
        'version': PAYLOAD_VERSION,
        'host': host,
        'samples': [{'instance_uuid': s.instance_uuid,
                     'run_id': s.run_id,
                     'sampled_at': s.sampled_at.isoformat(),
                     'cpu_time_ns': s.cpu_time_ns} for s in samples],
    }


def _sample(item, host, what):
    if not isinstance(item, dict):
        raise events.MalformedNotification(
            '%s from host %s: sample %s is not an object'
            % (what, host, fields.shown(item)))
    missing = {'instance_uuid', 'run_id', 'sampled_at', 'cpu_time_ns'} - {
        key for key, value in item.items() if value not in (None, '')}
    if missing:
        raise events.MalformedNotification(
            '%s from host %s: sample %s is incomplete (no %s)'
            % (what, host, fields.shown(item), ', '.join(sorted(missing))))
    return CpuSample(
        sampled_at=fields.parse_time(item['sampled_at'], 'sampled_at', what),
        cpu_time_ns=fields.integer(item['cpu_time_ns'], 'cpu_time_ns', what,
                                   high=fields.MAX_BIGINT),
        **fields.check_identifiers(what, {
            'instance_uuid': item['instance_uuid'], 'host': host,
            'run_id': item['run_id']}))


def from_payload(payload, what='CPU sample notification'):
    """Return the :class:`CpuSample` list of an agent's payload.

    Every value is checked (type, size, range) by :mod:`.fields`.

    :raises events.MalformedNotification: naming what is wrong; no other
        exception, whatever the payload holds.
    """
    if not isinstance(payload, dict) or not isinstance(
            payload.get('samples'), list):
        raise events.MalformedNotification(
            '%s: the payload has no list of samples' % what)
    version = payload.get('version', '')
    if not isinstance(version, str) or \
            version.split('.')[0] != PAYLOAD_VERSION.split('.')[0]:
        raise events.MalformedNotification(
            '%s: payload version %s, this listener reads %s; upgrade the '
            'listener or the agent so both match' % (
                what, fields.shown(version), PAYLOAD_VERSION))
    if len(payload['samples']) > MAX_SAMPLES:
        raise events.MalformedNotification(
            '%s: %d samples in one payload, more than the %d an agent '
            'sends' % (what, len(payload['samples']), MAX_SAMPLES))
    host = payload.get('host')
    if not host:
        raise events.MalformedNotification(
            '%s: the payload names no host' % what)
    host = fields.identifier('host', host, what)
    return [_sample(item, host, what) for item in payload['samples']]


def _segments(samples):
    """Return each run's readings, oldest first, split at counter resets.

    A reading lower than the previous one of a run named by the domain
    ID alone is a restart the agent missed: it starts a new segment.
    """
    segments, current = [], {}
    for sample in sorted(set(samples),
                         key=lambda s: (s.sampled_at, s.cpu_time_ns)):
        run = (sample.host, sample.run_id)
        segment = current.get(run)
        lower = segment and sample.cpu_time_ns < segment[-1].cpu_time_ns
        if lower and ':' in sample.run_id:
            # One QEMU process (see .runs): its counter never goes down,
            # a lower reading is one of the process being torn down.
            continue
        if segment is None or lower:
            segment = current[run] = []
            segments.append(segment)
        segment.append(sample)
    return [s for s in segments if not _continued(s, segments)]


def _continued(segment, segments):
    """Whether an old agent's run is read on by an upgraded agent.

    Earlier agents named a run by libvirt's domain ID alone.
    An agent upgraded while the domain ran names the same QEMU process
    ``<domain ID>:...`` or ``<domain ID>@...``: when the first such run
    on the host after the old one starts at or above the old one's last
    reading, it counts the old one's CPU time already.
    """
    first, last = segment[0], segment[-1]
    if not first.run_id.isdigit():
        return False
    later = [s for s in segments if s[0].host == first.host
             and s[0].run_id.startswith((first.run_id + ':',
                                         first.run_id + '@'))
             and s[0].sampled_at >= last.sampled_at]
    if not later:
        return False
    following = min(later, key=lambda s: s[0].sampled_at)
    return following[0].cpu_time_ns >= last.cpu_time_ns


def _reading_at(segment, until, interpolate):
    """Return a segment's counter at ``until`` (ns), or None before it."""
    taken = [s for s in segment if until is None or s.sampled_at <= until]
    if not taken:
        return None
    last = taken[-1]
    if not interpolate or len(taken) == len(segment):
        return last.cpu_time_ns
    # The counter only grows within a run: between two readings, spread
    # what it gained evenly over the time between them.
    # Integers throughout: a counter of months of CPU time is past the
    # nanosecond precision of a float.
    following = segment[len(taken)]
    elapsed = (until - last.sampled_at) // _MICROSECOND
    between = (following.sampled_at - last.sampled_at) // _MICROSECOND
    return last.cpu_time_ns + (
        following.cpu_time_ns - last.cpu_time_ns) * elapsed // between


def cpu_seconds(samples, until=None, interpolate=False):
    """Return the CPU seconds ``samples`` add up to by ``until``, or None.

    None when no sample was taken by then (no agent reports the instance:
    the record builder then falls back to its own rule). A reading lower
    than the previous one of the same run is dropped when the run is one
    QEMU process (its counter never goes down); in a run an older agent
    named by the domain ID alone it is a restart the agent missed, and
    starts a new run.

    :param samples: every sample of one instance, any order, duplicates
        allowed.
    :param until: ignore samples taken after it (aware UTC); None for all.
    :param interpolate: also count the part of the next reading of a run
        that falls before ``until``, as if the CPU time between two
        readings were spent evenly: what a month-end record needs, so
        that a month gets the CPU time of its last minutes.
    """
    readings = [_reading_at(segment, until, interpolate)
                for segment in _segments(samples)]
    readings = [r for r in readings if r is not None]
    if not readings:
        return None
    return sum(readings) // NANOSECONDS
