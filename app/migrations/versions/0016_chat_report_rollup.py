"""chat_report_day and chat.report_facts: the reports' roll-up per day and month, per desk,
queue and agent, counted from the chats there are (days in DESK_TIMEZONE)

The count is app.desk.report_rollup.rebuild, the function the desk itself checks its roll-up
against; it reads the chat through plain tables of the columns this revision has.

Revision ID: 0016
Revises: 0012
Create Date: 2026-11-29 23:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    from app.desk import report_rollup
    from app.desk.stats import desk_timezone

    with op.batch_alter_table('chat') as batch_op:
        batch_op.add_column(sa.Column('report_facts', sa.Text(), nullable=True))
    zero = sa.text('0')
    op.create_table(
        'chat_report_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('span', sa.String(length=8), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('folded', sa.Boolean(), server_default=sa.false(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default=zero, nullable=False)
          for name in report_rollup.COUNTS),
        *(sa.Column(name, sa.Text(), server_default='', nullable=False)
          for name in report_rollup.HISTOGRAMS),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_report_day')),
    )
    op.create_index('ix_chat_report_day_key', 'chat_report_day',
                    ['scope', 'span', 'day', 'group_id'])
    op.create_index('ix_chat_report_day_unfolded', 'chat_report_day', ['folded'])
    report_rollup.rebuild(op.get_bind(), desk_timezone())


def downgrade():
    op.drop_index('ix_chat_report_day_unfolded', table_name='chat_report_day')
    op.drop_index('ix_chat_report_day_key', table_name='chat_report_day')
    op.drop_table('chat_report_day')
    with op.batch_alter_table('chat') as batch_op:
        batch_op.drop_column('report_facts')
