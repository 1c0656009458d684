"""The usage ledger: instance events, their intervals, and CPU samples.

Four tables beside the accounting's own, in the same database:

``usage_events``
    every instance notification the listener recorded, once: the key
    ``(instance_uuid, event_type, occurred_at)`` makes a redelivered
    notification a no-op, which is what lets the listener acknowledge
    after the commit (at-least-once delivery) without double counting;
``usage_intervals`` and ``usage_instances``
    derived from an instance's whole set of events by
    :func:`~stratuslab_plugins.accounting.usage.intervals.build_timeline`
    each time one arrives, so events arriving out of order only change
    the result once all of them are in;
``usage_cpu_samples``
    the libvirt agents' readings, keyed the same idempotent way;
``usage_rejected``
    notifications the listener could not read, with the reason, so
    nothing it acknowledged is lost without trace.

Times are integer microseconds since the epoch (UTC): exact, ordered and
the same on SQLite, MariaDB and PostgreSQL, whose date types differ in
precision and time-zone handling.

The schema is versioned with Alembic (its own version table,
``usage_alembic_version``, so the accounting's tables can migrate
independently): :func:`upgrade` brings any database to the current one::

    ledger = UsageLedger.from_url('sqlite:////var/lib/stratuslab/ledger.db')
    ledger.record_events(events)
    ledger.usage_by_instance(since, until)    # {uuid: Usage}
"""

import contextlib
import datetime
import os
import threading

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import engine as engine_mod
from stratuslab_plugins.accounting.usage import cpu as cpu_mod
from stratuslab_plugins.accounting.usage import events as events_mod
from stratuslab_plugins.accounting.usage import fields
from stratuslab_plugins.accounting.usage import intervals as intervals_mod

UTC = datetime.timezone.utc
VERSION_TABLE = 'usage_alembic_version'
MIGRATIONS = os.path.join(os.path.dirname(__file__), 'usage_migrations')

#: Rows per ``IN (...)`` list: well under every backend's parameter limit.
CHUNK = 500
#: Characters of a rejected notification's reason and payload kept: a
#: MariaDB ``TEXT`` holds 65,535 bytes, and the text is ASCII.
REASON_LIMIT = 2000
PAYLOAD_LIMIT = 60000

metadata = sa.MetaData()

_UUID = sa.String(36)
_NAME = sa.String(255)
_TIME = sa.BigInteger

usage_events = sa.Table(
    'usage_events', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('instance_uuid', _UUID, nullable=False),
    sa.Column('event_type', sa.String(64), nullable=False),
    sa.Column('occurred_at', _TIME, nullable=False),
    sa.Column('kind', sa.String(16)),
    sa.Column('message_id', sa.String(64)),
    sa.Column('project_id', sa.String(64)),
    sa.Column('user_id', sa.String(64)),
    sa.Column('name', _NAME),
    sa.Column('image_id', _UUID),
    sa.Column('host', _NAME),
    sa.Column('flavor_id', _NAME),
    sa.Column('vcpus', sa.Integer),
    sa.Column('memory_mb', sa.Integer),
    sa.Column('disk_gb', sa.Integer),
    sa.Column('launched_at', _TIME),
    sa.UniqueConstraint('instance_uuid', 'event_type', 'occurred_at',
                        name='uq_usage_events_key'),
)

usage_instances = sa.Table(
    'usage_instances', metadata,
    sa.Column('instance_uuid', _UUID, primary_key=True),
    sa.Column('project_id', sa.String(64)),
    sa.Column('user_id', sa.String(64)),
    sa.Column('name', _NAME),
    sa.Column('image_id', _UUID),
    sa.Column('host', _NAME),
    sa.Column('started_at', _TIME),
    sa.Column('deleted_at', _TIME),
    # The order key of its latest event (intervals.order_key).
    sa.Column('last_event_at', _TIME),
    sa.Column('last_event_rank', sa.Integer),
    sa.Column('last_event_type', sa.String(64)),
)

