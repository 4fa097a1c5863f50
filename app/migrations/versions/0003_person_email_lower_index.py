"""person: index on lower(email), which the end-user lookup of every chat request uses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_person_email', table_name='person')
    op.create_index('ix_person_email_lower', 'person', [sa.text('lower(email)')], unique=False)


def downgrade():
    op.drop_index('ix_person_email_lower', table_name='person')
    op.create_index('ix_person_email', 'person', ['email'], unique=False)
