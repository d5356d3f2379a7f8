"""Internal notes on a case: add, list, and take one back (core.domain.notes has the rules).

A note's row is its own record (who wrote it, when); taking one back is recorded in the
audit log in the same unit of work, without the text (it may have been put on the wrong
case for a reason).
"""

from __future__ import annotations

from datetime import timedelta

from core.domain.audit import Actor, AuditAction
from core.domain.clock import Clock
from core.domain.errors import Conflict, NotFound
from core.domain.ids import new_id
from core.domain.notes import DELETE_WINDOW, MAX_PER_CASE, Note
from core.ports import Principal, UnitOfWork, UnitOfWorkFactory
from core.services import audit


def author_id(principal: Principal) -> str:
    """An agent is one author whether they write from the desk's session or with a token."""
    return principal.agent_id or principal.id


class CaseNotes:
    def __init__(self, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory, clock: Clock, *,
                 delete_window: timedelta = DELETE_WINDOW,
                 max_per_case: int = MAX_PER_CASE) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock
        self.delete_window = delete_window
        self._max = max_per_case

    async def add(self, case_id: str, text: str, *, by: Principal) -> Note:
        async with self._uow() as uow:
            await _case_customer(uow, case_id)
            if await uow.notes.count_for_case(case_id) >= self._max:
                raise Conflict(f"a case holds at most {self._max} notes")
            note = Note(id=new_id("note"), case_id=case_id, text=text, author=by.name,
                        author_id=author_id(by), agent_id=by.agent_id,
                        created_at=self._clock.now())
            await uow.notes.add(note)
            await uow.commit()
        return note

    async def for_case(self, case_id: str) -> list[Note]:
        """Oldest first (every note: the cap keeps the list short)."""
        async with self._read_uow() as uow:
            await _case_customer(uow, case_id)
            return await uow.notes.for_case(case_id, limit=self._max)

    async def delete(self, case_id: str, note_id: str, *, by: Principal,
                     request_id: str | None = None) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            note = await uow.notes.get(note_id)
            if note is None or note.case_id != case_id:
                raise NotFound("note", note_id)
            note.check_delete(by_id=author_id(by), at=now, window=self.delete_window)
            if not await uow.notes.delete(note_id):
                raise NotFound("note", note_id)  # a second click, at the same moment
            await audit.record(
                uow, at=now, action=AuditAction.NOTE_DELETED, subject_kind="note",
                subject_id=note.id, customer_id=await _case_customer(uow, case_id),
                actor=Actor(id=by.id, name=by.name, role=by.role.value,
                            request_id=request_id),
                details={"case_id": case_id, "written_at": note.created_at.isoformat()})
            await uow.commit()


async def _case_customer(uow: UnitOfWork, case_id: str) -> str:
    case = await uow.cases.get(case_id)
    if case is None:
        raise NotFound("case", case_id)
    return case.customer_id