usage_intervals = sa.Table(
    'usage_intervals', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('instance_uuid', _UUID, nullable=False, index=True),
    sa.Column('kind', sa.String(16), nullable=False),
    sa.Column('started_at', _TIME, nullable=False, index=True),
    sa.Column('ended_at', _TIME, index=True),
    sa.Column('flavor_id', _NAME),
    sa.Column('vcpus', sa.Integer),
    sa.Column('memory_mb', sa.Integer),
    sa.Column('disk_gb', sa.Integer),
)

usage_cpu_samples = sa.Table(
    'usage_cpu_samples', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('instance_uuid', _UUID, nullable=False),
    sa.Column('host', _NAME, nullable=False),
    sa.Column('run_id', sa.String(64), nullable=False),
    sa.Column('sampled_at', _TIME, nullable=False),
    sa.Column('cpu_time_ns', sa.BigInteger, nullable=False),
    sa.UniqueConstraint('instance_uuid', 'host', 'run_id', 'sampled_at',
                        name='uq_usage_cpu_samples_key'),
)

usage_rejected = sa.Table(
    'usage_rejected', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('received_at', _TIME, nullable=False),
    sa.Column('event_type', _NAME),
    sa.Column('message_id', sa.String(64)),
    sa.Column('reason', sa.Text, nullable=False),
    sa.Column('payload', sa.Text),
)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def to_us(value):
    """Return an aware (or naive UTC) datetime as epoch microseconds."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def from_us(value):
    """Return epoch microseconds as an aware UTC datetime."""
    if value is None:
        return None
    return _EPOCH + datetime.timedelta(microseconds=value)


def upgrade(engine):
    """Bring the usage tables to the current schema."""
    engine_mod.migrate(engine, MIGRATIONS, 'usage tables')


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _insert_ignoring_duplicates(connection, table, rows):
    # Each backend spells "skip rows whose key exists" differently; all
    # three do it in the statement, so concurrent listeners never fail on
    # each other's duplicates.
    dialect = connection.dialect.name
    if dialect == 'sqlite':
        statement = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect == 'postgresql':
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect in ('mysql', 'mariadb'):
        # Not INSERT IGNORE: it also turns every other error into a
        # warning (a value cut or replaced by '?', silently).
        statement = mysql.insert(table)
        key = statement.inserted[table.primary_key.columns.keys()[0]]
        statement = statement.on_duplicate_key_update(
            {key.name: table.c[key.name]})
    else:
        raise exceptions.LedgerError(
            'the usage ledger supports SQLite, MariaDB/MySQL and '
            'PostgreSQL, not %s: change the ledger connection URL' % dialect)
    connection.execute(statement, rows)


def _event_row(event):
    return {
        'instance_uuid': event.instance_uuid,
        'event_type': event.event_type,
        'occurred_at': to_us(event.occurred_at),
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
        'launched_at': to_us(event.launched_at),
    }


def _event_of(row):
    values = dict(row._mapping)
    del values['id']
    values['occurred_at'] = from_us(values['occurred_at'])
    values['launched_at'] = from_us(values['launched_at'])
    return events_mod.InstanceEvent(**values)


def _events_by_instance(connection, uuids):
    found = {}
    for chunk in _chunks(uuids):
        query = sa.select(usage_events).where(
            usage_events.c.instance_uuid.in_(chunk))
        for row in connection.execute(query):
            found.setdefault(row.instance_uuid, []).append(_event_of(row))
    return found


def _interval_rows(uuid, timeline):
    return [{'instance_uuid': uuid,
             'kind': interval.kind,
             'started_at': to_us(interval.start),
             'ended_at': to_us(interval.end),
             'flavor_id': interval.flavor.flavor_id,
             'vcpus': interval.flavor.vcpus,
             'memory_mb': interval.flavor.memory_mb,
             'disk_gb': interval.flavor.disk_gb}
            for interval in timeline.intervals]


def _instance_row(timeline, last_key):
    facts = timeline.facts
    return {'instance_uuid': facts.uuid,
            'project_id': facts.project_id,
            'user_id': facts.user_id,
            'name': facts.name,
            'image_id': facts.image_id,
            'host': facts.host,
            'started_at': to_us(timeline.started_at),
            'deleted_at': to_us(timeline.deleted_at),
            'last_event_at': to_us(last_key[0]),
            'last_event_rank': last_key[1],
            'last_event_type': last_key[2]}


def _stored_states(connection, uuids):
    """Return what continuing the instances' intervals needs.

    ``{uuid: (timeline, last key, open interval id)}``, the timeline
    holding only the open interval, for instances whose latest event's
    key is recorded.
    """
    states = {}
    for chunk in _chunks(uuids):
        rows = {row.instance_uuid: row for row in connection.execute(
            sa.select(usage_instances).where(
                usage_instances.c.instance_uuid.in_(chunk),
                usage_instances.c.last_event_at.is_not(None)))}
        if not rows:
            continue
        open_rows = {row.instance_uuid: row for row in connection.execute(
            sa.select(usage_intervals).where(
                usage_intervals.c.instance_uuid.in_(list(rows)),
                usage_intervals.c.ended_at.is_(None)))}
        for uuid, row in rows.items():
            interval = open_rows.get(uuid)
            spans = () if interval is None else (intervals_mod.Interval(
                interval.kind, from_us(interval.started_at), None,
                intervals_mod.Flavor(interval.flavor_id, interval.vcpus,
                                     interval.memory_mb,
                                     interval.disk_gb)),)
            timeline = intervals_mod.Timeline(
                facts=intervals_mod.InstanceFacts(
                    uuid=uuid, project_id=row.project_id,
                    user_id=row.user_id, name=row.name,
                    image_id=row.image_id, host=row.host),
                intervals=spans, started_at=from_us(row.started_at),
                deleted_at=from_us(row.deleted_at))
            key = (from_us(row.last_event_at), row.last_event_rank,
                   row.last_event_type)
            states[uuid] = (timeline, key,
                            interval.id if interval is not None else None)
    return states


def _replace(connection, table, uuids):
    for chunk in _chunks(uuids):
        connection.execute(table.delete().where(
            table.c.instance_uuid.in_(chunk)))


def _extend_instances(connection, new_events):
    """Continue the instances whose new events all come in order.

    Returns the uuids that need a rebuild from every event instead.
    """
    states = _stored_states(connection, new_events)
    rebuild, interval_rows, instance_rows = [], [], []
    stale_intervals = []
    for uuid, events in new_events.items():
        state = states.get(uuid)
        extended = state and intervals_mod.extend_timeline(
            state[0], state[1], events)
        if not extended:
            rebuild.append(uuid)
            continue
        if state[2] is not None:
            stale_intervals.append(state[2])
        interval_rows.extend(_interval_rows(uuid, extended))
        instance_rows.append(_instance_row(extended, max(
            intervals_mod.order_key(e) for e in events)))
    for chunk in _chunks(stale_intervals):
        connection.execute(usage_intervals.delete().where(
            usage_intervals.c.id.in_(chunk)))
    _replace(connection, usage_instances,
             [row['instance_uuid'] for row in instance_rows])
    if interval_rows:
        connection.execute(usage_intervals.insert(), interval_rows)
    if instance_rows:
        connection.execute(usage_instances.insert(), instance_rows)
    return rebuild


def rebuild_instances(connection, uuids):
    """Recompute the intervals and facts of ``uuids`` from all events."""
    uuids = sorted(set(uuids))
    if not uuids:
        return
    by_instance = _events_by_instance(connection, uuids)
    interval_rows, instance_rows = [], []
    for uuid in uuids:
        events = by_instance[uuid]
        timeline = intervals_mod.build_timeline(events)
        interval_rows.extend(_interval_rows(uuid, timeline))
        instance_rows.append(_instance_row(timeline, max(
            intervals_mod.order_key(e) for e in events)))
    _replace(connection, usage_intervals, uuids)
    _replace(connection, usage_instances, uuids)
    if interval_rows:
        connection.execute(usage_intervals.insert(), interval_rows)
    connection.execute(usage_instances.insert(), instance_rows)


def record_events(connection, events):
    """Record instance events (idempotent) and refresh their instances."""
    events = list(events)
    if not events:
        return
    _insert_ignoring_duplicates(connection, usage_events,
                                [_event_row(e) for e in events])
    by_instance = {}
    for event in events:
        by_instance.setdefault(event.instance_uuid, []).append(event)
    rebuild_instances(connection, _extend_instances(connection, by_instance))


def record_cpu_samples(connection, samples):
    """Record CPU samples (idempotent)."""
    rows = [{'instance_uuid': s.instance_uuid, 'host': s.host,
             'run_id': s.run_id, 'sampled_at': to_us(s.sampled_at),
             'cpu_time_ns': s.cpu_time_ns} for s in samples]
    if rows:
        _insert_ignoring_duplicates(connection, usage_cpu_samples, rows)


def _ascii(value, limit):
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
    connection.execute(usage_rejected.insert(), [{
        'received_at': to_us(datetime.datetime.now(UTC)),
        'event_type': _ascii(event_type, 255),
        'message_id': _ascii(message_id, 64),
        'reason': _ascii(reason, REASON_LIMIT),
        'payload': _ascii(payload, PAYLOAD_LIMIT)}])


def _timelines(connection, uuids):
    timelines = {}
    for chunk in _chunks(uuids):
        facts = {row.instance_uuid: row for row in connection.execute(
            sa.select(usage_instances).where(
                usage_instances.c.instance_uuid.in_(chunk)))}
        spans = {}
        for row in connection.execute(
                sa.select(usage_intervals)
                .where(usage_intervals.c.instance_uuid.in_(chunk))
                .order_by(usage_intervals.c.started_at)):
            spans.setdefault(row.instance_uuid, []).append(
                intervals_mod.Interval(
                    row.kind, from_us(row.started_at), from_us(row.ended_at),
                    intervals_mod.Flavor(row.flavor_id, row.vcpus,
                                         row.memory_mb, row.disk_gb)))
        for uuid, row in facts.items():
            timelines[uuid] = intervals_mod.Timeline(
                facts=intervals_mod.InstanceFacts(
                    uuid=uuid, project_id=row.project_id,
                    user_id=row.user_id, name=row.name,
                    image_id=row.image_id, host=row.host),
                intervals=tuple(spans.get(uuid, ())),
                started_at=from_us(row.started_at),
                deleted_at=from_us(row.deleted_at))
    return timelines


def _cpu_samples(connection, uuids):
    found = {}
    for chunk in _chunks(uuids):
        for row in connection.execute(
                sa.select(usage_cpu_samples).where(
                    usage_cpu_samples.c.instance_uuid.in_(chunk))):
            found.setdefault(row.instance_uuid, []).append(
                cpu_mod.CpuSample(row.instance_uuid, row.host, row.run_id,
                                  from_us(row.sampled_at), row.cpu_time_ns))
    return found


def _usages(connection, uuids, until):
    timelines = _timelines(connection, uuids)
    samples = _cpu_samples(connection, timelines)
    result = {}
    for uuid, timeline in timelines.items():
        usage = intervals_mod.usage_until(
            timeline, until, cpu_mod.cpu_seconds(samples.get(uuid, ()),
                                                 until))
        if usage is not None:
            result[uuid] = usage
    return result


def usage_for_instances(connection, uuids, until):
    """Return ``{uuid: Usage}`` up to ``until``, for the uuids it knows.

    Instances without events in the ledger, or not started by ``until``,
    are absent.
    """
    return _usages(connection, uuids, until)


def cpu_seconds_for_instances(connection, uuids, until):
    """Return ``{uuid: CPU seconds}`` from the agents' samples by ``until``.

    Covers instances the listener saw no event of (an agent started
    before the listener, say).
    """
    result = {}
    for uuid, samples in _cpu_samples(connection, uuids).items():
        seconds = cpu_mod.cpu_seconds(samples, until)
        if seconds is not None:
            result[uuid] = seconds
    return result


def cpu_samples_for_instances(connection, uuids):
    """Return ``{uuid: [CpuSample]}``: every reading the agents sent.

    For readers that need more than the sum by a time (a month-end
    record interpolates between two readings).
    """
    return _cpu_samples(connection, uuids)


def usage_for_instance(connection, uuid, until):
    """Return one instance's :class:`~.intervals.Usage` up to ``until``.

    None when the ledger knows nothing of it, or it had not started then.
    """
    return _usages(connection, [uuid], until).get(uuid)


def usage_by_instance(connection, since, until):
    """Return ``{uuid: Usage}`` for every instance alive in a period.

    An instance is alive in ``[since, until)`` when one of its intervals
    overlaps it: this includes instances created and deleted between two
    accounting runs, which the Nova API no longer lists.
    """
    since_us, until_us = to_us(since), to_us(until)
    query = sa.select(usage_intervals.c.instance_uuid).distinct().where(
        usage_intervals.c.started_at < until_us,
        sa.or_(usage_intervals.c.ended_at.is_(None),
               usage_intervals.c.ended_at > since_us))
    uuids = [row.instance_uuid for row in connection.execute(query)]
    return _usages(connection, uuids, until)


def _refused_value(exc):
    """Tell a value the database refuses from a database in trouble."""
    if isinstance(exc, (sa.exc.DataError, sa.exc.IntegrityError)):
        return True
    # The driver refused the value before sending it (psycopg2: NUL in a
    # string; sqlite3: an unpaired surrogate): not a DBAPI error.
    return (isinstance(exc, sa.exc.StatementError)
            and not isinstance(exc, sa.exc.DBAPIError)
            and isinstance(exc.orig, (ValueError, TypeError, OverflowError)))


def first_started_at(connection):
    """Return when the earliest interval the ledger holds began, or None.

    None means nothing was ever recorded: the listener never stored an
    event (not running, or Nova sends no versioned notifications).
    """
    return from_us(connection.execute(
        sa.select(sa.func.min(usage_intervals.c.started_at))).scalar())


class UsageLedger:
    """The usage tables of one database, each call one transaction.

    :param engine: from :func:`~.engine.create_engine`; its SQLite
        transactions take the write lock up front, so several listeners
        can share one file.
    """

    def __init__(self, engine):
        self.engine = engine
        # SQLite has one writer at a time, and a writer that finds the
        # lock taken sleeps in SQLite's busy handler (up to 100 ms a
        # turn). The listener writes from several threads: queue them on a
        # Python lock instead, which wakes the next one at once. Other
        # processes still wait through the busy handler.
        self._write_lock = (threading.Lock()
                            if engine.dialect.name == 'sqlite'
                            else contextlib.nullcontext())

    @classmethod
    def from_url(cls, url):
        """Open (and migrate) the ledger at a SQLAlchemy URL."""
        engine = engine_mod.create_engine(url)
        upgrade(engine)
        return cls(engine)

    def _write(self, function, *args):
        try:
            with self._write_lock, self.engine.begin() as connection:
                function(connection, *args)
        except sa.exc.SQLAlchemyError as exc:
            error = (exceptions.LedgerDataError if _refused_value(exc)
                     else exceptions.LedgerError)
            raise error(
                'cannot write to the usage ledger at %s: %s'
                % (self.engine.url.render_as_string(hide_password=True),
                   exc))

    def record(self, events=(), samples=(), rejected=()):
        """Write events, CPU samples and rejects in one transaction.

        :param rejected: ``(event_type, message_id, reason, payload)``
            tuples.
        """
        def write(connection):
            record_events(connection, events)
            record_cpu_samples(connection, samples)
            for item in rejected:
                record_rejected(connection, *item)
        self._write(write)

    def record_events(self, events):
        self.record(events=events)

    def record_cpu_samples(self, samples):
        self.record(samples=samples)

    def usage_for_instance(self, uuid, until):
        with self.engine.connect() as connection:
            return usage_for_instance(connection, uuid, until)

    def usage_by_instance(self, since, until):
        with self.engine.connect() as connection:
            return usage_by_instance(connection, since, until)

    def usage_for_instances(self, uuids, until):
        with self.engine.connect() as connection:
            return usage_for_instances(connection, uuids, until)

    def cpu_seconds_for_instances(self, uuids, until):
        with self.engine.connect() as connection:
            return cpu_seconds_for_instances(connection, uuids, until)

    def cpu_samples_for_instances(self, uuids):
        with self.engine.connect() as connection:
            return cpu_samples_for_instances(connection, uuids)

    def first_started_at(self):
        with self.engine.connect() as connection:
            return first_started_at(connection)

    def rejected(self):
        """Return the rejected notifications, oldest first."""
        with self.engine.connect() as connection:
            return connection.execute(sa.select(usage_rejected).order_by(
                usage_rejected.c.id)).all()
