"""accounting_runs: the outcome of each run, failures included.

A publish that failed used to leave no trace in the ledger, so the
usage API and the dashboard said "no run yet" after a run had failed.

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
    # Rows written before this revision were all published runs (failures
    # were not recorded): NULL reads as "published".
    with op.batch_alter_table('accounting_runs') as batch:
        batch.add_column(sa.Column('outcome', sa.String(16)))
        batch.add_column(sa.Column('error', sa.Text))
