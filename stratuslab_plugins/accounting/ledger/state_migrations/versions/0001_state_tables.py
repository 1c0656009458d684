"""The extraction windows and the run log.

Revision ID: 0001
Revises:
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'accounting_windows',
        sa.Column('extractor', sa.String(64), primary_key=True),
        sa.Column('region', sa.String(255), primary_key=True),
        sa.Column('site', sa.String(255), primary_key=True),
        sa.Column('window_end', sa.BigInteger, nullable=False),
        sa.Column('updated_at', sa.BigInteger, nullable=False),
    )
    op.create_table(
        'accounting_runs',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('finished_at', sa.BigInteger, nullable=False),
        sa.Column('window_start', sa.BigInteger),
        sa.Column('window_end', sa.BigInteger, nullable=False),
        sa.Column('extractors', sa.String(255), nullable=False),
        sa.Column('records', sa.Integer, nullable=False),
        sa.Column('messages', sa.Integer, nullable=False),
        sa.Column('skipped_projects', sa.Integer, nullable=False),
    )
