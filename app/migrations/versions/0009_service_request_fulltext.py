"""service_request: a full-text GIN index for "solved before" (PostgreSQL only)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 19:00:00

"""
from alembic import op

from app.models.requests import SEARCH_DOCUMENT

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_service_request_fulltext ON service_request "
                   f"USING gin ({SEARCH_DOCUMENT})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_service_request_fulltext")
