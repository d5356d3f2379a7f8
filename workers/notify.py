"""From events to pushes: who must hear about what, the moment it happens.

Pushes are hints (``offer_ready`` names an offer; the desktop connection reads it in full
from the database), so a lost push costs a moment, never data: a desktop that connects
reads every pending offer anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from channels.voice.outbound import TwilioUnavailable
from core.domain.events import Envelope
from workers.services import Services
from workers.wallboard import hint_board_changed

SUPERVISORS = "supervisors"
log = logging.getLogger(__name__)


def agent_channel(agent_id: str) -> str:
    return f"agent:{agent_id}"


def wrapped_up_frame(p: Mapping[str, object]) -> dict[str, object]:
    """The desktop's ``wrapped_up``, from a ``routing.work_completed`` payload."""
    return {"type": "wrapped_up", "case_id": p["case_id"], "disposition": p["disposition"],
            "outcome": p["outcome"], "callback_at": p.get("callback_at"),
            "automatic": bool(p.get("automatic"))}


async def notify(services: Services, envelope: Envelope) -> None:
    p = envelope.payload
    push = services.push
    await hint_board_changed(push, envelope)  # supervisors' wallboards
    await _transferred_call(services, envelope)
    if envelope.topic == "routing.offer_made":
        # The screen-pop first, then (for a waiting caller) the agent's phone rings.
        await push.publish(agent_channel(str(p["agent_id"])),
                           {"type": "offer_ready", "offer_id": p["offer_id"]})
        try:
            await services.bridge.offered(str(p["offer_id"]))
        except TwilioUnavailable:
            log.exception("could not ring agent %s for offer %s", p["agent_id"],
                          p["offer_id"])
    elif envelope.topic == "routing.offer_answered" and p["status"] == "accepted":
        agent = await services.agents.get(str(p["agent_id"]))
        await services.chat.agent_joined(str(p["case_id"]), agent.id, agent.name)
    elif envelope.topic in ("routing.work_completed", "routing.after_contact_work"):
        await _wrap_up(services, envelope)
    elif envelope.topic == "routing.offer_answered" and p["status"] in ("expired", "withdrawn"):
        await push.publish(agent_channel(str(p["agent_id"])),
                           {"type": "offer_withdrawn", "offer_id": p["offer_id"],
                            "reason": p["status"]})
    elif envelope.topic == "agent.presence_changed" and p["reason"] != "agent":
        # The agent's own change is answered on its socket; this tells it what others did.
        await push.publish(agent_channel(str(p["agent_id"])),
                           {"type": "presence", "status": p["presence"],
                            "reason": p["reason"]})
    elif envelope.topic in ("sla.warning", "sla.breached"):
        await push.publish(SUPERVISORS, {"type": envelope.topic.replace(".", "_"), **p})
    elif envelope.topic == "routing.case_routed":
        await push.publish(SUPERVISORS, {"type": "case_routed", **p})


async def _wrap_up(services: Services, envelope: Envelope) -> None:
    p = envelope.payload
    agent = agent_channel(str(p["agent_id"]))
    if envelope.topic == "routing.after_contact_work":
        await services.push.publish(agent, {
            "type": "after_contact_work", "case_id": p["case_id"],
            "started_at": p["started_at"], "due_at": p["due_at"], "reason": p["reason"]})
        return
    await services.chat.agent_left(str(p["case_id"]), str(p["agent_id"]))
    if p.get("automatic"):  # the agent's own wrap-up is answered on their socket
        await services.push.publish(agent, wrapped_up_frame(p))


async def _transferred_call(services: Services, envelope: Envelope) -> None:
    """A transferred call leaves the agent for the queue's music until the next offer."""
    changes = envelope.payload.get("changes")
    if envelope.topic != "case.updated" or not isinstance(changes, dict) \
            or "transferred_by" not in changes:
        return
    try:
        await services.bridge.transferred(str(envelope.payload["case_id"]))
    except TwilioUnavailable:
        log.exception("could not put the call of case %s back in the queue",
                      envelope.payload["case_id"])
