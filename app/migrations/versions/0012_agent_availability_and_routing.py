"""Agent availability, capacity and routing: the agent's status, capacity and alert setting,
a chat queue's routing, the chat's current offer and every offer made (chat_offer)

Revision ID: 0012
Revises: 0015
Create Date: 2026-11-29 19:30:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

revision = '0012'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('alert_in_focus', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default='available'))
        batch_op.add_column(sa.Column('status_since', UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column('status_reason', sa.String(length=200)))
        batch_op.add_column(sa.Column('console_closed_at', UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column('max_chats', sa.Integer()))
        batch_op.add_column(sa.Column('last_chat_at', UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column('offers_missed', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_check_constraint('agent_status', "status IN ('available', 'away')")
        batch_op.create_check_constraint('max_chats',
                                         'max_chats IS NULL OR max_chats BETWEEN 1 AND 20')
    with op.batch_alter_table('person_group') as batch_op:
        batch_op.add_column(sa.Column('routing', sa.String(length=16), nullable=False,
                                      server_default='manual'))
        batch_op.create_check_constraint('routing_kind', "routing IN ('manual', 'auto')")
    with op.batch_alter_table('chat') as batch_op:
        batch_op.add_column(sa.Column('offered_to_id', sa.Integer()))
        batch_op.add_column(sa.Column('offer_expires_at', UTCDateTime(timezone=True)))
        batch_op.create_foreign_key(batch_op.f('fk_chat_offered_to_id_user_account'),
                                    'user_account', ['offered_to_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_chat_offer_expires_at', ['offer_expires_at'], unique=False)
        batch_op.create_index('ix_chat_offered_to', ['offered_to_id'], unique=False)
    op.create_table(
        'chat_offer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('offered_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', UTCDateTime(timezone=True)),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], name=op.f('fk_chat_offer_chat_id_chat'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_chat_offer_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_offer')),
    )
    with op.batch_alter_table('chat_offer') as batch_op:
        batch_op.create_index('ix_chat_offer_chat_user', ['chat_id', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_offer_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('chat_offer')
    with op.batch_alter_table('chat') as batch_op:
        batch_op.drop_index('ix_chat_offered_to')
        batch_op.drop_index('ix_chat_offer_expires_at')
        batch_op.drop_constraint(batch_op.f('fk_chat_offered_to_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('offer_expires_at')
        batch_op.drop_column('offered_to_id')
    with op.batch_alter_table('person_group') as batch_op:
        batch_op.drop_constraint('routing_kind', type_='check')
        batch_op.drop_column('routing')
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_constraint('max_chats', type_='check')
        batch_op.drop_constraint('agent_status', type_='check')
        for column in ('offers_missed', 'last_chat_at', 'max_chats', 'console_closed_at',
                       'status_reason', 'status_since', 'status', 'alert_in_focus'):
            batch_op.drop_column(column)
