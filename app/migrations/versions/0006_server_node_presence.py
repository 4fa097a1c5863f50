"""server_node (one row per live server process) and chat.visitor_node

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'server_node',
        sa.Column('node', sa.String(length=64), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('node', name=op.f('pk_server_node')),
    )
    with op.batch_alter_table('server_node') as batch_op:
        batch_op.create_index(batch_op.f('ix_server_node_last_seen_at'), ['last_seen_at'],
                              unique=False)
    with op.batch_alter_table('chat') as batch_op:
        batch_op.add_column(sa.Column('visitor_node', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('chat') as batch_op:
        batch_op.drop_column('visitor_node')
    with op.batch_alter_table('server_node') as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_node_last_seen_at'))
    op.drop_table('server_node')
