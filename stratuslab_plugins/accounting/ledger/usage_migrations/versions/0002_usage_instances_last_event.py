"""usage_instances: the order key of the latest event of each instance.

Lets the ledger continue an instance's intervals from its open interval
when new events come in order, instead of reading all its events again.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Rows written before this revision get NULLs: their next event takes
    # the full rebuild, which fills the columns.
    with op.batch_alter_table('usage_instances') as batch:
        batch.add_column(sa.Column('last_event_at', sa.BigInteger))
        batch.add_column(sa.Column('last_event_rank', sa.Integer))
        batch.add_column(sa.Column('last_event_type', sa.String(64)))
