"""The extraction state: how far each extractor has reported, and the runs.

Two tables beside the usage ledger's, in the same database:

``accounting_windows``
    one row per (extractor, region, site): the end of the last window
    whose records every messenger accepted. The next run asks the cloud
    for what changed since then. The row moves only in
    :meth:`StateLedger.advance`, which the manager calls after every
    messenger flushed: a crash anywhere before leaves the old end, and the
    next run resends (harmless: the repository REPLACEs by VMUUID and
    month). cASO wrote its ``lastrun`` before the push and lost records.
``accounting_runs``
    one row per run: the window, how many records and messages it handed
    over, when, and its outcome (``published``, or ``failed`` with the
    error: the windows did not move). ``stratuslab-accounting status``
    and the usage API's ``/v1/queue`` read it.

Times are integer seconds since the epoch (UTC), the same on SQLite,
MariaDB and PostgreSQL. The schema is versioned with Alembic in its own
version table, ``accounting_alembic_version`` (the usage tables have
theirs), and brought up to date when a :class:`StateLedger` opens::

    ledger = StateLedger.from_url('sqlite:////var/lib/stratuslab/acc.db')
    since = ledger.window_end(('nova', '', 'MY-SITE'))   # None at first
    ...                                                  # publish
    ledger.advance([('nova', '', 'MY-SITE')], until, counts)
"""

import datetime
import os

import sqlalchemy as sa

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import engine as engine_mod

UTC = datetime.timezone.utc
VERSION_TABLE = 'accounting_alembic_version'
MIGRATIONS = os.path.join(os.path.dirname(__file__), 'state_migrations')

metadata = sa.MetaData()

windows = sa.Table(
    'accounting_windows', metadata,
    sa.Column('extractor', sa.String(64), primary_key=True),
    sa.Column('region', sa.String(255), primary_key=True),
    sa.Column('site', sa.String(255), primary_key=True),
    sa.Column('window_end', sa.BigInteger, nullable=False),
    sa.Column('updated_at', sa.BigInteger, nullable=False),
)

runs = sa.Table(
    'accounting_runs', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('finished_at', sa.BigInteger, nullable=False),
    sa.Column('window_start', sa.BigInteger),
    sa.Column('window_end', sa.BigInteger, nullable=False),
    sa.Column('extractors', sa.String(255), nullable=False),
    sa.Column('records', sa.Integer, nullable=False),
    sa.Column('messages', sa.Integer, nullable=False),
    sa.Column('skipped_projects', sa.Integer, nullable=False),
    sa.Column('outcome', sa.String(16)),
    sa.Column('error', sa.Text),
)

PUBLISHED = 'published'
FAILED = 'failed'
#: Longest error text kept per failed run.
MAX_ERROR = 2000


def upgrade(engine):
    """Bring the extraction-state tables to the current schema."""
    engine_mod.migrate(engine, MIGRATIONS, 'extraction-state tables')


def to_epoch(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def from_epoch(value):
    if value is None:
        return None
    return datetime.datetime.fromtimestamp(value, UTC)


def _extractors(keys):
    return ','.join(sorted({key[0] for key in keys}))[:255]


class StateLedger:
    """Read and move extraction windows in the ledger database.

    :param engine: a SQLAlchemy engine from ``ledger.engine``.
    """

    def __init__(self, engine):
        self.engine = engine
        upgrade(engine)

    @classmethod
    def from_url(cls, url):
        return cls(engine_mod.create_engine(url))

    def window_end(self, key):
        """Return where the window of ``key`` ends, or None at first.

        :param key: ``(extractor, region, site)``.
        """
        extractor, region, site = key
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(windows.c.window_end).where(
                    windows.c.extractor == extractor,
                    windows.c.region == region,
                    windows.c.site == site)).scalar()
        return from_epoch(value)

    def windows(self):
        """Return every window as ``[(extractor, region, site, end)]``."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(
                windows.c.extractor, windows.c.region, windows.c.site,
                windows.c.window_end).order_by(windows.c.extractor,
                                               windows.c.region))
            return [(r[0], r[1], r[2], from_epoch(r[3])) for r in rows]

    def advance(self, keys, until, since=None, records=0, messages=0,
                skipped_projects=0, now=None):
        """Move every window of ``keys`` to ``until``, in one transaction.

        Call only when every messenger accepted every record of the run.
        """
        now = to_epoch(now or datetime.datetime.now(UTC))
        end = to_epoch(until)
        keys = list(keys)
        try:
            with self.engine.begin() as connection:
                for extractor, region, site in keys:
                    where = (windows.c.extractor == extractor,
                             windows.c.region == region,
                             windows.c.site == site)
                    updated = connection.execute(
                        windows.update().where(*where).values(
                            window_end=end, updated_at=now)).rowcount
                    if not updated:
                        connection.execute(windows.insert().values(
                            extractor=extractor, region=region, site=site,
                            window_end=end, updated_at=now))
                connection.execute(runs.insert().values(
                    finished_at=now, window_start=to_epoch(since),
                    window_end=end, extractors=_extractors(keys),
                    records=records, messages=messages,
                    skipped_projects=skipped_projects, outcome=PUBLISHED))
        except sa.exc.SQLAlchemyError as exc:
            raise exceptions.LedgerError(
                'the records were handed over but the accounting ledger '
                'could not record it (%s); the next run resends them, '
                'which the repository accepts.' % exc)

    def record_failure(self, keys, until, error, since=None, records=0,
                       messages=0, now=None):
        """Record a run that failed: its windows stay where they were.

        :param error: what went wrong, as the run reported it.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(runs.insert().values(
                    finished_at=to_epoch(now or datetime.datetime.now(UTC)),
                    window_start=to_epoch(since), window_end=to_epoch(until),
                    extractors=_extractors(keys), records=records,
                    messages=messages, skipped_projects=0, outcome=FAILED,
                    error=str(error)[:MAX_ERROR]))
        except sa.exc.SQLAlchemyError as exc:
            raise exceptions.LedgerError(
                'the run failed (%s) and the accounting ledger could not '
                'record it either: %s' % (error, exc))

    def last_runs(self, limit=10):
        """Return the latest runs, newest first, as dicts."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(runs).order_by(runs.c.id.desc()).limit(limit))
            result = []
            for row in rows.mappings():
                row = dict(row)
                for key in ('finished_at', 'window_start', 'window_end'):
                    row[key] = from_epoch(row[key])
                row['outcome'] = row['outcome'] or PUBLISHED
                result.append(row)
            return result
