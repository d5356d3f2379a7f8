"""satisfaction surveys: invitations (hashed tokens), responses, per-customer cap and opt-out

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 11:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey_invitations',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=True),
    sa.Column('contact_id', sa.String(length=40), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_survey_invitations_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_survey_invitations_token_hash'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_survey_invitations_customer', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_survey_invitations_case', ['case_id'], unique=False)
        batch_op.create_index('ix_survey_invitations_reference', ['channel', 'reference'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('invitation_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=True),
    sa.Column('contact_id', sa.String(length=40), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('nps', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_responses_invitation_id_survey_invitations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_survey_responses_invitation_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_contact', ['contact_id'], unique=False)
        batch_op.create_index('ix_survey_responses_case', ['case_id'], unique=False)
        batch_op.create_index('ix_survey_responses_customer', ['customer_id', 'answered_at'], unique=False)
        batch_op.create_index('ix_survey_responses_answered', ['answered_at', 'id'], unique=False)

    op.create_table('survey_subjects',
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('last_invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opted_out_via', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_survey_subjects_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_survey_subjects'))
    )


def downgrade() -> None:
    op.drop_table('survey_subjects')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_answered')
        batch_op.drop_index('ix_survey_responses_customer')
        batch_op.drop_index('ix_survey_responses_case')
        batch_op.drop_index('ix_survey_responses_contact')

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_invitations_reference')
        batch_op.drop_index('ix_survey_invitations_case')
        batch_op.drop_index('ix_survey_invitations_customer')

    op.drop_table('survey_invitations')
