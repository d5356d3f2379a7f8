"""A checked form submission becomes one contact on a case, exactly once.

The idempotency key (a hidden field of the rendered form, or the ``Idempotency-Key``
header) is the contact's channel reference: a double click, a resubmitted page or a
retried request finds the contact already stored and gets the same answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from channels.email.parsing import clean_filename
from channels.email.queueing import SenderIdentity, queue_automatic
from channels.webforms.definitions import FormDef, Language
from channels.webforms.validation import Checked
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact, Party
from core.domain.contact import AttachmentMeta, CaseType, Priority
from core.domain.ids import new_id
from core.domain.messaging import OutboundKind, content_key
from core.domain.privacy import OutboundPurpose
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.consent import refusal as consent_refusal
from core.services.ingest import ContactIngestion, IngestResult

_PRIORITIES = {"low": Priority.LOW, "normal": Priority.NORMAL, "high": Priority.HIGH,
               "urgent": Priority.URGENT}


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    contact_id: str
    case_id: str | None
    reference: str | None
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmations:
    """How form confirmations are e-mailed, if at all."""

    sender: SenderIdentity | None
    can_send: bool
    per_address_per_hour: int
    wake: asyncio.Event


class FormSubmissions:
    def __init__(self, *, uow: UnitOfWorkFactory, ingestion: ContactIngestion, clock: Clock,
                 confirmations: Confirmations) -> None:
        self._uow = uow
        self._ingestion = ingestion
        self._clock = clock
        self._confirmations = confirmations

    async def submit(self, form: FormDef, checked: Checked, *, idempotency_key: str,
                     language: Language) -> Submitted:
        values = checked.values
        role = {f.role: values.get(f.name) for f in form.fields if f.role}
        subject = role.get("subject") or form.title(language)
        body = _text(form, checked, language)
        reference: list[str] = []
        queued_mail: list[bool] = []

        async def also(uow: UnitOfWork, result: IngestResult) -> None:
            for upload in checked.files:
                await uow.blobs.put(upload.content)
            case = await uow.cases.get(result.case_id) if result.case_id else None
            if case is None:
                return
            reference.append(case.reference)
            email = role.get("email")
            if form.confirmation_email and email and result.case_created:
                queued_mail.append(await self._confirm(
                    uow, form, language, to=email, name=role.get("name"),
                    reference=case.reference, customer_id=result.customer_id,
                    case_id=case.id))

        result = await self._ingestion.ingest(IngestContact(
            channel=Channel.WEBFORM, direction=Direction.INBOUND,
            external_id=f"{form.id}:{idempotency_key}",
            party=Party(name=role.get("name"), email=role.get("email"),
                        phone=role.get("phone")),
            subject=subject, summary=(role.get("body") or body)[:2000], body=body,
            from_address=role.get("email") or role.get("phone"),
            attachments=tuple(AttachmentMeta(
                id=new_id("att"), filename=clean_filename(u.filename) or "attachment",
                content_type=u.content_type, size_bytes=len(u.content),
                storage_key=content_key(u.content)) for u in checked.files),
            metadata=_metadata(form, checked, language, role.get("customer_number")),
            case_type=CaseType(form.case_type), queue_id=form.queue, tags=form.tags,
            priority=_PRIORITIES[form.priority] if form.priority else None), also=also)
        if any(queued_mail):
            self._confirmations.wake.set()
        if result.duplicate and result.case_id:
            async with self._uow() as uow:
                case = await uow.cases.get(result.case_id)
            reference = [case.reference] if case else []
        return Submitted(contact_id=result.contact_id, case_id=result.case_id,
                         reference=reference[0] if reference else None,
                         duplicate=result.duplicate)

    async def _confirm(self, uow: UnitOfWork, form: FormDef, language: Language, *, to: str,
                       name: str | None, reference: str, customer_id: str,
                       case_id: str) -> bool:
        settings = self._confirmations
        if settings.sender is None or not settings.can_send:
            return False
        now = self._clock.now()
        # A form is a way to make us mail any address: cap it like acknowledgements.
        recent = await uow.outbound.count_recent(recipient=to,
                                                 kind=OutboundKind.ACKNOWLEDGEMENT,
                                                 since=now - timedelta(hours=1))
        if recent >= settings.per_address_per_hour:
            return False
        # Automatic, so a withdrawn e-mail consent of the customer it was filed on stops it.
        if await consent_refusal(uow, customer_id, OutboundPurpose.AUTOMATIC_MAIL):
            return False
        greeting = {"nl": "Beste {name},", "en": "Dear {name},"}[language]
        text = (f"{greeting.format(name=name or ('klant' if language == 'nl' else 'customer'))}"
                f"\n\n{form.confirmation(language).format(reference=reference)}\n\n"
                + ("Reageer op deze e-mail als u iets wilt aanvullen."
                   if language == "nl" else "Reply to this e-mail to add anything."))
        await queue_automatic(
            uow, sender=settings.sender, to_address=to, to_name=name,
            subject=f"{form.title(language)} [#{reference}]", text=text,
            customer_id=customer_id, case_id=case_id, source=f"form:{form.id}", now=now)
        return True


def _text(form: FormDef, checked: Checked, language: Language) -> str:
    """Every answer as "label: value", the body last and whole."""
    lines: list[str] = []
    body = ""
    for definition in form.fields:
        value = checked.values.get(definition.name)
        if not value:
            continue
        if definition.role == "body":
            body = value
            continue
        if definition.type == "select":
            value = next((o.label(language) for o in definition.options if o.value == value),
                         value)
        lines.append(f"{definition.label(language)}: {value}")
    return "\n".join(lines) + (f"\n\n{body}" if body else "")


def _metadata(form: FormDef, checked: Checked, language: Language,
              customer_number: str | None) -> tuple[tuple[str, str], ...]:
    facts = {"form": form.id, "language": language}
    if customer_number:
        facts["customer_number"] = customer_number  # typed, unverified: shown, not matched
    for definition in form.fields:
        if definition.type == "select" and checked.values.get(definition.name):
            facts.setdefault("topic", checked.values[definition.name])
    return tuple(facts.items())
