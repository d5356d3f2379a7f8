"""The screen-pop: everything an agent needs before saying hello, assembled in one read.

A query use case. One read-only transaction reads the case and the contact being offered
(if any), the customer with identifiers and entitlements, open cases with their SLA
clocks, the newest contacts overall and the newest on each channel, possible duplicates,
the agent, and the desk's script and knowledge documents; then, without the database:

* each identifier is checked for what makes it uncertain (typed into a form and never
  verified, invalid, look-alike characters, shared with a possible duplicate);
* ``warnings`` lists what the agent must not miss: uncertain identity, a possible
  duplicate, another open complaint, an SLA clock breached;
* preferences carry the consent the record holds (surveys, until an opt-out), and
  ``satisfaction`` the customer's latest survey answer (CSAT/NPS and comment);
* SLA clocks get their state at ``now`` (running, warning, paused, breached, stopped);
* the newest internal notes on the offered case come along (what a colleague wrote about
  it before this contact, e.g. "called twice, promised a callback");
* a suggester (``routing.scripts``, injected: the core does not know routing) picks the
  script for this queue, case type and language, and the knowledge snippets matching the
  classification, rendering their ``{customer.first_name}``-style placeholders from
  :func:`placeholder_values` — plain values, never attribute access.

The web layer turns the :class:`ScreenPop` into JSON (docs/agent-protocol.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.contact import Case, CaseType, Contact
from core.domain.customer import Customer, CustomerKind, Identifier, PossibleDuplicate
from core.domain.errors import NotFound
from core.domain.notes import Note
from core.domain.routing import ConfigDocument
from core.domain.sla import SlaClock
from core.domain.surveys import SurveyResponse, SurveySubject
from core.domain.work import Offer
from core.domain.workforce import Agent
from core.ports import UnitOfWork, UnitOfWorkFactory

# The configuration documents supervisors edit (``GET/PUT /api/scripts``, ``/api/knowledge``).
SCRIPTS_KEY = "desk.scripts"
KNOWLEDGE_KEY = "desk.knowledge"

TIMELINE_LIMIT = 10
NOTES_LIMIT = 3
KNOWLEDGE_LIMIT = 3

# What a script or snippet may say about the contact, as ``{name}``: rendered from plain
# strings (see ``placeholder_values``), so a template can never reach anything else.
PLACEHOLDERS: Mapping[str, str] = {
    "customer.name": "the customer's display name",
    "customer.first_name": "the first word of a person's name (empty for organisations)",
    "customer.segment": "the customer's segment (tier), e.g. gold",
    "case.reference": "the case reference, SW-1234",
    "case.subject": "the case's subject",
    "agent.name": "the agent's name",
    "agent.first_name": "the first word of the agent's name",
}


class Uncertainty(StrEnum):
    """Why an identifier does not prove who this is."""

    CLAIMED = "claimed"  # typed by someone we could not authenticate (a pre-chat form)
    INVALID = "invalid"  # not a valid address or number: kept for the eye, never matched
    LOOK_ALIKE = "look_alike"  # contains confusable or invisible characters
    POSSIBLE_DUPLICATE = "possible_duplicate"  # named in an open possible-duplicate flag


class WarningCode(StrEnum):
    UNCERTAIN_IDENTITY = "uncertain_identity"
    POSSIBLE_DUPLICATE = "possible_duplicate"
    OPEN_COMPLAINT = "open_complaint"
    SLA_BREACHED = "sla_breached"


class ClockState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"  # past its warning point, not yet due
    BREACHED = "breached"  # past due and still counting (or paused after the breach)
    PAUSED = "paused"  # waiting on the customer
    STOPPED = "stopped"  # met (or ended); ``breached`` says whether it was late


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifierCheck:
    identifier: Identifier
    uncertainty: tuple[Uncertainty, ...]

    @property
    def uncertain(self) -> bool:
        return bool(self.uncertainty)


@dataclass(frozen=True, slots=True, kw_only=True)
class PopWarning:
    code: WarningCode
    message: str
    identifier_id: str | None = None
    customer_id: str | None = None  # the other customer of a possible duplicate
    case_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockView:
    clock: SlaClock
    state: ClockState
    breached: bool
    remaining_s: float | None  # business seconds left while paused; None otherwise


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCase:
    case: Case
    clocks: tuple[ClockView, ...]
    highlight: bool  # a complaint
    current: bool  # the case of the contact being offered


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    """What the customer agreed to be asked. The record has one consent today: satisfaction
    surveys, until the customer opts out (docs/surveys.md)."""

    surveys: bool
    surveys_opted_out_at: datetime | None = None
    surveys_opted_out_via: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Preferences:
    channel: Channel | None
    language: str | None
    consent: Consent


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestedScript:
    id: str
    title: str
    text: str  # placeholders rendered; plain text
    language: str | None
    queue: str | None  # the criteria the script was written for (None: any)
    case_type: str | None
    revision: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeSnippet:
    id: str
    title: str
    text: str  # placeholders rendered; plain text
    url: str | None
    matched: tuple[str, ...]  # why it was suggested: "keyword:levering", "type:complaint"


@dataclass(frozen=True, slots=True, kw_only=True)
class PopContext:
    """What the suggester matches scripts and snippets against."""

    queue_id: str | None
    case_type: CaseType | None
    language: str | None
    keywords: tuple[str, ...]  # the classifier's keywords that fired
    tags: tuple[str, ...]
    text: str  # the contact's subject and body
    values: Mapping[str, str]  # placeholder values


class Suggester(Protocol):
    def suggest(self, scripts: ConfigDocument | None, knowledge: ConfigDocument | None,
                context: PopContext) -> tuple[SuggestedScript | None,
                                              list[KnowledgeSnippet]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenPop:
    customer: Customer
    identifiers: tuple[IdentifierCheck, ...]
    warnings: tuple[PopWarning, ...]
    preferences: Preferences
    satisfaction: SurveyResponse | None  # the customer's latest survey answer
    open_cases: tuple[OpenCase, ...]
    last_contacts: tuple[Contact, ...]  # the newest on each channel, newest first
    timeline: tuple[Contact, ...]  # the newest overall, newest first
    possible_duplicates: tuple[PossibleDuplicate, ...]
    case: Case | None  # the case being offered (None for a pop without an offer)
    notes: tuple[Note, ...]  # the offered case's newest internal notes, newest first
    contact: Contact | None  # the contact that was routed
    classification: dict[str, object] | None
    script: SuggestedScript | None
    knowledge: tuple[KnowledgeSnippet, ...]
    assembled_at: datetime


class ScreenPops:
    def __init__(self, read_uow: UnitOfWorkFactory, *, clock: Clock, suggester: Suggester,
                 timeline_limit: int = TIMELINE_LIMIT,
                 knowledge_limit: int = KNOWLEDGE_LIMIT) -> None:
        self._uow = read_uow
        self._clock = clock
        self._suggester = suggester
        self._timeline_limit = timeline_limit
        self._knowledge_limit = knowledge_limit

    async def for_offer(self, offer: Offer) -> ScreenPop:
        """The pop for an offer: its case, the contact that was routed, the offered agent."""
        async with self._uow() as uow:
            case = await uow.cases.get(offer.case_id)
            if case is None:
                raise NotFound("case", offer.case_id)
            item = await uow.work.get_item(offer.work_item_id)
            contact = await uow.contacts.get(item.contact_id) if item is not None else None
            if contact is None:
                newest = await uow.contacts.for_case(case.id, limit=1)
                contact = newest[0] if newest else None
            return await self._assemble(uow, case.customer_id, case=case, contact=contact,
                                        agent_id=offer.agent_id)

    async def for_customer(self, customer_id: str, *, agent_id: str | None = None
                           ) -> ScreenPop:
        """The pop without an offer (a telephone system says a known caller is ringing)."""
        async with self._uow() as uow:
            return await self._assemble(uow, customer_id, case=None, contact=None,
                                        agent_id=agent_id)

    async def _assemble(self, uow: UnitOfWork, customer_id: str, *, case: Case | None,
                        contact: Contact | None, agent_id: str | None) -> ScreenPop:
        customer = await uow.customers.get(customer_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        open_cases = await uow.cases.open_for_customer(customer_id)
        timeline = await uow.contacts.timeline(customer_id, limit=self._timeline_limit,
                                               cursor=None)
        last = await uow.contacts.latest_per_channel(customer_id)
        duplicates = await uow.identity.duplicates_of(customer_id)
        clocks = await uow.sla.clocks_for_cases([c.id for c in open_cases])
        documents = await uow.routing.get_documents([SCRIPTS_KEY, KNOWLEDGE_KEY])
        agent = await uow.workforce.get_agent(agent_id) if agent_id else None
        surveys = await uow.surveys.subject(customer_id)
        answered = await uow.surveys.responses_for_customer(customer_id, limit=1)
        notes = await uow.notes.latest_for_case(case.id, limit=NOTES_LIMIT) if case else []
        now = self._clock.now()

        checks = tuple(check_identifier(i, duplicates) for i in customer.identifiers)
        views = tuple(open_case(c, [k for k in clocks if k.case_id == c.id], now=now,
                                current=case is not None and c.id == case.id)
                      for c in open_cases)
        script, knowledge = self._suggester.suggest(
            documents.get(SCRIPTS_KEY), documents.get(KNOWLEDGE_KEY),
            context(customer, case, contact, agent))
        return ScreenPop(
            customer=customer, identifiers=checks,
            warnings=tuple(warnings(checks, duplicates, views)),
            preferences=Preferences(channel=customer.preferred_channel,
                                    language=customer.language, consent=consent(surveys)),
            satisfaction=answered[0] if answered else None,
            open_cases=views, last_contacts=tuple(last), timeline=tuple(timeline.contacts),
            possible_duplicates=tuple(duplicates), case=case, notes=tuple(notes),
            contact=contact,
            classification=case.classification if case is not None else None,
            script=script, knowledge=tuple(knowledge[:self._knowledge_limit]),
            assembled_at=now)


# --- pure parts --------------------------------------------------------------------------


def check_identifier(identifier: Identifier,
                     duplicates: Sequence[PossibleDuplicate]) -> IdentifierCheck:
    found: list[Uncertainty] = []
    if identifier.claimed:
        found.append(Uncertainty.CLAIMED)
    if not identifier.valid:
        found.append(Uncertainty.INVALID)
    if identifier.skeleton is not None:
        found.append(Uncertainty.LOOK_ALIKE)
    if any(not d.dismissed and _names(d.reason, identifier) for d in duplicates):
        found.append(Uncertainty.POSSIBLE_DUPLICATE)
    return IdentifierCheck(identifier=identifier, uncertainty=tuple(found))


def _names(reason: str, identifier: Identifier) -> bool:
    """Whether a possible-duplicate reason (written by ``core.identity.resolver``: "email
    jan@example.nl", "look-alike of email …") is about this identifier."""
    kind = identifier.kind.value
    for spelling in {identifier.normalized, identifier.value} - {None}:
        if re.search(rf"(?:^|\s){re.escape(kind)} {re.escape(str(spelling))}(?=$|[\s,;)])",
                     reason):
            return True
    return False


def clock_view(clock: SlaClock, *, now: datetime) -> ClockView:
    overdue = clock.running and clock.due_at is not None and clock.due_at <= now
    breached = clock.breached or overdue
    if clock.stopped:
        state = ClockState.STOPPED
    elif breached:
        state = ClockState.BREACHED
    elif clock.paused:
        state = ClockState.PAUSED
    elif clock.warned or (clock.warn_at is not None and clock.warn_at <= now):
        state = ClockState.WARNING
    else:
        state = ClockState.RUNNING
    remaining = max(0.0, clock.target_s - clock.consumed_s) if clock.paused else None
    return ClockView(clock=clock, state=state, breached=breached, remaining_s=remaining)


def open_case(case: Case, clocks: Sequence[SlaClock], *, now: datetime,
              current: bool) -> OpenCase:
    return OpenCase(case=case, clocks=tuple(clock_view(c, now=now) for c in clocks),
                    highlight=case.type is CaseType.COMPLAINT, current=current)


_UNCERTAINTY_TEXT = {
    Uncertainty.CLAIMED: "was typed into a form and is not verified",
    Uncertainty.INVALID: "is not valid",
    Uncertainty.LOOK_ALIKE: "contains look-alike or invisible characters",
    Uncertainty.POSSIBLE_DUPLICATE: "is also linked to a possible duplicate",
}


def warnings(checks: Sequence[IdentifierCheck], duplicates: Sequence[PossibleDuplicate],
             cases: Sequence[OpenCase]) -> list[PopWarning]:
    found: list[PopWarning] = []
    for check in checks:
        # A shared identifier is told by the possible-duplicate warning below.
        reasons = [u for u in check.uncertainty if u is not Uncertainty.POSSIBLE_DUPLICATE]
        if reasons:
            i = check.identifier
            found.append(PopWarning(
                code=WarningCode.UNCERTAIN_IDENTITY, identifier_id=i.id,
                message=f"{i.kind.value} {i.value} "
                        + " and ".join(_UNCERTAINTY_TEXT[u] for u in reasons)))
    for d in duplicates:
        if not d.dismissed:
            found.append(PopWarning(
                code=WarningCode.POSSIBLE_DUPLICATE, customer_id=d.other_customer_id,
                message=f"may be the same customer as {d.other_customer_id}: {d.reason}"))
    for view in cases:
        c = view.case
        if view.highlight and not view.current:
            found.append(PopWarning(
                code=WarningCode.OPEN_COMPLAINT, case_id=c.id,
                message=f"open complaint {c.reference}"
                        + (f": {c.subject}" if c.subject else "")))
        for clock in view.clocks:
            if clock.breached and clock.state is not ClockState.STOPPED:
                found.append(PopWarning(
                    code=WarningCode.SLA_BREACHED, case_id=c.id,
                    message=f"{c.reference}: {clock.clock.kind.value.replace('_', ' ')} "
                            "target breached"))
    return found


def consent(surveys: SurveySubject | None) -> Consent:
    if surveys is None or not surveys.opted_out:
        return Consent(surveys=True)
    return Consent(surveys=False, surveys_opted_out_at=surveys.opted_out_at,
                   surveys_opted_out_via=surveys.opted_out_via)


def first_word(name: str | None) -> str:
    return name.split()[0] if name and name.split() else ""


def placeholder_values(customer: Customer, case: Case | None,
                       agent: Agent | None) -> dict[str, str]:
    person = customer.kind is CustomerKind.PERSON
    return {
        "customer.name": customer.display_name or "",
        "customer.first_name": first_word(customer.display_name) if person else "",
        "customer.segment": customer.segment or "",
        "case.reference": case.reference if case else "",
        "case.subject": (case.subject or "") if case else "",
        "agent.name": agent.name if agent else "",
        "agent.first_name": first_word(agent.name) if agent else "",
    }


def context(customer: Customer, case: Case | None, contact: Contact | None,
            agent: Agent | None) -> PopContext:
    classification = case.classification if case and case.classification else {}
    matched = classification.get("matched")
    language = classification.get("language")
    text = "" if contact is None else "\n".join(
        part for part in (contact.subject, contact.body or contact.transcript
                          or contact.summary) if part)
    return PopContext(
        queue_id=case.queue_id if case else None,
        case_type=case.type if case else None,
        language=language if isinstance(language, str) else
        (case.language if case and case.language else customer.language),
        keywords=tuple(str(k) for k in matched) if isinstance(matched, list) else (),
        tags=tuple(case.tags) if case else (),
        text=text[:5_000],
        values=placeholder_values(customer, case, agent))
