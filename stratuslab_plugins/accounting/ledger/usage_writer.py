"""Writing the listener's batches into the usage ledger, at broker speed.

A listener hands over batches of hundreds of notifications, thousands a
second; each batch is one transaction, acknowledged after its commit.
Whatever its size, a batch of instance events takes the same few
statements, each an ``executemany`` of a statement built once per
database (so SQLAlchemy compiles it once):

1. *lock* the batch's instances: an upsert of their ``usage_instances``
   rows, in uuid order (a new instance gets a placeholder row). Another
   listener's transaction touching one of them waits here until this one
   commits, and then reads what it wrote: exact with several listeners on
   one queue, without table locks, gap locks or SERIALIZABLE (safe on
   Galera, where a conflict between nodes fails a commit, which is tried
   again). Not on SQLite, whose writers take turns (``BEGIN
   IMMEDIATE``);
2. *read* each instance's row joined with its open interval;
3. *append* the events, skipping those already recorded (redelivery);
4. *close* the open intervals the events ended (an upsert by id);
5. *append* the new intervals;
6. *write* the instances' facts and the key of their latest event.

Between 2 and 3, in Python: an instance whose new events all come after
its latest recorded one continues from its open interval
(:func:`~stratuslab_plugins.accounting.usage.intervals.extend_timeline`);
a new instance is built from the batch's events alone. Only an instance
with an event from its past (out-of-order delivery, a redelivered event)
is rebuilt from all its events: one more read, and its intervals
replaced. Every path gives what
:func:`~stratuslab_plugins.accounting.usage.intervals.build_timeline`
gives from all of an instance's events.
"""

import datetime

from stratuslab_plugins.accounting.ledger import usage_schema as schema
from stratuslab_plugins.accounting.ledger import usage_statements as sql
from stratuslab_plugins.accounting.usage import events as events_mod
from stratuslab_plugins.accounting.usage import fields
from stratuslab_plugins.accounting.usage import intervals as intervals_mod

UTC = datetime.timezone.utc
#: Characters of a rejected notification's reason and payload kept: a
#: MariaDB ``TEXT`` holds 65,535 bytes, and the text is ASCII.
REASON_LIMIT = 2000
PAYLOAD_LIMIT = 60000
#: ``last_event_rank`` of a placeholder row, inserted by step 1 of the
#: transaction that sees it (a committed row always has its real rank).
PLACEHOLDER_RANK = -1


def event_row(event):
    """Return the ``usage_events`` row of an InstanceEvent."""
    return {
        'instance_uuid': event.instance_uuid,
        'event_type': event.event_type,
        'occurred_at': schema.to_us(event.occurred_at),
        'kind': event.kind,
        'message_id': event.message_id,
        'project_id': event.project_id,
        'user_id': event.user_id,
        'name': event.name,
        'image_id': event.image_id,
        'host': event.host,
        'flavor_id': event.flavor_id,
        'vcpus': event.vcpus,
        'memory_mb': event.memory_mb,
        'disk_gb': event.disk_gb,
        'launched_at': schema.to_us(event.launched_at),
    }


def _event_of(row):
    values = dict(row._mapping)
    del values['id']
    values['occurred_at'] = schema.from_us(values['occurred_at'])
    values['launched_at'] = schema.from_us(values['launched_at'])
    return events_mod.InstanceEvent(**values)


def _interval_row(uuid, interval):
    flavor = interval.flavor
    return {'instance_uuid': uuid, 'kind': interval.kind,
            'started_at': schema.to_us(interval.start),
            'ended_at': schema.to_us(interval.end),
            'flavor_id': flavor.flavor_id, 'vcpus': flavor.vcpus,
            'memory_mb': flavor.memory_mb, 'disk_gb': flavor.disk_gb}


def _instance_row(timeline, last_key):
    facts = timeline.facts
    return {'instance_uuid': facts.uuid,
            'project_id': facts.project_id,
            'user_id': facts.user_id,
            'name': facts.name,
            'image_id': facts.image_id,
            'host': facts.host,
            'started_at': schema.to_us(timeline.started_at),
            'deleted_at': schema.to_us(timeline.deleted_at),
            'last_event_at': schema.to_us(last_key[0]),
            'last_event_rank': last_key[1],
            'last_event_type': last_key[2]}


def _stored(row):
    """Return ``(timeline, last key, open interval)`` of a state row.

    The timeline holds only the open interval (None if there is none).
    """
    open_interval = None
    if row.open_id is not None:
        open_interval = intervals_mod.Interval(
            row.open_kind, schema.from_us(row.open_started_at), None,
            intervals_mod.Flavor(row.flavor_id, row.vcpus, row.memory_mb,
                                 row.disk_gb))
    timeline = intervals_mod.Timeline(
        facts=intervals_mod.InstanceFacts(
            uuid=row.instance_uuid, project_id=row.project_id,
            user_id=row.user_id, name=row.name, image_id=row.image_id,
            host=row.host),
        intervals=(open_interval,) if open_interval else (),
        started_at=schema.from_us(row.started_at),
        deleted_at=schema.from_us(row.deleted_at))
    key = (schema.from_us(row.last_event_at), row.last_event_rank,
           row.last_event_type)
    return timeline, key, open_interval


