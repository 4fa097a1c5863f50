"""person.verified, chat.verified and chat.transcript_requested_at: who vouched for an end
user's address, and the one transcript mail of a chat

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 16:30:00

"""
import sqlalchemy as sa
from alembic import op

import app.models.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): re-creating the person table on SQLite would lose the
    # expression index on lower(email).
    op.add_column('person', sa.Column('verified', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.add_column('chat', sa.Column('verified', sa.Boolean(), nullable=False,
                                    server_default=sa.false()))
    op.add_column('chat', sa.Column('transcript_requested_at',
                                    app.models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('chat') as batch_op:
        batch_op.drop_column('transcript_requested_at')
        batch_op.drop_column('verified')
    with op.batch_alter_table('person') as batch_op:
        batch_op.drop_column('verified')
    op.create_index('ix_person_email_lower', 'person', [sa.text('lower(email)')],
                    unique=False, if_not_exists=True)
