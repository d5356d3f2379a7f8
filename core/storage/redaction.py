"""Removing personal data in SQL, in bounded batches, for erasure and retention.

Every method does one batch and is idempotent: run again over the same rows it changes
nothing more. What is removed and what is kept follows core/domain/privacy.py: rows that
reports count stay (a contact's channel, direction, times, case, queue; a call's status,
times and outcome; a chat's messages as empty lines with their sender and time; survey
scores), their text goes.

Blobs are shared by content (the same logo attached by two customers is stored once), so a
blob is never deleted where its reference is dropped: its key is *released*, and
:meth:`SqlRedactions.sweep_blobs` deletes released blobs that nothing refers to any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.customer import CustomerStatus, IdentifierKind
from core.domain.messaging import DeliveryState, QuarantineStatus
from core.domain.privacy import KEPT_CONTACT_FACTS, PERSONAL_EVENT_TOPICS, ErasureMatch
from core.storage.tables import (
    blobs,
    calls,
    case_notes,
    cases,
    chat_conversations,
    chat_messages,
    config_documents,
    contact_consents,
    contacts,
    customers,
    entitlements,
    identifiers,
    merges,
    message_refs,
    outbound_messages,
    outbox,
    phone_verifications,
    possible_duplicates,
    quarantine,
    released_blobs,
    routing_decisions,
    survey_responses,
    survey_subjects,
)

BLOB_PREFIX = "sha256:"
ERASED = "[erased]"
# What a routing decision saw of the message itself; the rest of its facts (channel,
# classification, queue, times) explain the decision without saying what was written.
_MESSAGE_FACTS = ("subject", "body", "text", "words")


class SqlRedactions:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- the customer's record -------------------------------------------------------

    async def merged_into(self, customer_id: str) -> list[str]:
        """The customer and every customer merged into it, directly or through others."""
        found = [customer_id]
        frontier = [customer_id]
        while frontier:
            rows = await self._conn.execute(sa.select(customers.c.id).where(
                customers.c.merged_into.in_(frontier)))
            frontier = [r[0] for r in rows if r[0] not in found]
            found += frontier
        return found

    async def identity_values(self, customer_ids: Sequence[str]) -> ErasureMatch:
        rows = await self._conn.execute(sa.select(
            identifiers.c.kind, identifiers.c.value, identifiers.c.normalized,
        ).where(identifiers.c.customer_id.in_(customer_ids)))
        emails: set[str] = set()
        phones: set[str] = set()
        for kind, value, normalized in rows:
            if kind == IdentifierKind.EMAIL.value:
                emails.update(v.lower() for v in (value, normalized) if v)
            elif kind == IdentifierKind.PHONE.value:
                phones.update(v for v in (value, normalized) if v)
        return ErasureMatch(emails=sorted(emails), phones=sorted(phones))

    async def erase_identity(self, customer_ids: Sequence[str], match: ErasureMatch, *,
                             at: datetime) -> dict[str, int]:
        """Tombstone the customers (the row stays: reports count its contacts) and delete
        what identifies them or was decided about them."""
        ids = list(customer_ids)
        counts = {"customers": await self._count(customers.update().where(
            customers.c.id.in_(ids), customers.c.status != CustomerStatus.ERASED.value,
        ).values(display_name=None, organisation=None, household=None, segment=None,
                 value=None, preferred_channel=None, merged_into=None,
                 status=CustomerStatus.ERASED.value, updated_at=at))}
        for name, statement in (
            ("identifiers", identifiers.delete().where(identifiers.c.customer_id.in_(ids))),
            ("entitlements", entitlements.delete().where(entitlements.c.customer_id.in_(ids))),
            ("consents", contact_consents.delete().where(
                contact_consents.c.customer_id.in_(ids))),
            ("survey_preferences", survey_subjects.delete().where(
                survey_subjects.c.customer_id.in_(ids))),
            ("possible_duplicates", possible_duplicates.delete().where(sa.or_(
                possible_duplicates.c.customer_id.in_(ids),
                possible_duplicates.c.other_customer_id.in_(ids)))),
            ("merges", merges.delete().where(sa.or_(merges.c.survivor_id.in_(ids),
                                                    merges.c.merged_id.in_(ids)))),
            ("verification_codes", phone_verifications.delete().where(sa.or_(
                phone_verifications.c.customer_id.in_(ids),
                phone_verifications.c.phone.in_(match.phones or [""])))),
        ):
            counts[name] = await self._count(statement)
        return counts

    # --- contacts --------------------------------------------------------------------

    async def contact_ids(self, *, customer_ids: Sequence[str] = (),
                          case_ids: Sequence[str] = (), after: str | None,
                          limit: int) -> list[str]:
        """Contacts of these customers or cases, by id, after ``after``."""
        where = []
        if customer_ids:
            where.append(contacts.c.customer_id.in_(customer_ids))
        if case_ids:
            where.append(contacts.c.case_id.in_(case_ids))
        if not where:
            return []
        query = sa.select(contacts.c.id).where(sa.or_(*where))
        if after is not None:
            query = query.where(contacts.c.id > after)
        rows = await self._conn.execute(query.order_by(contacts.c.id).limit(limit))
        return [r[0] for r in rows]

    async def redact_contacts(self, contact_ids: Sequence[str], *, at: datetime) -> set[str]:
        """Remove the contacts' content and everything made of it (their outgoing mail,
        message references, the text routing saw, survey comments on them). Returns the
        keys of the blobs they referred to (to release)."""
        if not contact_ids:
            return set()
        ids = list(contact_ids)
        rows = (await self._conn.execute(sa.select(
            contacts.c.id, contacts.c.channel, contacts.c.external_id, contacts.c.attachments,
            contacts.c.raw_ref, contacts.c.metadata,
        ).where(contacts.c.id.in_(ids)))).mappings().all()
        keys: set[str] = set()
        updates: list[dict[str, Any]] = []
        for r in rows:
            keys |= _contact_blobs(r)
            updates.append({
                "b_id": r["id"],
                "b_external_id": _kept_external_id(r["channel"], r["external_id"], r["id"]),
                "b_metadata": {k: v for k, v in (r["metadata"] or {}).items()
                               if k in KEPT_CONTACT_FACTS},
            })
        if updates:
            await self._conn.execute(contacts.update().where(
                contacts.c.id == sa.bindparam("b_id")).values(
                external_id=sa.bindparam("b_external_id"),
                metadata=sa.bindparam("b_metadata", type_=contacts.c.metadata.type),
                from_name=None, from_address=None, subject=None, summary=None, body=None,
                transcript=None, attachments=[], raw_ref=None, redacted_at=at), updates)
        keys |= await self._redact_outbound(ids)
        await self._conn.execute(message_refs.delete().where(message_refs.c.contact_id.in_(ids)))
        await self._strip_decisions(routing_decisions.c.contact_id.in_(ids))
        await self._conn.execute(survey_responses.update().where(
            survey_responses.c.contact_id.in_(ids), survey_responses.c.comment.is_not(None),
        ).values(comment=None))
        return keys

    async def _redact_outbound(self, contact_ids: list[str]) -> set[str]:
        rows = (await self._conn.execute(sa.select(
            outbound_messages.c.id, outbound_messages.c.envelope, outbound_messages.c.state,
        ).where(outbound_messages.c.contact_id.in_(contact_ids)))).mappings().all()
        keys: set[str] = set()
        for r in rows:
            for item in (r["envelope"] or {}).get("attachments") or []:
                if isinstance(item, dict) and str(item.get("blob", "")).startswith(BLOB_PREFIX):
                    keys.add(str(item["blob"]))
        if rows:
            # A message still waiting is never sent now: what it would say is gone.
            await self._conn.execute(outbound_messages.update().where(
                outbound_messages.c.contact_id.in_(contact_ids),
                outbound_messages.c.state == DeliveryState.QUEUED.value,
            ).values(state=DeliveryState.FAILED.value))
            await self._conn.execute(outbound_messages.update().where(
                outbound_messages.c.contact_id.in_(contact_ids),
            ).values(recipient="", envelope={}, last_error=None, held_until=None))
        return keys

    async def _strip_decisions(self, where: sa.ColumnElement[bool]) -> None:
        rows = (await self._conn.execute(sa.select(
            routing_decisions.c.id, routing_decisions.c.facts).where(where))).all()
        updates = [{"b_id": decision_id, "b_facts": {k: v for k, v in facts.items()
                                                     if k not in _MESSAGE_FACTS}}
                   for decision_id, facts in rows if any(k in facts for k in _MESSAGE_FACTS)]
        if updates:
            await self._conn.execute(routing_decisions.update().where(
                routing_decisions.c.id == sa.bindparam("b_id")).values(
                facts=sa.bindparam("b_facts", type_=routing_decisions.c.facts.type)), updates)

    # --- cases -----------------------------------------------------------------------

    async def case_ids(self, *, customer_ids: Sequence[str], after: str | None,
                       limit: int) -> list[str]:
        query = sa.select(cases.c.id).where(cases.c.customer_id.in_(customer_ids))
        if after is not None:
            query = query.where(cases.c.id > after)
        rows = await self._conn.execute(query.order_by(cases.c.id).limit(limit))
        return [r[0] for r in rows]

    async def redact_cases(self, case_ids: Sequence[str], *, at: datetime) -> int:
        """Subjects, internal notes, the text routing saw and survey comments on the cases.
        Type, status, queue, tags and times stay: reports count by them."""
        if not case_ids:
            return 0
        ids = list(case_ids)
        changed = await self._count(cases.update().where(
            cases.c.id.in_(ids), cases.c.redacted_at.is_(None),
        ).values(subject=None, redacted_at=at))
        await self._conn.execute(case_notes.delete().where(case_notes.c.case_id.in_(ids)))
        # Notes written before they had a table of their own (migration 0011 moves them).
        await self._conn.execute(config_documents.delete().where(
            config_documents.c.key.in_([f"case-notes:{i}" for i in ids])))
        await self._strip_decisions(routing_decisions.c.case_id.in_(ids))
        await self._conn.execute(survey_responses.update().where(
            survey_responses.c.case_id.in_(ids), survey_responses.c.comment.is_not(None),
        ).values(comment=None))
        return changed

    # --- channel records -------------------------------------------------------------

    async def redact_chats(self, customer_ids: Sequence[str], emails: Sequence[str]) -> int:
        """Conversations of the customers (or started with one of their addresses typed in):
        names, addresses, topics and every line said; the lines stay, empty, with sender
        and time (reports read who spoke and when the agent left)."""
        where = [chat_conversations.c.customer_id.in_(customer_ids)]
        if emails:
            where.append(sa.func.lower(chat_conversations.c.claimed_email).in_(emails))
        found = [r[0] for r in await self._conn.execute(
            sa.select(chat_conversations.c.id).where(sa.or_(*where)))]
        if not found:
            return 0
        await self._conn.execute(chat_conversations.update().where(
            chat_conversations.c.id.in_(found)).values(
            name=None, claimed_email=None, topic=None,
            visitor_id=sa.literal("erased:") + chat_conversations.c.id))
        return await self._count(chat_messages.update().where(
            chat_messages.c.conversation_id.in_(found), chat_messages.c.text != "",
        ).values(text=""))

    async def redact_calls(self, customer_ids: Sequence[str], phones: Sequence[str]) -> int:
        """The customer's number on their calls (also calls from their number that never
        became theirs) and recording links; status, times and outcome stay."""
        numbers = list(phones) or [""]
        theirs = sa.or_(calls.c.customer_id.in_(customer_ids),
                        calls.c.from_number.in_(numbers), calls.c.to_number.in_(numbers))
        changed = await self._count(calls.update().where(
            theirs, calls.c.direction == "inbound",
            sa.or_(calls.c.from_number != "", calls.c.recording_url.is_not(None)),
        ).values(from_number="", recording_url=None))
        changed += await self._count(calls.update().where(
            theirs, calls.c.direction != "inbound",
            sa.or_(calls.c.to_number != "", calls.c.recording_url.is_not(None)),
        ).values(to_number="", recording_url=None))
        # Whichever side it was on, a number of theirs is gone.
        await self._conn.execute(calls.update().where(calls.c.from_number.in_(numbers))
                                 .values(from_number=""))
        await self._conn.execute(calls.update().where(calls.c.to_number.in_(numbers))
                                 .values(to_number=""))
        return changed

    async def redact_survey_comments(self, customer_ids: Sequence[str]) -> int:
        return await self._count(survey_responses.update().where(
            survey_responses.c.customer_id.in_(customer_ids),
            survey_responses.c.comment.is_not(None)).values(comment=None))

    async def redact_event_payloads(self, customer_ids: Sequence[str]) -> int:
        """Events about the customers that carry personal values (profile edits, duplicate
        flags quoting identifiers) keep their ids and lose the values, published or not."""
        ids = set(customer_ids)
        about = sa.or_(outbox.c.payload["customer_id"].as_string().in_(ids),
                       outbox.c.payload["other_customer_id"].as_string().in_(ids))
        rows = (await self._conn.execute(sa.select(outbox.c.seq, outbox.c.payload).where(
            outbox.c.topic.in_(PERSONAL_EVENT_TOPICS), about))).all()
        updates = [{"b_seq": seq, "b_payload": _erased_payload(payload)}
                   for seq, payload in rows if not payload.get("erased")]
        if updates:
            await self._conn.execute(outbox.update().where(
                outbox.c.seq == sa.bindparam("b_seq")).values(
                payload=sa.bindparam("b_payload", type_=outbox.c.payload.type)), updates)
        return len(updates)

    # --- quarantine ------------------------------------------------------------------

    async def quarantined_originals(self, *, after: str | None,
                                    limit: int) -> list[tuple[str, str]]:
        """(item id, blob key) of quarantined items that still hold their raw bytes."""
        query = sa.select(quarantine.c.id, quarantine.c.raw_ref).where(
            quarantine.c.raw_ref.is_not(None))
        if after is not None:
            query = query.where(quarantine.c.id > after)
        rows = await self._conn.execute(query.order_by(quarantine.c.id).limit(limit))
        return [(r[0], r[1]) for r in rows]

    async def drop_quarantined_originals(self, item_ids: Sequence[str], *,
                                         why: str) -> set[str]:
        if not item_ids:
            return set()
        rows = await self._conn.execute(sa.select(quarantine.c.raw_ref).where(
            quarantine.c.id.in_(item_ids), quarantine.c.raw_ref.is_not(None)))
        keys = {r[0] for r in rows}
        await self._conn.execute(quarantine.update().where(quarantine.c.id.in_(item_ids))
                                 .values(raw_ref=None, status=QuarantineStatus.RELEASED.value,
                                         reason=why))
        return keys

    # --- blobs -----------------------------------------------------------------------

    async def blob(self, key: str) -> bytes | None:
        content: bytes | None = await self._conn.scalar(
            sa.select(blobs.c.content).where(blobs.c.key == key))
        return content

    async def release_blobs(self, keys: Iterable[str], *, at: datetime) -> None:
        values = [{"key": k, "released_at": at} for k in sorted(set(keys))
                  if k.startswith(BLOB_PREFIX)]
        if not values:
            return
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        await self._conn.execute(insert(released_blobs).values(values).on_conflict_do_nothing())

    async def sweep_blobs(self, *, limit: int) -> tuple[int, int]:
        """Delete up to ``limit`` released blobs nothing refers to any more; forget the
        release of those still referred to. Returns (released keys looked at, deleted).

        References live in indexed columns (a contact's or quarantined item's original)
        and inside JSON (attachment lists, a contact's channel facts, queued mail), which
        is searched as text: one pass over those columns per batch of keys."""
        keys = [r[0] for r in await self._conn.execute(
            sa.select(released_blobs.c.key).order_by(released_blobs.c.key).limit(limit))]
        if not keys:
            return 0, 0
        used: set[str] = set()
        for column in (contacts.c.raw_ref, quarantine.c.raw_ref):
            used |= {r[0] for r in await self._conn.execute(
                sa.select(column).where(column.in_(keys)).distinct())}
        for column in (contacts.c.attachments, contacts.c.metadata,
                       outbound_messages.c.envelope):
            text = sa.cast(column, sa.Text)
            for (document,) in await self._conn.execute(
                    sa.select(text).where(sa.or_(*[text.contains(k) for k in keys]))):
                used |= {k for k in keys if k in document}
        unused = [k for k in keys if k not in used]
        deleted = await self._count(blobs.delete().where(blobs.c.key.in_(unused))) \
            if unused else 0
        await self._conn.execute(released_blobs.delete().where(released_blobs.c.key.in_(keys)))
        return len(keys), deleted

    async def _count(self, statement: Any) -> int:
        result = await self._conn.execute(statement)
        return int(result.rowcount or 0)


def _contact_blobs(r: sa.RowMapping) -> set[str]:
    keys = {r["raw_ref"]} if r["raw_ref"] else set()
    for attachment in r["attachments"] or []:
        if attachment.get("storage_key"):
            keys.add(attachment["storage_key"])
    # Channel facts that point at stored bytes: html_ref, bounce_ref.
    keys |= {v for v in (r["metadata"] or {}).values()
             if isinstance(v, str) and v.startswith(BLOB_PREFIX)}
    return {k for k in keys if k.startswith(BLOB_PREFIX)}


def _kept_external_id(channel: str, external_id: str, contact_id: str) -> str:
    """The channel reference a redacted contact keeps. A call keeps the platform's call id
    (reports join the call on it); e-mail keeps its content hash, which says nothing and
    stops the same message from being taken in again from the mailbox. Any other reference
    was chosen by a client and may name the person: replaced."""
    if channel == "phone" or external_id.startswith(BLOB_PREFIX):
        return external_id
    return f"erased:{contact_id}"


def _erased_payload(payload: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: payload[k] for k in (
        "customer_id", "other_customer_id", "contact_id", "via", "created") if k in payload}
    if isinstance(payload.get("changes"), dict):
        kept["changes"] = {name: ERASED for name in payload["changes"]}
    if isinstance(payload.get("matched_on"), list):  # "email:piet@…" → "email"
        kept["matched_on"] = [str(m).split(":", 1)[0] for m in payload["matched_on"]]
    return {**kept, "erased": True}
