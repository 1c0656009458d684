"""One SQLAlchemy engine per ledger URL, safe under concurrent writers.

SQLite is the default store and several writers share it (the listener,
the extraction run, the API). SQLite's default deferred transactions fail
at once with ``database is locked`` when two writers race; starting every
transaction with ``BEGIN IMMEDIATE`` makes a writer wait for the lock
(up to the busy timeout) instead. WAL lets readers run beside a writer.
MariaDB and PostgreSQL need none of this; MariaDB connections are made
4-byte UTF-8 and READ COMMITTED (:data:`MYSQL_OPTIONS`).
"""

import alembic.command
import alembic.config
import sqlalchemy
from sqlalchemy import event

from stratuslab_plugins.accounting import exceptions

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


#: What MariaDB/MySQL connections are given whatever the URL says:
#: 4-byte UTF-8 (``charset=utf8``, as devstack writes it, cannot carry an
#: emoji), and READ COMMITTED, which PostgreSQL has by default: a
#: transaction that waited for another's row lock then reads what that
#: one committed, where REPEATABLE READ would read its older snapshot.
#: Galera supports both.
MYSQL_OPTIONS = {'connect_args': {'charset': 'utf8mb4'},
                 'isolation_level': 'READ COMMITTED'}


def create_engine(url):
    """Return an engine for the ledger at ``url``.

    :param url: a SQLAlchemy URL, e.g. ``sqlite:////var/lib/stratuslab/
        accounting.sqlite``, ``postgresql+psycopg2://user:pw@host/db`` or
        ``mysql+pymysql://user:pw@host/db``.
    """
    options = {}
    if sqlalchemy.engine.make_url(url).get_backend_name() in (
            'mysql', 'mariadb'):
        options = MYSQL_OPTIONS
    engine = sqlalchemy.create_engine(url, future=True, **options)
    if engine.dialect.name == 'sqlite':
        _configure_sqlite(engine)
    return engine


def migrate(engine, script_location, what):
    """Bring one set of ledger tables to its newest schema with Alembic.

    The state tables and the usage tables each keep their own migrations
    and version table, so either can change without the other; both run
    through here, on the ledger's own engine (with its SQLite locking).
    Safe at every start: Alembic does nothing when the schema is current.

    :param script_location: the tables' Alembic directory.
    :param what: the tables, as an operator would name them in an error.
    """
    config = alembic.config.Config()
    config.set_main_option('script_location', script_location)
    try:
        with engine.begin() as connection:
            config.attributes['connection'] = connection
            alembic.command.upgrade(config, 'head')
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise exceptions.LedgerError(
            'cannot bring the %s of the accounting ledger %s up to date: %s.'
            ' Check [accounting] ledger_connection, that the database is '
            'reachable and that its user may create tables.'
            % (what, engine.url.render_as_string(hide_password=True), exc))


def run_migrations(context, metadata, version_table):
    """The body of a migrations directory's ``env.py``.

    :func:`migrate` hands the open connection over in the Alembic
    config's attributes; SQLite alters tables by copying them, hence
    batch mode.
    """
    context.configure(connection=context.config.attributes['connection'],
                      target_metadata=metadata,
                      version_table=version_table,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
