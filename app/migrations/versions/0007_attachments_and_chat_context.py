"""attachment and stored_file (files sent in chats), chat_context (where a chat came from)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('uploader_role', sa.Enum('VISITOR', 'AGENT', 'SYSTEM',
                                           name='attachment_uploader_role',
                                           native_enum=False, length=16,
                                           create_constraint=True), nullable=False),
        sa.Column('uploader_user_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=100), nullable=False),
        sa.Column('thumbnail_key', sa.String(length=100), nullable=True),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['chat_message.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['uploader_user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    op.create_index('ix_attachment_chat_id', 'attachment', ['chat_id'])
    op.create_index('ix_attachment_message_id', 'attachment', ['message_id'])
    op.create_table(
        'stored_file',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'chat_context',
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('page_url', sa.String(length=2000), nullable=True),
        sa.Column('page_title', sa.String(length=300), nullable=True),
        sa.Column('referrer', sa.String(length=2000), nullable=True),
        sa.Column('language', sa.String(length=35), nullable=True),
        sa.Column('time_zone', sa.String(length=64), nullable=True),
        sa.Column('browser', sa.String(length=80), nullable=True),
        sa.Column('os', sa.String(length=80), nullable=True),
        sa.Column('user_agent', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chat_id'),
    )


def downgrade():
    op.drop_table('chat_context')
    op.drop_table('stored_file')
    op.drop_index('ix_attachment_message_id', table_name='attachment')
    op.drop_index('ix_attachment_chat_id', table_name='attachment')
    op.drop_table('attachment')
