"""The outbox of e-mail: send what is due, record the outcome, retry on a schedule.

Each message is held by one sender while it talks to the SMTP server (a conditional update,
so several delivery processes never send one message twice at once). A sender that dies
mid-send lets the hold lapse and the message goes again *with the same Message-ID*, which
receiving systems use to drop the duplicate. Temporary refusals (4xx, timeouts) are retried
with exponential backoff; permanent ones (5xx) fail at once with the server's reason, which
agents see on the contact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from channels.email.compose import OutgoingAttachment, OutgoingMail, build_message
from channels.email.smtp import SendFailed, SmtpEndpoint, send
from core.domain.clock import Clock
from core.domain.events import DeliveryChanged
from core.domain.messaging import DeliveryState, OutboundMessage, RetryPolicy
from core.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

HOLD = timedelta(minutes=2)
BATCH = 20
MAX_IDLE_S = 5.0  # what another process queued is sent within this
CONCURRENT_SENDS = 4


class MailDelivery:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, endpoint: SmtpEndpoint,
                 wake: asyncio.Event, policy: RetryPolicy = RetryPolicy()) -> None:  # noqa: B008
        self._uow = uow
        self._clock = clock
        self._endpoint = endpoint
        self._wake = wake
        self._policy = policy
        self._slots = asyncio.Semaphore(CONCURRENT_SENDS)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                sent = await self.send_due()
            except Exception:
                log.exception("mail delivery pass failed")
                sent = 0
            if sent:
                continue
            await self._sleep(stop, await self._idle_s())

    async def send_due(self) -> int:
        """One pass over the due messages; returns how many attempts were made."""
        async with self._uow() as uow:
            due = await uow.outbound.due(self._clock.now(), limit=BATCH)
        async with asyncio.TaskGroup() as tasks:
            for message in due:
                tasks.create_task(self._attempt(message))
        return len(due)

    async def _attempt(self, message: OutboundMessage) -> None:
        async with self._slots:
            now = self._clock.now()
            async with self._uow() as uow:
                if not await uow.outbound.claim(message.message_id, until=now + HOLD, now=now):
                    return  # another sender has it
                await uow.commit()
            try:
                built = await self._build(message)
                await send(self._endpoint, built, sender=str(message.envelope["from"]),
                           recipients=[message.recipient])
            except SendFailed as err:
                message.failed_attempt(err.reason, self._clock.now(), permanent=err.permanent,
                                       policy=self._policy)
            except ValueError as err:  # an address or header no message can carry
                message.failed_attempt(f"cannot be sent: {err}", self._clock.now(),
                                       permanent=True, policy=self._policy)
            else:
                message.sent(self._clock.now())
            await self._record(message)

    async def _build(self, message: OutboundMessage) -> EmailMessage:
        envelope: dict[str, Any] = message.envelope
        attachments: list[OutgoingAttachment] = []
        async with self._uow() as uow:
            for item in envelope.get("attachments") or []:
                content = await uow.blobs.get(str(item["blob"]))
                if content is None:
                    raise ValueError(f"attachment {item['filename']!r} is no longer stored")
                attachments.append(OutgoingAttachment(
                    filename=str(item["filename"]), content_type=str(item["content_type"]),
                    content=content))
        return build_message(OutgoingMail(
            message_id=message.message_id, from_address=str(envelope["from"]),
            from_name=envelope.get("from_name"), to_address=message.recipient,
            to_name=envelope.get("to_name"), subject=str(envelope.get("subject") or ""),
            text=str(envelope.get("text") or ""),
            date=datetime.fromisoformat(str(envelope["date"])),
            in_reply_to=envelope.get("in_reply_to"),
            references=tuple(envelope.get("references") or ()),
            auto_submitted=envelope.get("auto_submitted"),
            attachments=tuple(attachments)))

    async def _record(self, message: OutboundMessage) -> None:
        async with self._uow() as uow:
            await uow.outbound.save(message)
            facts = {"delivery_state": message.state.value}
            if message.last_error:
                facts["delivery_error"] = message.last_error
            await uow.contacts.update_metadata(message.contact_id, facts)
            if message.state is not DeliveryState.QUEUED:
                uow.outbox.add([DeliveryChanged(
                    contact_id=message.contact_id, case_id=message.case_id,
                    channel=message.channel, state=message.state.value,
                    reason=message.last_error)])
            await uow.commit()
        if message.state is DeliveryState.QUEUED:
            log.warning("mail %s: attempt %d failed (%s); next at %s", message.id,
                        message.attempts, message.last_error, message.next_attempt_at)
        elif message.state is DeliveryState.FAILED:
            log.error("mail %s: given up after %d attempt(s): %s", message.id,
                      message.attempts, message.last_error)

    async def _idle_s(self) -> float:
        async with self._uow() as uow:
            due = await uow.outbound.next_due()
        if due is None:
            return MAX_IDLE_S
        return max(0.0, min(MAX_IDLE_S, (due - self._clock.now()).total_seconds()))

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
