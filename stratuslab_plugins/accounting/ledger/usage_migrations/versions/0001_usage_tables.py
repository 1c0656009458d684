"""The usage tables: events, instances, intervals, CPU samples, rejects.

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
        'usage_events',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('event_type', sa.String(64), nullable=False),
        sa.Column('occurred_at', sa.BigInteger, nullable=False),
        sa.Column('kind', sa.String(16)),
        sa.Column('message_id', sa.String(64)),
        sa.Column('project_id', sa.String(64)),
        sa.Column('user_id', sa.String(64)),
        sa.Column('name', sa.String(255)),
        sa.Column('image_id', sa.String(36)),
        sa.Column('host', sa.String(255)),
        sa.Column('flavor_id', sa.String(255)),
        sa.Column('vcpus', sa.Integer),
        sa.Column('memory_mb', sa.Integer),
        sa.Column('disk_gb', sa.Integer),
        sa.Column('launched_at', sa.BigInteger),
        sa.UniqueConstraint('instance_uuid', 'event_type', 'occurred_at',
                            name='uq_usage_events_key'),
    )
    op.create_table(
        'usage_instances',
        sa.Column('instance_uuid', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64)),
        sa.Column('user_id', sa.String(64)),
        sa.Column('name', sa.String(255)),
        sa.Column('image_id', sa.String(36)),
        sa.Column('host', sa.String(255)),
        sa.Column('started_at', sa.BigInteger),
        sa.Column('deleted_at', sa.BigInteger),
    )
    op.create_table(
        'usage_intervals',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('started_at', sa.BigInteger, nullable=False),
        sa.Column('ended_at', sa.BigInteger),
        sa.Column('flavor_id', sa.String(255)),
        sa.Column('vcpus', sa.Integer),
        sa.Column('memory_mb', sa.Integer),
        sa.Column('disk_gb', sa.Integer),
    )
    for column in ('instance_uuid', 'started_at', 'ended_at'):
        op.create_index('ix_usage_intervals_%s' % column, 'usage_intervals',
                        [column])
    op.create_table(
        'usage_cpu_samples',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('run_id', sa.String(64), nullable=False),
        sa.Column('sampled_at', sa.BigInteger, nullable=False),
        sa.Column('cpu_time_ns', sa.BigInteger, nullable=False),
        sa.UniqueConstraint('instance_uuid', 'host', 'run_id', 'sampled_at',
                            name='uq_usage_cpu_samples_key'),
    )
    op.create_table(
        'usage_rejected',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('received_at', sa.BigInteger, nullable=False),
        sa.Column('event_type', sa.String(255)),
        sa.Column('message_id', sa.String(64)),
        sa.Column('reason', sa.Text, nullable=False),
        sa.Column('payload', sa.Text),
    )
