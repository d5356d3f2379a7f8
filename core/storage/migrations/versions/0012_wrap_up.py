"""wrap_up: work items keep when they were accepted, when the conversation ended, when they
were wrapped up, with which disposition and outcome, and any callback promised; callback
work waits from its time

Old rows: ``accepted_at`` is filled from the first accepted offer (exactly what it means);
the conversation's end, the completion, disposition and outcome were never recorded and
stay NULL (reports leave such work out of handle time and outcomes). Every old item is a
contact's work.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 15:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = ('accepted_at', 'conversation_ended_at', 'wrap_up_due_at', 'completed_at',
         'callback_at')


def upgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False,
                                      server_default='contact'))
        for name in _WHEN:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disposition', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_work_items_wrap_up_due', ['status', 'wrap_up_due_at'],
                              unique=False)
    op.execute(
        "UPDATE work_items SET accepted_at = (SELECT min(offers.answered_at) FROM offers "
        "WHERE offers.work_item_id = work_items.id AND offers.status = 'accepted')")


def downgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_wrap_up_due')
        batch_op.drop_column('outcome')
        batch_op.drop_column('disposition')
        for name in reversed(_WHEN):
            batch_op.drop_column(name)
        batch_op.drop_column('kind')
