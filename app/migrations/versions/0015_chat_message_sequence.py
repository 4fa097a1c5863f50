"""chat.last_seq and chat_message.seq: every message of a chat numbered 1, 2, 3, ... so that a
client sees at once that it missed one (a gap) and fetches it

Existing messages are numbered in id order, chat by chat.

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-29 19:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('chat', sa.Column('last_seq', sa.Integer(), nullable=False,
                                    server_default=sa.text('0')))
    op.add_column('chat_message', sa.Column('seq', sa.Integer(), nullable=True))
    op.execute("UPDATE chat_message SET seq = numbered.n FROM ("
               "SELECT id, row_number() OVER (PARTITION BY chat_id ORDER BY id) AS n "
               "FROM chat_message) AS numbered WHERE chat_message.id = numbered.id")
    op.execute("UPDATE chat SET last_seq = counted.n FROM ("
               "SELECT chat_id, max(seq) AS n FROM chat_message GROUP BY chat_id) AS counted "
               "WHERE chat.id = counted.chat_id")
    with op.batch_alter_table('chat_message') as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
    op.create_index('uq_chat_message_chat_seq', 'chat_message', ['chat_id', 'seq'], unique=True)


def downgrade():
    op.drop_index('uq_chat_message_chat_seq', table_name='chat_message')
    with op.batch_alter_table('chat_message') as batch_op:
        batch_op.drop_column('seq')
    with op.batch_alter_table('chat') as batch_op:
        batch_op.drop_column('last_seq')
