"""The usage ledger's tables, and how its times are stored.

Five tables beside the accounting's own, in the same database:

``usage_events``
    every instance notification the listener recorded, once: the key
    ``(instance_uuid, event_type, occurred_at)`` makes a redelivered
    notification a no-op, which is what lets the listener acknowledge
    after the commit (at-least-once delivery) without double counting;
``usage_intervals`` and ``usage_instances``
    derived from an instance's set of events (see
    :mod:`.usage_writer`): one row per instance, with the order key of
    its latest event, and one per interval of one kind and one flavor,
    the last one open (``ended_at`` NULL) while the instance lives;
``usage_cpu_samples``
    the libvirt agents' readings, keyed the same idempotent way;
``usage_rejected``
    notifications the listener could not read, with the reason, so
    nothing it acknowledged is lost without trace.

Every table has a primary key (Galera replicates rows by key). Times are
integer microseconds since the epoch (UTC): exact, ordered and the same
on SQLite, MariaDB and PostgreSQL, whose date types differ in precision
and time-zone handling.

The schema is versioned with Alembic (its own version table,
``usage_alembic_version``, so the accounting's tables can migrate
independently): :func:`upgrade` brings any database to the current one.
"""

import datetime
import os

import sqlalchemy as sa

from stratuslab_plugins.accounting.ledger import engine as engine_mod

UTC = datetime.timezone.utc
VERSION_TABLE = 'usage_alembic_version'
MIGRATIONS = os.path.join(os.path.dirname(__file__), 'usage_migrations')

metadata = sa.MetaData()

_UUID = sa.String(36)
_NAME = sa.String(255)
_TIME = sa.BigInteger


def _instance_facts():
    """Columns of what a server is, as an event reports it.

    Each event keeps them as Nova sent them, and the instance row the
    latest of them; new Column objects each call (a column belongs to
    one table).
    """
    return (sa.Column('project_id', sa.String(64)),
            sa.Column('user_id', sa.String(64)),
            sa.Column('name', _NAME),
            sa.Column('image_id', _UUID),
            sa.Column('host', _NAME))


usage_events = sa.Table(
    'usage_events', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('instance_uuid', _UUID, nullable=False),
    sa.Column('event_type', sa.String(64), nullable=False),
    sa.Column('occurred_at', _TIME, nullable=False),
    sa.Column('kind', sa.String(16)),
    sa.Column('message_id', sa.String(64)),
    *_instance_facts(),
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
    *_instance_facts(),
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
