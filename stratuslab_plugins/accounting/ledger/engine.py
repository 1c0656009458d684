"""One SQLAlchemy engine per ledger URL, safe under concurrent writers.

SQLite is the default store and several writers share it (the listener,
the extraction run, the API). SQLite's default deferred transactions fail
at once with ``database is locked`` when two writers race; starting every
transaction with ``BEGIN IMMEDIATE`` makes a writer wait for the lock
(up to the busy timeout) instead. WAL lets readers run beside a writer.
MariaDB and PostgreSQL need none of this and get a plain engine.
"""

import sqlalchemy
from sqlalchemy import event

#: Seconds a SQLite writer waits for another writer's lock.
SQLITE_BUSY_TIMEOUT = 30


def _configure_sqlite(engine):
    # pysqlite's own transaction handling would emit a deferred BEGIN;
    # switch it off and emit BEGIN IMMEDIATE ourselves (SQLAlchemy's
    # documented recipe for SQLite locking).
    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA busy_timeout=%d' % (SQLITE_BUSY_TIMEOUT * 1000))
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.close()

    @event.listens_for(engine, 'begin')
    def _on_begin(connection):
        connection.exec_driver_sql('BEGIN IMMEDIATE')


def create_engine(url):
    """Return an engine for the ledger at ``url``.

    :param url: a SQLAlchemy URL, e.g. ``sqlite:////var/lib/stratuslab/
        accounting.sqlite`` or ``postgresql+psycopg2://user:pw@host/db``.
    """
    engine = sqlalchemy.create_engine(url, future=True)
    if engine.dialect.name == 'sqlite':
        _configure_sqlite(engine)
    return engine
