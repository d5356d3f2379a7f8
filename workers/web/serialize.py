"""Domain objects as API JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.domain.contact import Case, Contact, Priority
from core.domain.customer import Customer, Identifier, PossibleDuplicate
from core.domain.notes import Note
from core.domain.routing import Activation, RoutingDecision, RuleSetVersion
from core.domain.surveys import SurveyResponse, SurveySummary
from core.domain.work import Offer
from core.domain.workforce import Agent
from core.services.queries import CustomerView

PRIORITY_NAMES = {Priority.LOW: "low", Priority.NORMAL: "normal", Priority.HIGH: "high",
                  Priority.URGENT: "urgent"}


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def identifier(i: Identifier) -> dict[str, Any]:
    return {"id": i.id, "kind": i.kind.value, "value": i.value, "normalized": i.normalized,
            "valid": i.valid, "verified": i.verified, "claimed": i.claimed,
            "source": i.source.value if i.source else None,
            "first_seen_at": _at(i.first_seen_at), "last_seen_at": _at(i.last_seen_at)}


def customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id, "display_name": c.display_name, "kind": c.kind.value,
        "status": c.status.value, "merged_into": c.merged_into, "segment": c.segment,
        "value": c.value, "language": c.language,
        "preferred_channel": c.preferred_channel.value if c.preferred_channel else None,
        "organisation": _slots(c.organisation), "household": _slots(c.household),
        "identifiers": [identifier(i) for i in c.identifiers],
        "entitlements": [{"id": e.id, "kind": e.kind, "name": e.name, "reference": e.reference,
                          "valid_from": e.valid_from.isoformat() if e.valid_from else None,
                          "valid_until": e.valid_until.isoformat() if e.valid_until else None}
                         for e in c.entitlements],
        "created_at": _at(c.created_at), "updated_at": _at(c.updated_at),
    }


def _slots(value: object | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {name: getattr(value, name) for name in type(value).__slots__}  # type: ignore[attr-defined]


def contact(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id, "channel": c.channel.value, "direction": c.direction.value,
        "external_id": c.ref.external_id, "customer_id": c.customer_id, "case_id": c.case_id,
        "occurred_at": _at(c.occurred_at), "received_at": _at(c.received_at),
        "from_name": c.from_name, "from_address": c.from_address, "subject": c.subject,
        "summary": c.summary, "body": c.body, "transcript": c.transcript,
        "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type,
                         "size_bytes": a.size_bytes} for a in c.attachments],
        "metadata": c.metadata,
    }


def case(c: Case) -> dict[str, Any]:
    return {
        "id": c.id, "reference": c.reference, "customer_id": c.customer_id,
        "type": c.type.value, "status": c.status.value,
        "priority": PRIORITY_NAMES[c.priority], "subject": c.subject,
        "owner": c.owner_agent_id, "queue": c.queue_id, "tags": c.tags,
        "created_at": _at(c.created_at), "updated_at": _at(c.updated_at),
        "first_response_due_at": _at(c.first_response_due_at),
        "resolution_due_at": _at(c.resolution_due_at),
        "resolved_at": _at(c.resolved_at), "closed_at": _at(c.closed_at),
        "first_responded_at": _at(c.first_responded_at), "language": c.language,
        "classification": c.classification,
    }


def duplicate(d: PossibleDuplicate) -> dict[str, Any]:
    return {"id": d.id, "customer_id": d.customer_id, "other_customer_id": d.other_customer_id,
            "reason": d.reason, "contact_id": d.contact_id, "created_at": _at(d.created_at),
            "dismissed": d.dismissed}


def customer_view(view: CustomerView) -> dict[str, Any]:
    return {
        **customer(view.customer),
        "open_cases": [case(c) for c in view.open_cases],
        "timeline": {"items": [contact(c) for c in view.timeline.contacts],
                     "next_cursor": view.timeline.next_cursor},
        "possible_duplicates": [duplicate(d) for d in view.possible_duplicates],
    }


def agent(a: Agent) -> dict[str, Any]:
    return {
        "id": a.id, "name": a.name, "username": a.username, "tier": int(a.tier),
        "teams": list(a.team_ids), "queues": list(a.queue_ids), "skills": dict(a.skills),
        "capacity": {c.value: n for c, n in a.capacity.items()},
        "presence": a.presence.value, "presence_since": _at(a.presence_since),
        "active": a.active, "phone": a.phone,
    }


def version(v: RuleSetVersion, *, active: int | None = None) -> dict[str, Any]:
    return {"version": v.number, "author": v.author, "comment": v.comment,
            "created_at": _at(v.created_at), "active": v.number == active,
            **v.document}


def activation(a: Activation) -> dict[str, Any]:
    return {"id": a.id, "version": a.version, "action": a.action.value, "by": a.by,
            "comment": a.comment, "at": _at(a.at)}


def offer(o: Offer) -> dict[str, Any]:
    return {"offer_id": o.id, "work_item_id": o.work_item_id, "agent_id": o.agent_id,
            "case_id": o.case_id, "channel": o.channel.value, "status": o.status.value,
            "created_at": _at(o.created_at), "expires_at": _at(o.expires_at),
            "answered_at": _at(o.answered_at)}


def decision(d: RoutingDecision) -> dict[str, Any]:
    return {"id": d.id, "case_id": d.case_id, "contact_id": d.contact_id,
            "work_item_id": d.work_item_id, "rule_set_version": d.rule_set_version,
            "decided_at": _at(d.decided_at), "classification": d.classification,
            "outcome": d.outcome, "facts": d.facts, "offers": d.offers}


def note(n: Note, *, deletable_until: datetime | None = None) -> dict[str, Any]:
    """``deletable_until``: until when the reader may delete it (their own, recent note)."""
    return {"id": n.id, "case_id": n.case_id, "text": n.text, "author": n.author,
            "author_id": n.author_id, "agent_id": n.agent_id,
            "created_at": _at(n.created_at), "deletable_until": _at(deletable_until)}


def survey_response(r: SurveyResponse) -> dict[str, Any]:
    return {"id": r.id, "invitation_id": r.invitation_id, "customer_id": r.customer_id,
            "case_id": r.case_id, "contact_id": r.contact_id, "channel": r.channel.value,
            "kind": r.kind.value, "score": r.score, "nps": r.nps, "comment": r.comment,
            "language": r.language, "answered_at": _at(r.answered_at)}


def survey_summary(s: SurveySummary) -> dict[str, Any]:
    return {"responses": s.responses, "csat_count": s.csat_count,
            "csat_average": s.csat_average, "csat_satisfied_pct": s.csat_satisfied_pct,
            "nps_count": s.nps_count, "nps": s.nps}
