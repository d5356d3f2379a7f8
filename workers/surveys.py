"""The surveys worker: when a case is resolved, ask the customer how we did — by e-mail
link or in the chat widget (docs/surveys.md).

Consumer group ``surveys`` on ``case.updated`` with ``changes.status == "resolved"``. Each
such event is handled once: the inbox mark, the invitation and its queued e-mail commit in
one transaction. The chat prompt is pushed after the commit (best effort: a widget that
reconnects to its conversation is asked again).
"""

from __future__ import annotations

import asyncio
import logging

from core.domain.channels import Channel
from core.domain.events import Envelope
from core.services.surveys import Decision
from workers.services import Services

log = logging.getLogger(__name__)

SURVEYS_GROUP = "surveys"


def resolves_a_case(envelope: Envelope) -> bool:
    changes = envelope.payload.get("changes")
    return envelope.topic == "case.updated" and isinstance(changes, dict) \
        and changes.get("status") == "resolved"


async def survey_after_resolution(services: Services, envelope: Envelope) -> Decision | None:
    """Handle one ``case.updated`` event; None when it was handled before."""
    case_id = str(envelope.payload["case_id"])
    async with services.uow() as uow:
        if not await uow.inbox.first_delivery(SURVEYS_GROUP, envelope.id):
            return None  # a redelivery of something already handled and committed
        decision = await services.surveys.case_resolved(uow, case_id)
        await uow.commit()
    invitation = decision.invitation
    if invitation is None:
        log.info("case %s resolved: no survey (%s)", case_id,
                 decision.skipped.value if decision.skipped else "?")
    elif invitation.channel is Channel.EMAIL:
        services.wakeups.mail.set()
    elif invitation.channel is Channel.CHAT:
        await services.chat.survey_prompt(invitation)
    return decision


async def run_surveys(services: Services, stop: asyncio.Event) -> None:
    async def handle(envelope: Envelope) -> None:
        if resolves_a_case(envelope):
            await survey_after_resolution(services, envelope)

    await services.bus.consume(group=SURVEYS_GROUP, consumer=f"surveys-{services.instance}",
                               handler=handle, stop=stop)
