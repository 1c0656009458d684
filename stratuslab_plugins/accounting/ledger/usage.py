"""The usage ledger: instance events, their intervals, and CPU samples.

The tables are described in :mod:`.usage_schema`, the listener's write
path in :mod:`.usage_writer`; this module reads usage back and holds
:class:`UsageLedger`, the one object the listener, the accounting run
and the usage API open::

    ledger = UsageLedger.from_url('sqlite:////var/lib/stratuslab/ledger.db')
    ledger.record(events=events)               # one transaction
    ledger.usage_by_instance(since, until)    # {uuid: Usage}

Usage is computed from the stored intervals at read time, up to the end
of the period asked for, so an instance still running counts up to it.
"""

import datetime
import threading

import sqlalchemy as sa

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import engine as engine_mod
from stratuslab_plugins.accounting.ledger import usage_schema as schema
from stratuslab_plugins.accounting.ledger import usage_statements as sql
from stratuslab_plugins.accounting.ledger import usage_writer as writer
from stratuslab_plugins.accounting.usage import cpu as cpu_mod
from stratuslab_plugins.accounting.usage import intervals as intervals_mod

UTC = datetime.timezone.utc
usage_instances = schema.usage_instances
usage_intervals = schema.usage_intervals
usage_cpu_samples = schema.usage_cpu_samples
to_us = schema.to_us
from_us = schema.from_us


def _timelines(connection, uuids):
    timelines = {}
    for chunk in sql.chunks(uuids):
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
    for chunk in sql.chunks(uuids):
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


#: Times a transaction is tried when it loses a conflict (below).
WRITE_ATTEMPTS = 3
#: A transaction that lost a conflict with another one, and succeeds
#: when tried again: PostgreSQL's deadlock and serialization failure;
#: MariaDB's deadlock (also what a Galera certification conflict
#: between two nodes returns) and lock wait timeout.
_PG_CONFLICTS = ('40P01', '40001')
_MYSQL_CONFLICTS = (1213, 1205)


def _conflict(exc):
    orig = getattr(exc, 'orig', None)
    if getattr(orig, 'pgcode', None) in _PG_CONFLICTS:
        return True
    code = getattr(orig, 'args', (None,))[:1]
    return bool(code) and code[0] in _MYSQL_CONFLICTS


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
        # One write at a time in a process. The listener hands batches to
        # a pool of threads, and oslo.messaging's poller runs ahead of
        # them: concurrent transactions of one process would only compete
        # for the interpreter (the GIL) and for the rows of the same
        # instances, and cost the poller its CPU. On SQLite, which has one
        # writer at a time anyway, a writer that finds the lock taken
        # sleeps in SQLite's busy handler (up to 100 ms a turn): the
        # Python lock wakes the next one at once. Other processes still
        # take turns through the database.
        self._write_lock = threading.Lock()

    @classmethod
    def from_url(cls, url):
        """Open (and migrate) the ledger at a SQLAlchemy URL."""
        engine = engine_mod.create_engine(url)
        schema.upgrade(engine)
        return cls(engine)

    def _write(self, function, *args):
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._write_lock, self.engine.begin() as connection:
                    function(connection, *args)
                return
            except sa.exc.SQLAlchemyError as exc:
                if attempt < WRITE_ATTEMPTS and _conflict(exc):
                    continue
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
            writer.record_events(connection, events)
            writer.record_cpu_samples(connection, samples)
            for item in rejected:
                writer.record_rejected(connection, *item)
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
            rejected = schema.usage_rejected
            return connection.execute(sa.select(rejected).order_by(
                rejected.c.id)).all()
