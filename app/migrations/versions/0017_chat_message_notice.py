"""chat_message.notice: a desk line (SYSTEM) as what happened and to whom, so that each
client words it in its own language (lines written before keep their English body only)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 23:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_message') as batch_op:
        batch_op.add_column(sa.Column('notice', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_message') as batch_op:
        batch_op.drop_column('notice')
