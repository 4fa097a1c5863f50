"""user_account: session_generation, raised when every session of a login must end

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('session_generation')
