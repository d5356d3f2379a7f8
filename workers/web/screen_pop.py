"""The screen-pop as JSON (docs/agent-protocol.md, "screen_pop").

``core.services.screen_pop`` assembles it; this module only builds the use case for a
process's services and turns the result into the wire format. The keys the first version
sent (``customer``, ``open_cases``, ``timeline``, ``possible_duplicates``) keep their
shape; everything else is added beside them.
"""

from __future__ import annotations

from typing import Any

from core.domain.contact import Contact
from core.domain.work import Offer
from core.services.screen_pop import (
    ClockView,
    IdentifierCheck,
    OpenCase,
    PopWarning,
    ScreenPop,
    ScreenPops,
)
from routing.scripts import ScriptSuggester
from workers.services import Services
from workers.web import serialize

_SUGGESTER = ScriptSuggester()
# History in the pop is for recognising, not reading: long texts are cut so a customer
# with a few long mails still pops in one small frame (the case view has them in full).
HISTORY_TEXT = 2_000


def pops(services: Services) -> ScreenPops:
    return ScreenPops(services.read_uow, clock=services.clock, suggester=_SUGGESTER)


async def screen_pop(services: Services, customer_id: str, *,
                     agent_id: str | None = None) -> dict[str, Any]:
    """The pop for a customer without an offer (a CTI ringing event)."""
    return pop_json(await pops(services).for_customer(customer_id, agent_id=agent_id))


async def offer_pop(services: Services, offer: Offer) -> ScreenPop:
    return await pops(services).for_offer(offer)


def pop_json(pop: ScreenPop) -> dict[str, Any]:
    c = pop.customer
    return {
        "customer": serialize.customer(c),
        "segment": c.segment,
        "value": c.value,
        "identifiers": [_identifier(i) for i in pop.identifiers],
        "warnings": [_warning(w) for w in pop.warnings],
        "preferences": _preferences(pop),
        "satisfaction": serialize.survey_response(pop.satisfaction)
        if pop.satisfaction else None,
        "open_cases": [_open_case(o) for o in pop.open_cases],
        "last_contacts": [_history(x) for x in pop.last_contacts],
        "timeline": [_history(x) for x in pop.timeline],
        "possible_duplicates": [serialize.duplicate(d) for d in pop.possible_duplicates],
        "notes": [serialize.note(n) for n in pop.notes],
        "classification": pop.classification,
        "script": None if pop.script is None else {
            "id": pop.script.id, "title": pop.script.title, "text": pop.script.text,
            "language": pop.script.language, "queue": pop.script.queue,
            "case_type": pop.script.case_type, "revision": pop.script.revision},
        "knowledge": [{"id": k.id, "title": k.title, "text": k.text, "url": k.url,
                       "matched": list(k.matched)} for k in pop.knowledge],
        "assembled_at": pop.assembled_at.isoformat(),
    }


def _preferences(pop: ScreenPop) -> dict[str, Any]:
    p = pop.preferences
    opted_out = p.consent.surveys_opted_out_at
    return {"channel": p.channel.value if p.channel else None, "language": p.language,
            "consent": {"surveys": p.consent.surveys,
                        "surveys_opted_out_at": opted_out.isoformat() if opted_out else None,
                        "surveys_opted_out_via": p.consent.surveys_opted_out_via}}


def _history(contact: Contact) -> dict[str, Any]:
    found = serialize.contact(contact)
    cut = False
    for key in ("body", "transcript", "summary"):
        text = found.get(key)
        if isinstance(text, str) and len(text) > HISTORY_TEXT:
            found[key] = text[:HISTORY_TEXT]
            cut = True
    found["truncated"] = cut
    return found


def _identifier(check: IdentifierCheck) -> dict[str, Any]:
    return {**serialize.identifier(check.identifier), "uncertain": check.uncertain,
            "uncertainty": [u.value for u in check.uncertainty]}


def _warning(w: PopWarning) -> dict[str, Any]:
    found: dict[str, Any] = {"code": w.code.value, "message": w.message}
    for key, value in (("identifier_id", w.identifier_id), ("customer_id", w.customer_id),
                       ("case_id", w.case_id)):
        if value is not None:
            found[key] = value
    return found


def _open_case(o: OpenCase) -> dict[str, Any]:
    return {**serialize.case(o.case), "highlight": o.highlight, "current": o.current,
            "sla": [_clock(k) for k in o.clocks]}


def _clock(view: ClockView) -> dict[str, Any]:
    k = view.clock
    return {"kind": k.kind.value, "state": view.state.value, "breached": view.breached,
            "due_at": k.due_at.isoformat() if k.due_at else None,
            "warn_at": k.warn_at.isoformat() if k.warn_at else None,
            "paused_at": k.paused_at.isoformat() if k.paused_at and k.paused else None,
            "stopped_at": k.stopped_at.isoformat() if k.stopped_at else None,
            "remaining_s": view.remaining_s, "target_s": k.target_s,
            "policy_id": k.policy_id}