class _Changes(object):
    """The rows a batch writes, gathered before the statements run."""

    def __init__(self):
        self.closed = []
        self.dropped = []
        self.added = []
        self.instances = []
        self.rebuilt = []

    def new(self, uuid, timeline, last_key):
        self.added.extend(_interval_row(uuid, i) for i in timeline.intervals)
        self.instances.append(_instance_row(timeline, last_key))

    def extended(self, row, open_interval, timeline, last_key):
        """Continue a stored open interval with ``timeline``'s intervals."""
        uuid, spans = row.instance_uuid, timeline.intervals
        if open_interval is not None:
            first = spans[0] if spans else None
            if first is not None and (first.kind, first.start,
                                      first.flavor) == (
                    open_interval.kind, open_interval.start,
                    open_interval.flavor):
                if first.end is not None:
                    closed = _interval_row(uuid, first)
                    closed['id'] = row.open_id
                    self.closed.append(closed)
                spans = spans[1:]
            else:
                self.dropped.append(row.open_id)
        self.added.extend(_interval_row(uuid, i) for i in spans)
        self.instances.append(_instance_row(timeline, last_key))

    def write(self, connection, statements):
        for chunk in sql.chunks(self.rebuilt):
            connection.execute(statements.drop_instances_intervals,
                               {'uuids': chunk})
        for chunk in sql.chunks(self.dropped):
            connection.execute(statements.drop_intervals, {'ids': chunk})
        statements.close_intervals.run(connection, self.closed)
        statements.add_intervals.run(connection, self.added)
        statements.write_instances.run(connection, self.instances)


def _last_key(events):
    return max(intervals_mod.order_key(e) for e in events)


def _rebuild(connection, statements, uuids, changes):
    """Rebuild ``uuids`` from every event the ledger holds of them."""
    by_instance = {}
    for chunk in sql.chunks(uuids):
        for row in connection.execute(statements.read_events,
                                      {'uuids': chunk}):
            by_instance.setdefault(row.instance_uuid, []).append(
                _event_of(row))
    changes.rebuilt.extend(uuids)
    for uuid in uuids:
        events = by_instance[uuid]
        changes.new(uuid, intervals_mod.build_timeline(events),
                    _last_key(events))


def _by_instance(events):
    """Group ``events`` by instance, one event per key (the first)."""
    batch, seen = {}, set()
    for event in events:
        if event.key not in seen:
            seen.add(event.key)
            batch.setdefault(event.instance_uuid, []).append(event)
    return batch


def _states(connection, statements, uuids):
    states = {}
    for chunk in sql.chunks(uuids):
        for row in connection.execute(statements.read_states,
                                      {'uuids': chunk}):
            states[row.instance_uuid] = row
    return states


def record_events(connection, events):
    """Record instance events (idempotent) and continue their instances.

    :param connection: in a transaction, which the caller commits.
    """
    batch = _by_instance(events)
    if not batch:
        return
    statements_ = sql.statements(connection)
    uuids = sorted(batch)
    if statements_.lock_instances is not None:
        statements_.lock_instances.run(connection, [
            {'instance_uuid': uuid, 'last_event_rank': PLACEHOLDER_RANK}
            for uuid in uuids])
    states = _states(connection, statements_, uuids)
    statements_.add_events.run(connection, [
        event_row(event) for uuid in uuids for event in batch[uuid]])
    changes, rebuild = _Changes(), []
    for uuid in uuids:
        row, new = states.get(uuid), batch[uuid]
        if row is None or row.last_event_rank == PLACEHOLDER_RANK:
            changes.new(uuid, intervals_mod.build_timeline(new),
                        _last_key(new))
            continue
        extended = None
        if row.last_event_at is not None:
            timeline, last_key, open_interval = _stored(row)
            extended = intervals_mod.extend_timeline(timeline, last_key, new)
        if extended is None:
            rebuild.append(uuid)
        else:
            changes.extended(row, open_interval, extended,
                             max(last_key, _last_key(new)))
    if rebuild:
        _rebuild(connection, statements_, rebuild, changes)
    changes.write(connection, statements_)


def record_cpu_samples(connection, samples):
    """Record CPU samples (idempotent)."""
    rows = [{'instance_uuid': s.instance_uuid, 'host': s.host,
             'run_id': s.run_id, 'sampled_at': schema.to_us(s.sampled_at),
             'cpu_time_ns': s.cpu_time_ns} for s in samples]
    sql.statements(connection).add_samples.run(connection, rows)


def ascii_text(value, limit):
    """Return ``value`` as ASCII text every database stores, or None.

    What the listener could not read may hold anything (NUL, unpaired
    surrogates, characters outside a MariaDB ``utf8`` table's range):
    escaped, it is still readable and can always be written.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        value = fields.shown(value)
    value = value.encode('ascii', 'backslashreplace').decode('ascii')
    return value.replace('\x00', '\\x00')[:limit]


def record_rejected(connection, event_type, message_id, reason, payload):
    """Keep a notification the listener could not read, with the reason."""
    connection.execute(schema.usage_rejected.insert(), [{
        'received_at': schema.to_us(datetime.datetime.now(UTC)),
        'event_type': ascii_text(event_type, 255),
        'message_id': ascii_text(message_id, 64),
        'reason': ascii_text(reason, REASON_LIMIT),
        'payload': ascii_text(payload, PAYLOAD_LIMIT)}])
