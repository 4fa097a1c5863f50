"""service_request.search_document: the text "solved before" searches, kept by the database

On PostgreSQL a stored generated tsvector column with the GIN index (instead of an index on
the expression): ranking reads each candidate's vector instead of parsing its text again.
Elsewhere a virtual column (nothing stored). Adding it rewrites the table on PostgreSQL
(about a minute and a half for a million SRs on a small machine).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from app.models.requests import PLAIN_DOCUMENT, SEARCH_DOCUMENT

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_service_request_fulltext")
        op.add_column('service_request', sa.Column(
            'search_document', TSVECTOR(), sa.Computed(sa.text(SEARCH_DOCUMENT), persisted=True)))
        op.execute("CREATE INDEX ix_service_request_fulltext ON service_request "
                   "USING gin (search_document)")
    else:
        # SQLite adds only virtual generated columns to a table that exists.
        op.add_column('service_request', sa.Column(
            'search_document', sa.Text(), sa.Computed(sa.text(PLAIN_DOCUMENT), persisted=False)))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_service_request_fulltext")
        op.drop_column('service_request', 'search_document')
        op.execute(f"CREATE INDEX ix_service_request_fulltext ON service_request "
                   f"USING gin ({SEARCH_DOCUMENT})")
    else:
        op.drop_column('service_request', 'search_document')
