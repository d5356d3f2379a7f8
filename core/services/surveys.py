"""Satisfaction surveys: whom to ask when a case is resolved, and answers from every channel.

When a case is resolved (``case.updated`` with status ``resolved``, handled once per event
by the ``surveys`` consumer) :meth:`Surveys.case_resolved` decides, in the consumer's
transaction:

1. nothing if surveys are off, the case was reopened meanwhile, or it had a survey already;
2. nothing if the customer opted out, or was asked less than ``min_days_between`` days ago
   on any channel (the frequency cap; claimed atomically, so two resolutions at once ask
   once);
3. a chat case whose conversation is still open, or ended within ``chat_window``: a prompt
   in the visitor's widget (pushed by the worker after the commit);
4. otherwise an e-mail with a personal link, to the customer's own address (the one they
   wrote from on this case, else the newest on their record; a typed claim never counts),
   queued through the outbound-mail outbox in the same transaction — nothing when no
   human wrote on the case (only auto-responders) or there is no address.

The phone channel asks after a call itself: :meth:`phone_survey_due`, :meth:`start` and
:meth:`record_answer` (docs/surveys.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.domain.audit import SELF_SERVICE, Actor, AuditAction
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.contact import Case, CaseStatus, Contact
from core.domain.customer import Customer, CustomerStatus, Identifier, IdentifierKind
from core.domain.errors import InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.privacy import OutboundPurpose
from core.domain.surveys import (
    SURVEY_CHANNELS,
    AlreadyAnswered,
    Invitation,
    Skip,
    SurveyAnswered,
    SurveyExpired,
    SurveyInvited,
    SurveyKind,
    SurveyResponse,
    SurveySubject,
    SurveySummary,
    cap_allows,
    cap_threshold,
    check_answer,
    language_of,
    new_token,
    next_allowed_at,
    plausible_token,
    summarise,
    token_hash,
)
from core.identity.normalise import normalise_email
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit
from core.services.consent import refusal as consent_refusal

log = logging.getLogger(__name__)

RESOLVED_STATUSES = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})
CASE_CONTACTS = 200


class InvitationMailer(Protocol):
    """Queues the e-mail with the survey link in the caller's transaction (the e-mail
    channel implements it)."""

    @property
    def ready(self) -> bool:
        """Mail can be sent and the public URL for the link is known."""
        ...

    async def queue(self, uow: UnitOfWork, *, invitation: Invitation, token: str,
                    to_address: str, to_name: str | None, case: Case) -> str:
        """Queue the invitation; returns the mail's Message-ID."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyPolicy:
    enabled: bool = True
    kind: SurveyKind = SurveyKind.CSAT
    min_days_between: int = 30
    valid_for: timedelta = timedelta(days=14)
    # A chat that ended this recently may still have its widget open to show the survey
    # (the widget stays connected as long after the end: channels/chat/static/widget.js).
    chat_window: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    invitation: Invitation | None = None
    skipped: Skip | None = None

    @property
    def chat_conversation_id(self) -> str | None:
        found = self.invitation
        return found.reference if found and found.channel is Channel.CHAT else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered:
    response: SurveyResponse
    duplicate: bool  # the same answer again: nothing changed


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenView:
    invitation: Invitation
    response: SurveyResponse | None
    expired: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerSurveys:
    customer_id: str
    summary: SurveySummary
    responses: list[SurveyResponse]
    opted_out: bool
    opted_out_via: str | None
    last_invited_at: datetime | None
    next_allowed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    channel: Channel
    contact_id: str | None
    language: str
    reference: str | None = None
    address: str | None = None
    name: str | None = None


