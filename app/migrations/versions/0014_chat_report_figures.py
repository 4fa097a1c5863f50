"""chat.first_response_at, chat.message_count and chat.sr_resolved_at: the figures of an
ended chat that the reports read, filled in for the chats that ended before

Each backfill is one UPDATE … FROM over a grouped subquery (one pass over the messages or
the status history, not one look-up per chat).

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-29 19:30:00

"""
import sqlalchemy as sa
from alembic import op

import app.models.types

revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None

# The chat's agent's first message after he accepted the chat (not the queue's automatic
# greeting), of the chats that ended.
FIRST_RESPONSE = """
UPDATE chat SET first_response_at = s.first FROM (
    SELECT m.chat_id AS chat_id, min(m.sent_at) AS first
    FROM chat_message m JOIN chat c ON c.id = m.chat_id
    WHERE c.status = 'CLOSED' AND m.sender_role = 'AGENT' AND m.user_id = c.agent_id
      AND m.sent_at >= c.accepted_at AND m.client_id NOT LIKE 'greeting-%'
    GROUP BY m.chat_id) AS s
WHERE chat.id = s.chat_id
"""

# Messages of the end user and the agents (not the desk's notes nor the queue's automatic
# greeting), of the chats that ended.
MESSAGE_COUNT = """
UPDATE chat SET message_count = s.n FROM (
    SELECT m.chat_id AS chat_id, count(*) AS n FROM chat_message m
    WHERE m.sender_role = 'VISITOR'
       OR (m.sender_role = 'AGENT' AND m.client_id NOT LIKE 'greeting-%')
    GROUP BY m.chat_id) AS s
WHERE chat.id = s.chat_id AND chat.status IN ('CLOSED', 'ABANDONED')
"""
ZERO_MESSAGES = ("UPDATE chat SET message_count = 0 WHERE message_count IS NULL "
                 "AND status IN ('CLOSED', 'ABANDONED')")

# The chat's agent moved its SR to RESOLVED after accepting the chat, before it ended or
# within the 15 minutes of wrap-up after (app.desk.requests.WRAP_UP).
SR_RESOLVED = """
UPDATE chat SET sr_resolved_at = s.resolved FROM (
    SELECT c.id AS chat_id, min(h.changed_at) AS resolved
    FROM chat c JOIN sr_status_history h ON h.sr_id = c.sr_id
    WHERE c.accepted_at IS NOT NULL AND c.status IN ('ACTIVE', 'CLOSED')
      AND h.to_status = 'RESOLVED' AND h.changed_by_id = c.agent_id
      AND h.changed_at >= c.accepted_at AND (c.closed_at IS NULL OR h.changed_at <= {wrap_up})
    GROUP BY c.id) AS s
WHERE chat.id = s.chat_id
"""


def upgrade():
    op.add_column('chat', sa.Column('first_response_at',
                                    app.models.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('chat', sa.Column('message_count', sa.Integer(), nullable=True))
    op.add_column('chat', sa.Column('sr_resolved_at',
                                    app.models.types.UTCDateTime(timezone=True), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    wrap_up = ("c.closed_at + INTERVAL '15 minutes'" if postgres
               else "strftime('%Y-%m-%d %H:%M:%f', c.closed_at, '+15 minutes')")
    op.execute(FIRST_RESPONSE)
    op.execute(MESSAGE_COUNT)
    op.execute(ZERO_MESSAGES)
    op.execute(SR_RESOLVED.format(wrap_up=wrap_up))


def downgrade():
    with op.batch_alter_table('chat') as batch_op:
        batch_op.drop_column('sr_resolved_at')
        batch_op.drop_column('message_count')
        batch_op.drop_column('first_response_at')
