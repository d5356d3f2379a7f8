"""Changing a case: status through its lifecycle, priority, owner, type, queue and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.domain.clock import Clock
from core.domain.commands import UpdateCase
from core.domain.contact import Case, CaseStatus
from core.domain.errors import InvalidInput, NotFound
from core.domain.events import CaseUpdated
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.withdrawal import withdraw_waiting_work


class CaseUpdates:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def update(self, cmd: UpdateCase) -> Case:
        async with self._uow() as uow:
            case = await uow.cases.get(cmd.case_id, for_update=True)
            if case is None:
                raise NotFound("case", cmd.case_id)
            await _check_references(uow, cmd)
            now = self._clock.now()
            changes = _apply(case, cmd, now)
            if changes:
                case.updated_at = now
                await uow.cases.save(case)
                uow.outbox.add([CaseUpdated(case_id=case.id, changes=changes)])
                if not case.is_open:
                    uow.outbox.add(await withdraw_waiting_work(
                        uow, case.id, reason=f"case {case.status.value}", now=now))
                await uow.commit()
            return case


async def _check_references(uow: UnitOfWork, cmd: UpdateCase) -> None:
    if cmd.owner_agent_id is not None and await uow.workforce.get_agent(
            cmd.owner_agent_id) is None:
        raise InvalidInput({"owner": f"no agent {cmd.owner_agent_id!r}"})
    if cmd.queue_id is not None and await uow.workforce.get_queue(cmd.queue_id) is None:
        raise InvalidInput({"queue": f"no queue {cmd.queue_id!r}"})


def _apply(case: Case, cmd: UpdateCase, now: datetime) -> dict[str, Any]:
    """Apply the command to the case; returns what actually changed."""
    changes: dict[str, Any] = {}
    if cmd.status is not None and cmd.status != case.status.value:
        case.move_to(CaseStatus(cmd.status), now)
        changes["status"] = case.status.value
    if cmd.priority is not None and cmd.priority != case.priority:
        case.priority = cmd.priority
        changes["priority"] = int(cmd.priority)
    owner = None if cmd.clear_owner else (cmd.owner_agent_id or case.owner_agent_id)
    if owner != case.owner_agent_id:
        case.owner_agent_id = owner
        changes["owner"] = owner
    if cmd.case_type is not None and cmd.case_type != case.type:
        case.type = cmd.case_type
        changes["type"] = case.type.value
    if cmd.queue_id is not None and cmd.queue_id != case.queue_id:
        case.queue_id = cmd.queue_id
        changes["queue"] = case.queue_id
    if cmd.tags is not None and sorted(set(cmd.tags)) != case.tags:
        case.tags = sorted(set(cmd.tags))
        changes["tags"] = case.tags
    return changes
