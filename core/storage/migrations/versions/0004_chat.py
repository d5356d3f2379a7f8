"""chat conversations and messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:46:40.265944
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chat_conversations',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('visitor_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('claimed_email', sa.String(length=320), nullable=True),
    sa.Column('topic', sa.String(length=200), nullable=True),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('contact_id', sa.String(length=40), nullable=True),
    sa.Column('case_id', sa.String(length=40), nullable=True),
    sa.Column('agent_id', sa.String(length=40), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_conversations'))
    )
    with op.batch_alter_table('chat_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_conversations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_conversations_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('chat_messages',
    sa.Column('conversation_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('client_msg_id', sa.String(length=64), nullable=True),
    sa.Column('agent_id', sa.String(length=40), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', 'seq', name=op.f('pk_chat_messages')),
    sa.UniqueConstraint('conversation_id', 'client_msg_id', name='uq_chat_messages_client_id')
    )


def downgrade() -> None:
    op.drop_table('chat_messages')
    with op.batch_alter_table('chat_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_conversations_visitor_id'))
        batch_op.drop_index(batch_op.f('ix_chat_conversations_case_id'))

    op.drop_table('chat_conversations')
