"""case_notes: internal notes get a table of their own, moved out of the config documents

Until now a case's notes were one configuration document (``case-notes:{case_id}``, a
list under "notes"). Each note becomes a row; notes of cases that no longer exist, and
repeated ids, are left out; the documents are removed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 12:00:00
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.storage.types import JSONDoc, UTCDateTime

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREFIX = 'case-notes:'

_documents = sa.table(
    'config_documents', sa.column('key', sa.String), sa.column('document', JSONDoc),
    sa.column('revision', sa.Integer), sa.column('updated_by', sa.String),
    sa.column('updated_at', UTCDateTime))
_cases = sa.table('cases', sa.column('id', sa.String))
_notes = sa.table(
    'case_notes', sa.column('id', sa.String), sa.column('case_id', sa.String),
    sa.column('text', sa.Text), sa.column('author', sa.String),
    sa.column('author_id', sa.String), sa.column('agent_id', sa.String),
    sa.column('created_at', UTCDateTime))


def upgrade() -> None:
    op.create_table('case_notes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.String(length=40), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index('ix_case_notes_case', ['case_id', 'created_at', 'id'], unique=False)
    _move_notes_out_of_documents()


def downgrade() -> None:
    _move_notes_back_into_documents()
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_case_notes_case')
    op.drop_table('case_notes')


def _move_notes_out_of_documents() -> None:
    bind = op.get_bind()
    found = bind.execute(sa.select(_documents.c.key, _documents.c.document).where(
        _documents.c.key.like(f'{_PREFIX}%'))).all()
    if not found:
        return
    case_ids = [key[len(_PREFIX):] for key, _ in found]
    existing = {row[0] for row in bind.execute(
        sa.select(_cases.c.id).where(_cases.c.id.in_(case_ids)))}
    rows: dict[str, dict[str, Any]] = {}
    for key, document in found:
        case_id = key[len(_PREFIX):]
        if case_id not in existing or not isinstance(document, dict):
            continue
        for note in document.get('notes') or []:
            row = _row(case_id, note)
            if row is not None:
                rows.setdefault(row['id'], row)
    if rows:
        bind.execute(_notes.insert(), list(rows.values()))
    bind.execute(_documents.delete().where(_documents.c.key.like(f'{_PREFIX}%')))


def _row(case_id: str, note: Any) -> dict[str, Any] | None:
    if not isinstance(note, dict) or not note.get('id') or not note.get('text'):
        return None
    try:
        created = datetime.fromisoformat(str(note.get('created_at')))
    except ValueError:
        return None
    agent_id = note.get('agent_id') or None
    author = str(note.get('author') or 'unknown')[:200]
    return {'id': str(note['id'])[:40], 'case_id': case_id, 'text': str(note['text']),
            'author': author, 'agent_id': agent_id,
            # Who wrote it, as the delete rule compares it: the agent, else the name (the
            # old documents kept no principal id; such notes are past deleting anyway).
            'author_id': str(agent_id or f'name:{author}')[:40],
            'created_at': created if created.tzinfo else created.replace(tzinfo=UTC)}


def _move_notes_back_into_documents() -> None:
    bind = op.get_bind()
    by_case: dict[str, list[dict[str, Any]]] = {}
    for note in bind.execute(sa.select(_notes).order_by(
            _notes.c.case_id, _notes.c.created_at, _notes.c.id)).mappings():
        by_case.setdefault(note['case_id'], []).append({
            'id': note['id'], 'case_id': note['case_id'], 'text': note['text'],
            'author': note['author'], 'agent_id': note['agent_id'],
            'created_at': note['created_at'].isoformat()})
    now = datetime.now(UTC)
    for case_id, notes in by_case.items():
        bind.execute(_documents.insert().values(
            key=f'{_PREFIX}{case_id}', document={'notes': notes}, revision=1,
            updated_by='migration 0011 downgrade', updated_at=now))
