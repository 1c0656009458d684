"""MariaDB/MySQL: the usage tables in 4-byte UTF-8, compared byte for byte.

A database created with the 3-byte ``utf8`` character set (devstack's,
and many older sites') gave the tables that set: an instance name with
an emoji could not be stored. ``utf8mb4_bin`` also compares identifiers
exactly, as SQLite and PostgreSQL do. Other databases are left as they
are.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TABLES = ('usage_events', 'usage_instances', 'usage_intervals',
          'usage_cpu_samples', 'usage_rejected')


def upgrade():
    if op.get_context().dialect.name not in ('mysql', 'mariadb'):
        return
    for table in TABLES:
        op.execute('ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4 '
                   'COLLATE utf8mb4_bin' % table)
    # Converting from utf8 widens TEXT to MEDIUMTEXT to keep its capacity
    # in characters; the rejects' text is ASCII and bounded to fit TEXT.
    op.execute('ALTER TABLE usage_rejected MODIFY reason TEXT NOT NULL, '
               'MODIFY payload TEXT')
