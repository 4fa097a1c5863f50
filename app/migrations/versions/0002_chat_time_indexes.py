"""chat: indexes for the dashboard's day ranges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:45:00

"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.create_index('ix_chat_requested_at', ['requested_at'], unique=False)
        batch_op.create_index('ix_chat_accepted_at', ['accepted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_accepted_at')
        batch_op.drop_index('ix_chat_requested_at')
