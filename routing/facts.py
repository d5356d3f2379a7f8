"""The facts a rule condition may test, built from the contact, its case and its customer.

Only allow-listed fields (``routing.fields``) are produced; the dict is stored with every
decision, so a simulation later replays exactly what the rules saw.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.domain.contact import Case, CaseType, Contact
from core.domain.customer import Customer
from routing.calendar import BusinessCalendar
from routing.classification import Classification

LOCAL = ZoneInfo("Europe/Amsterdam")
_WORD = re.compile(r"[\w']+")
# Rules test keywords, not whole mails: bounding the text keeps decisions fast and facts small.
MAX_TEXT = 5_000


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerContext:
    open_complaints: int
    open_cases: int
    is_new: bool
    account_owner: str | None = None


def plain(text: str) -> str:
    """Lower-case without accents, so ``ontevreden`` matches ``Ontevréden``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def build_facts(*, contact: Contact, case: Case, customer: Customer,
                classification: Classification, context: CustomerContext,
                calendar: BusinessCalendar, now: datetime) -> dict[str, object]:
    subject = (contact.subject or "")[:1000]
    body = (contact.body or contact.transcript or contact.summary or "")[:MAX_TEXT]
    text = plain(f"{subject}\n{body}")
    local = now.astimezone(LOCAL)
    meta = contact.metadata
    return {
        "channel": contact.channel.value,
        "direction": contact.direction.value,
        "case_type": case.type.value,
        "classification": classification.case_type.value,
        "classification_confidence": round(classification.confidence, 3),
        "language": classification.language,
        "negative_sentiment": classification.negative_sentiment,
        "subject": subject,
        "body": body,
        "text": text,
        "words": sorted(set(_WORD.findall(text)))[:2000],
        "mailbox": meta.get("mailbox"),
        "form": meta.get("form"),
        "ivr_choice": meta.get("ivr_choice"),
        "segment": customer.segment,
        "customer_value": customer.value,
        "customer_language": customer.language,
        "customer_is_new": context.is_new,
        "open_complaints": context.open_complaints,
        "open_cases": context.open_cases,
        "priority": int(case.priority),
        "tags": list(case.tags),
        "hour": local.hour,
        "weekday": local.isoweekday(),
        "business_hours": calendar.is_open(now),
        "account_owner": context.account_owner,
    }


def customer_context(customer: Customer, open_cases: list[Case], *, case_id: str,
                     created: bool) -> CustomerContext:
    others = [c for c in open_cases if c.id != case_id]
    return CustomerContext(
        open_complaints=sum(1 for c in others if c.type is CaseType.COMPLAINT),
        open_cases=len(others), is_new=created)
