"""Taking back work nobody should be offered any more.

A caller who hangs up in the queue, a chat visitor who leaves before an agent answers, a
case resolved by a colleague while it waits: offering any of them afterwards costs an agent
a ring, a pop and a dead end (Twilio TaskRouter cancels the task for the same reason). Work
already held by an agent is theirs to wrap up and is left alone.
"""

from __future__ import annotations

from datetime import datetime

from core.domain.errors import Conflict
from core.domain.events import Event, OfferAnswered, WorkCancelled
from core.domain.work import OfferStatus, WorkStatus
from core.ports import UnitOfWork

# A dispatcher may offer the item between our read and our write (it saves conditionally on
# the item's version); reading again sees its offer, which is then withdrawn.
_ATTEMPTS = 3


async def withdraw_waiting_work(uow: UnitOfWork, case_id: str, *, reason: str,
                                now: datetime) -> list[Event]:
    """Cancel the case's queued or offered work in ``uow``; the events to publish with it."""
    for attempt in range(_ATTEMPTS):
        try:
            return await _withdraw(uow, case_id, reason=reason, now=now)
        except Conflict:
            if attempt == _ATTEMPTS - 1:
                raise
    return []


async def _withdraw(uow: UnitOfWork, case_id: str, *, reason: str,
                    now: datetime) -> list[Event]:
    item = await uow.work.item_for_case(case_id)
    if item is None or item.status not in (WorkStatus.QUEUED, WorkStatus.OFFERED):
        return []
    events: list[Event] = []
    if item.status is WorkStatus.OFFERED and item.offer_id is not None:
        offer = await uow.work.get_offer(item.offer_id)
        if offer is not None and offer.status is OfferStatus.PENDING:
            offer.withdraw(now)
            await uow.work.save_offer(offer)
            load = await uow.work.get_load(offer.agent_id)
            if load is not None:  # the offer reserved the agent's capacity
                load.release(item.channel, now)
                await uow.work.save_load(load)
            events.append(OfferAnswered(offer_id=offer.id, work_item_id=item.id,
                                        case_id=case_id, agent_id=offer.agent_id,
                                        status=offer.status.value))
    item.cancel()
    await uow.work.save_item(item)
    events.append(WorkCancelled(work_item_id=item.id, case_id=case_id,
                                queue_id=item.queue_id, reason=reason))
    return events