class Surveys:
    def __init__(self, *, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory, clock: Clock,
                 policy: SurveyPolicy, mailer: InvitationMailer | None) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock
        self._policy = policy
        self._mailer = mailer

    @property
    def policy(self) -> SurveyPolicy:
        return self._policy

    # --- after a case is resolved --------------------------------------------------

    async def case_resolved(self, uow: UnitOfWork, case_id: str) -> Decision:
        """Decide and, if so, invite — inside the caller's unit of work (the consumer's,
        with its inbox mark), which the caller commits."""
        if not self._policy.enabled:
            return Decision(skipped=Skip.DISABLED)
        case = await uow.cases.get(case_id)
        if case is None or case.resolved_at is None or case.status not in RESOLVED_STATUSES:
            return Decision(skipped=Skip.NOT_RESOLVED)
        if await uow.surveys.invitation_for_case(case.id) is not None:
            return Decision(skipped=Skip.ALREADY_SURVEYED)
        customer = await uow.customers.get(case.customer_id)
        if customer is None or customer.status is not CustomerStatus.ACTIVE:
            return Decision(skipped=Skip.NO_CUSTOMER)
        now = self._clock.now()
        held_back = self._held_back(await uow.surveys.subject(customer.id), now)
        if held_back is not None:
            return Decision(skipped=held_back)
        target = await self._target(uow, case, customer, now)
        if isinstance(target, Skip):
            return Decision(skipped=target)
        if not await uow.surveys.claim(customer.id, now=now, not_after=cap_threshold(
                now, self._policy.min_days_between)):
            return Decision(skipped=Skip.TOO_SOON)  # another channel asked a moment ago
        token = new_token()
        invitation = self._invitation(customer_id=customer.id, case_id=case.id,
                                      target=target, token=token, now=now)
        if target.channel is Channel.EMAIL:
            assert self._mailer is not None and target.address is not None
            invitation.reference = await self._mailer.queue(
                uow, invitation=invitation, token=token, to_address=target.address,
                to_name=target.name or customer.display_name, case=case)
        await uow.surveys.add_invitation(invitation)
        uow.outbox.add([_invited(invitation)])
        return Decision(invitation=invitation)

    def _held_back(self, subject: SurveySubject | None, now: datetime) -> Skip | None:
        if subject is None:
            return None
        if subject.opted_out:
            return Skip.OPTED_OUT
        if not cap_allows(subject.last_invited_at, now, self._policy.min_days_between):
            return Skip.TOO_SOON
        return None

    async def _target(self, uow: UnitOfWork, case: Case, customer: Customer,
                      now: datetime) -> _Target | Skip:
        conversation = await uow.chat.conversation_for_case(case.id)
        if conversation is not None and (conversation.is_open or (
                conversation.ended_at is not None
                and now - conversation.ended_at <= self._policy.chat_window)):
            return _Target(channel=Channel.CHAT, contact_id=conversation.contact_id,
                           reference=conversation.id, language=language_of(
                               conversation.language, customer.language))
        contacts = await uow.contacts.for_case(case.id, limit=CASE_CONTACTS)  # newest first
        inbound = [c for c in contacts if c.direction is Direction.INBOUND]
        human = [c for c in inbound if not _automatic(c)]
        if inbound and not human:
            return Skip.AUTOMATIC
        rated = human[0] if human else (contacts[0] if contacts else None)
        address = _address(customer, human)
        if address is None:
            return Skip.NO_ADDRESS
        if self._mailer is None or not self._mailer.ready:
            return Skip.CANNOT_SEND
        if await consent_refusal(uow, customer.id, OutboundPurpose.AUTOMATIC_MAIL):
            return Skip.NO_CONSENT
        return _Target(channel=Channel.EMAIL, contact_id=rated.id if rated else None,
                       address=address.value, name=rated.from_name if rated else None,
                       language=language_of(customer.language, case.language,
                                            rated.metadata.get("language") if rated else None))

    def _invitation(self, *, customer_id: str, case_id: str | None, target: _Target,
                    token: str, now: datetime, kind: SurveyKind | None = None) -> Invitation:
        return Invitation(
            id=new_id("svy"), token_hash=token_hash(token), customer_id=customer_id,
            case_id=case_id, contact_id=target.contact_id, channel=target.channel,
            kind=kind or self._policy.kind, language=target.language,
            reference=target.reference, created_at=now, expires_at=now + self._policy.valid_for)

    # --- the phone (and any channel that asks by itself) ---------------------------

    async def phone_survey_due(self, customer_id: str) -> bool:
        """Whether to ask this caller the survey question now: surveys are on, the customer
        exists, has not opted out and was not asked within the frequency cap. Read-only;
        :meth:`start` claims the survey."""
        if not self._policy.enabled:
            return False
        async with self._read_uow() as uow:
            customer = await uow.customers.get(customer_id)
            if customer is None or customer.status is not CustomerStatus.ACTIVE:
                return False
            subject = await uow.surveys.subject(customer_id)
        return self._held_back(subject, self._clock.now()) is None

    async def start(self, *, customer_id: str, channel: Channel, case_id: str | None = None,
                    contact_id: str | None = None, reference: str | None = None,
                    language: str | None = None, kind: SurveyKind | None = None,
                    ) -> Invitation | None:
        """Claim a survey for the customer on ``channel`` (e.g. the phone, ``reference``
        the call's sid) and return the invitation to answer with :meth:`record_answer`;
        None when the customer is not to be asked (opted out, within the cap, surveys
        off)."""
        if channel not in SURVEY_CHANNELS:
            raise InvalidInput({"channel": "surveys run by e-mail, chat or phone"})
        if not self._policy.enabled:
            return None
        now = self._clock.now()
        async with self._uow() as uow:
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            if customer.status is not CustomerStatus.ACTIVE or not await uow.surveys.claim(
                    customer_id, now=now,
                    not_after=cap_threshold(now, self._policy.min_days_between)):
                return None
            invitation = self._invitation(
                customer_id=customer_id, case_id=case_id, token=new_token(), now=now,
                kind=kind, target=_Target(channel=channel, contact_id=contact_id,
                                          reference=reference,
                                          language=language_of(language, customer.language)))
            await uow.surveys.add_invitation(invitation)
            uow.outbox.add([_invited(invitation)])
            await uow.commit()
        return invitation

    async def invitation_for_call(self, call_sid: str) -> Invitation | None:
        """The open phone survey started for this call, if any."""
        async with self._read_uow() as uow:
            return await uow.surveys.open_invitation(Channel.PHONE.value, call_sid,
                                                     now=self._clock.now())

    # --- answers -------------------------------------------------------------------

    async def record_answer(self, invitation_id: str, *, channel: Channel,
                            score: int | None = None, nps: int | None = None,
                            comment: str | None = None, language: str | None = None,
                            reference: str | None = None) -> Answered:
        """Record the answer to an invitation made on ``channel``; with ``reference`` (a
        chat conversation id) only if the invitation belongs to it. The same answer again
        is a no-op (``duplicate``); a different one raises AlreadyAnswered; too late raises
        SurveyExpired; an unknown or foreign invitation NotFound."""
        async with self._uow() as uow:
            invitation = await uow.surveys.get_invitation(invitation_id)
            if invitation is None or invitation.channel is not channel or (
                    reference is not None and invitation.reference != reference):
                raise NotFound("survey", invitation_id)
            return await self._answer(uow, invitation, score=score, nps=nps, comment=comment,
                                      language=language)

    async def answer_by_token(self, token: str, *, score: int | None, nps: int | None,
                              comment: str | None, language: str | None) -> Answered:
        async with self._uow() as uow:
            invitation = await self._by_token(uow, token)
            if invitation is None:
                raise NotFound("survey", "(link)")
            return await self._answer(uow, invitation, score=score, nps=nps, comment=comment,
                                      language=language)

    async def _answer(self, uow: UnitOfWork, invitation: Invitation, *, score: int | None,
                      nps: int | None, comment: str | None,
                      language: str | None) -> Answered:
        answer = check_answer(invitation.kind, score=score, nps=nps, comment=comment)
        now = self._clock.now()
        existing = await uow.surveys.response_for(invitation.id)
        if existing is None and invitation.expired(now):
            raise SurveyExpired()
        if existing is None and not await uow.surveys.mark_answered(invitation.id, now):
            # A concurrent answer won; its row is committed and visible now.
            existing = await uow.surveys.response_for(invitation.id)
        if existing is not None:
            if existing.same_answer(answer):
                return Answered(response=existing, duplicate=True)
            raise AlreadyAnswered(existing)
        response = SurveyResponse(
            id=new_id("svr"), invitation_id=invitation.id, customer_id=invitation.customer_id,
            case_id=invitation.case_id, contact_id=invitation.contact_id,
            channel=invitation.channel, kind=invitation.kind, score=answer.score,
            nps=answer.nps, comment=answer.comment,
            language=language_of(language, invitation.language), answered_at=now)
        await uow.surveys.add_response(response)
        uow.outbox.add([SurveyAnswered(
            invitation_id=invitation.id, response_id=response.id,
            customer_id=response.customer_id, case_id=response.case_id,
            contact_id=response.contact_id, channel=response.channel.value,
            score=response.score, nps=response.nps)])
        await uow.commit()
        return Answered(response=response, duplicate=False)

    # --- the link's page -----------------------------------------------------------

    async def view_by_token(self, token: str) -> TokenView | None:
        async with self._read_uow() as uow:
            invitation = await self._by_token(uow, token)
            if invitation is None:
                return None
            response = await uow.surveys.response_for(invitation.id)
        return TokenView(invitation=invitation, response=response,
                         expired=invitation.expired(self._clock.now()))

    async def opt_out_by_token(self, token: str) -> Invitation:
        """"Send me no more surveys", from the link's page."""
        async with self._uow() as uow:
            invitation = await self._by_token(uow, token)
            if invitation is None:
                raise NotFound("survey", "(link)")
            await self._set_opt_out(uow, invitation.customer_id, opted_out=True,
                                     via="survey link", actor=SELF_SERVICE,
                                     contact_id=invitation.contact_id)
            await uow.commit()
        return invitation

    async def _by_token(self, uow: UnitOfWork, token: str) -> Invitation | None:
        if not plausible_token(token):
            return None
        return await uow.surveys.invitation_by_token(token_hash(token))

    async def open_in_chat(self, conversation_id: str) -> Invitation | None:
        """The chat survey waiting for this conversation's visitor, if any."""
        async with self._read_uow() as uow:
            return await uow.surveys.open_invitation(Channel.CHAT.value, conversation_id,
                                                     now=self._clock.now())

    # --- results and preferences ---------------------------------------------------

    async def set_opt_out(self, customer_id: str, *, opted_out: bool, via: str,
                          actor: Actor = SELF_SERVICE) -> None:
        async with self._uow() as uow:
            if await uow.customers.get(customer_id) is None:
                raise NotFound("customer", customer_id)
            await self._set_opt_out(uow, customer_id, opted_out=opted_out, via=via,
                                    actor=actor)
            await uow.commit()

    async def _set_opt_out(self, uow: UnitOfWork, customer_id: str, *, opted_out: bool,
                           via: str, actor: Actor, contact_id: str | None = None) -> None:
        """A change of the customer's record like any other: audited (core.services.audit)."""
        now = self._clock.now()
        await uow.surveys.set_opt_out(customer_id, at=now if opted_out else None,
                                      via=via if opted_out else None)
        await audit.record(uow, at=now, actor=actor, action=AuditAction.CUSTOMER_EDITED,
                           subject_kind="customer", subject_id=customer_id,
                           customer_id=customer_id, contact_id=contact_id,
                           details={"fields": ["survey_opt_out"], "via": via,
                                    "opted_out": opted_out})

    async def for_customer(self, customer_id: str, *, limit: int) -> CustomerSurveys:
        async with self._read_uow() as uow:
            if await uow.customers.get(customer_id) is None:
                raise NotFound("customer", customer_id)
            found = await uow.surveys.responses_for_customer(customer_id, limit=limit)
            subject = await uow.surveys.subject(customer_id)
        last = subject.last_invited_at if subject else None
        return CustomerSurveys(
            customer_id=customer_id, summary=summarise(found), responses=found,
            opted_out=bool(subject and subject.opted_out),
            opted_out_via=subject.opted_out_via if subject else None, last_invited_at=last,
            next_allowed_at=next_allowed_at(last, self._policy.min_days_between))

    async def for_contacts(self, contact_ids: Sequence[str]) -> dict[str, SurveyResponse]:
        """The answer rating each of these contacts, if any."""
        async with self._read_uow() as uow:
            found = await uow.surveys.responses_for_contacts(contact_ids)
        return {r.contact_id: r for r in sorted(found, key=lambda r: r.answered_at)
                if r.contact_id}

    async def between(self, *, since: datetime | None, until: datetime | None, limit: int,
                      cursor: str | None) -> tuple[list[SurveyResponse], str | None]:
        if since is not None and until is not None and until <= since:
            raise InvalidInput({"to": "must be after from"})
        async with self._read_uow() as uow:
            return await uow.surveys.responses_between(since=since, until=until, limit=limit,
                                                       cursor=cursor)

    async def summary(self, *, since: datetime | None,
                      until: datetime | None) -> SurveySummary:
        async with self._read_uow() as uow:
            return await uow.surveys.summary_between(since=since, until=until)

def _invited(invitation: Invitation) -> SurveyInvited:
    return SurveyInvited(invitation_id=invitation.id, customer_id=invitation.customer_id,
                         case_id=invitation.case_id, contact_id=invitation.contact_id,
                         channel=invitation.channel.value, kind=invitation.kind.value)


def _automatic(contact: Contact) -> bool:
    """Mail an auto-responder sent (out of office, bounce, list): nobody to ask."""
    return bool(contact.metadata.get("auto"))


def _address(customer: Customer, human: list[Contact]) -> Identifier | None:
    """The customer's own e-mail address to ask: the one they wrote from on this case, else
    the one seen most recently. Claims (typed into a pre-chat form) and invalid addresses
    never count."""
    own = [i for i in customer.identifiers
           if i.kind is IdentifierKind.EMAIL and i.matchable]
    for contact in human:
        if contact.channel is Channel.EMAIL and contact.from_address:
            key = normalise_email(contact.from_address).normalized
            for identifier in own:
                if identifier.normalized == key:
                    return identifier
    return max(own, key=lambda i: i.last_seen_at, default=None)
