"""routing: rule set versions, decisions, work items, offers, agent loads, SLA clocks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:08:04.029616
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('config_documents',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_config_documents'))
    )
    op.create_table('offers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('work_item_id', sa.String(length=40), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trace', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index('ix_offers_agent', ['agent_id', 'status'], unique=False)
        batch_op.create_index('ix_offers_pending', ['status', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_work_item_id'), ['work_item_id'], unique=False)

    op.create_table('routing_decisions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('contact_id', sa.String(length=40), nullable=False),
    sa.Column('work_item_id', sa.String(length=40), nullable=True),
    sa.Column('rule_set_version', sa.Integer(), nullable=True),
    sa.Column('facts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('classification', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('outcome', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_decisions'))
    )
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_decisions_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_routing_decisions_recent', ['decided_at', 'id'], unique=False)

    op.create_table('rule_set_versions',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_rule_set_versions'))
    )
    op.create_table('sla_clocks',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('policy_id', sa.String(length=100), nullable=False),
    sa.Column('calendar_id', sa.String(length=100), nullable=False),
    sa.Column('target_s', sa.Integer(), nullable=False),
    sa.Column('warn_at_fraction', sa.Float(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_s', sa.Float(), nullable=False),
    sa.Column('running_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned', sa.Boolean(), nullable=False),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('next_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clocks'))
    )
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_clocks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_sla_clocks_deadline', ['next_deadline'], unique=False)

    op.create_table('work_items',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('contact_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('queue_id', sa.String(length=40), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tier', sa.SmallInteger(), nullable=False),
    sa.Column('preferred_agent_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('preferred_team_id', sa.String(length=40), nullable=True),
    sa.Column('excluded_agent_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_agent_id', sa.String(length=40), nullable=True),
    sa.Column('offer_id', sa.String(length=40), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_work_items_customer', ['customer_id', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_work_items_waiting', ['status', 'queue_id', 'enqueued_at'], unique=False)

    op.create_table('agent_queues',
    sa.Column('queue_id', sa.String(length=40), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'],
                            name=op.f('fk_agent_queues_agent_id_agents')),
    sa.PrimaryKeyConstraint('queue_id', 'agent_id', name=op.f('pk_agent_queues'))
    )
    op.create_table('agent_loads',
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('load', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('idle_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('missed_offers', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_loads_agent_id_agents')),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agent_loads'))
    )
    op.create_table('rule_set_activations',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version'], ['rule_set_versions.number'], name=op.f('fk_rule_set_activations_version_rule_set_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_set_activations'))
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='[]', nullable=False))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('classification', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('first_responded_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False))




def downgrade() -> None:

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('metadata')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('first_responded_at')
        batch_op.drop_column('language')
        batch_op.drop_column('classification')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('queue_ids')

    op.drop_table('rule_set_activations')
    op.drop_table('agent_loads')
    op.drop_table('agent_queues')
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_waiting')
        batch_op.drop_index('ix_work_items_customer')
        batch_op.drop_index(batch_op.f('ix_work_items_case_id'))

    op.drop_table('work_items')
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_clocks_deadline')
        batch_op.drop_index(batch_op.f('ix_sla_clocks_case_id'))

    op.drop_table('sla_clocks')
    op.drop_table('rule_set_versions')
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_decisions_recent')
        batch_op.drop_index(batch_op.f('ix_routing_decisions_case_id'))

    op.drop_table('routing_decisions')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_work_item_id'))
        batch_op.drop_index('ix_offers_pending')
        batch_op.drop_index('ix_offers_agent')

    op.drop_table('offers')
    op.drop_table('config_documents')

