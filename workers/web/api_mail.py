"""E-mail: agents' replies, the originals and attachments of contacts, and the quarantine of
messages that could not be taken in."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from aiohttp import web

from channels.email.replies import ReplyAttachment
from core.domain.channels import Channel
from core.domain.contact import Contact
from core.domain.errors import InvalidInput, NotFound
from core.domain.messaging import QuarantinedItem, QuarantineStatus
from core.domain.workforce import Role
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import QuarantineQuery, ReplyIn

# Served bytes are never rendered by the browser as our page: a download, not sniffed.
_DOWNLOAD = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
# Sanitised mail HTML, shown in a frame: no scripts, no remote loads, no forms, no top nav.
_MAIL_HTML_CSP = ("sandbox; default-src 'none'; img-src cid: data:; style-src 'unsafe-inline'; "
                  "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def register(api: Api) -> None:
    _replies(api)
    _contact_content(api)
    _quarantine(api)


def _replies(api: Api) -> None:
    @api.route("POST", "/api/cases/{id}/replies", summary="Send an e-mail reply on a case",
               role=Role.AGENT, tag="email", body=ReplyIn,
               responses={202: "Queued for delivery", 404: "No such case",
                          409: "Not an e-mail case, or e-mail sending is not configured",
                          422: "Invalid input"})
    async def reply(call: Call[ReplyIn, Any]) -> web.Response:
        services = call.request.app[SERVICES]
        assert call.principal is not None
        queued = await services.email_replies.reply(
            case_id=call.path("id"), body=call.body.body, author=call.principal.name,
            attachments=tuple(_attachment(i, a) for i, a in enumerate(call.body.attachments)))
        return web.json_response({
            "contact_id": queued.contact_id, "message_id": queued.message_id,
            "to": queued.to_address, "subject": queued.subject,
            "delivery_state": queued.state.value}, status=202)


def _contact_content(api: Api) -> None:
    @api.route("GET", "/api/contacts/{id}/attachments/{attachment_id}",
               summary="Download an attachment", role=Role.AGENT, tag="email",
               responses={200: "The attachment's bytes", 404: "No such attachment"})
    async def attachment(call: Call[Any, Any]) -> web.StreamResponse:
        contact = await _contact(call, any_channel=True)
        wanted = call.path("attachment_id")
        meta = next((a for a in contact.attachments if a.id == wanted), None)
        if meta is None or meta.storage_key is None:
            raise NotFound("attachment", wanted)
        content = await _blob(call, meta.storage_key, "attachment")
        return web.Response(body=content, content_type="application/octet-stream", headers={
            **_DOWNLOAD, "Content-Disposition": _disposition(meta.filename)})

    @api.route("GET", "/api/contacts/{id}/html", summary="An e-mail's sanitised HTML body",
               role=Role.AGENT, tag="email",
               responses={200: "HTML to show in a sandboxed frame", 404: "No HTML body"})
    async def html(call: Call[Any, Any]) -> web.StreamResponse:
        contact = await _contact(call)
        key = contact.metadata.get("html_ref")
        if not key:
            raise NotFound("HTML body of contact", contact.id)
        content = await _blob(call, key, "HTML body")
        return web.Response(body=content, content_type="text/html", charset="utf-8", headers={
            **_DOWNLOAD, "Content-Security-Policy": _MAIL_HTML_CSP})

    @api.route("GET", "/api/contacts/{id}/raw",
               summary="The original message exactly as received", role=Role.SUPERVISOR,
               tag="email", responses={200: "message/rfc822 bytes", 404: "Not kept"})
    async def raw(call: Call[Any, Any]) -> web.StreamResponse:
        contact = await _contact(call)
        if not contact.raw_ref:
            raise NotFound("original of contact", contact.id)
        content = await _blob(call, contact.raw_ref, "original")
        return web.Response(body=content, content_type="message/rfc822", headers={
            **_DOWNLOAD, "Content-Disposition": f'attachment; filename="{contact.id}.eml"'})


def _quarantine(api: Api) -> None:
    @api.route("GET", "/api/mail/quarantine", summary="Messages that could not be taken in",
               role=Role.SUPERVISOR, tag="email", query=QuarantineQuery,
               responses={200: "Newest first"})
    async def quarantine(call: Call[Any, QuarantineQuery]) -> web.Response:
        services = call.request.app[SERVICES]
        status = QuarantineStatus(call.query.status) if call.query.status else None
        async with services.read_uow() as uow:
            items = await uow.quarantine.page(status=status, limit=call.query.limit)
        return web.json_response({"items": [_item(i) for i in items]})

    @api.route("GET", "/api/mail/quarantine/{id}/raw",
               summary="The quarantined message's bytes", role=Role.SUPERVISOR, tag="email",
               responses={200: "message/rfc822 bytes", 404: "Not kept"})
    async def quarantined_raw(call: Call[Any, Any]) -> web.StreamResponse:
        item = await _quarantined(call)
        if not item.raw_ref:
            raise NotFound("original of quarantined item", item.id)
        content = await _blob(call, item.raw_ref, "original")
        return web.Response(body=content, content_type="message/rfc822", headers={
            **_DOWNLOAD, "Content-Disposition": f'attachment; filename="{item.id}.eml"'})

    @api.route("POST", "/api/mail/quarantine/{id}/retry",
               summary="Take a quarantined message in again (after a fix or a new limit)",
               role=Role.SUPERVISOR, tag="email",
               responses={200: "The outcome", 404: "No such item",
                          409: "The bytes were not kept or the mailbox is gone"})
    async def retry(call: Call[Any, Any]) -> web.Response:
        services = call.request.app[SERVICES]
        item = await _quarantined(call)
        intake = services.email.intake(item.source, uow=services.uow,
                                       ingestion=services.ingestion, clock=services.clock)
        if intake is None or not item.raw_ref:
            raise web.HTTPConflict(text="the message's bytes or its mailbox are not available")
        content = await _blob(call, item.raw_ref, "original")
        accepted = await intake.accept(content, item_ref=item.item_ref)
        if accepted.contact_id is not None:
            async with services.uow() as uow:
                await uow.quarantine.set_status(item.id, QuarantineStatus.RELEASED)
                await uow.commit()
        return web.json_response({"outcome": accepted.outcome.value,
                                  "contact_id": accepted.contact_id,
                                  "case_id": accepted.case_id, "reason": accepted.reason})

    @api.route("POST", "/api/mail/quarantine/{id}/dismiss",
               summary="Mark a quarantined message as dealt with", role=Role.SUPERVISOR,
               tag="email", responses={200: "Dismissed", 404: "No such item"})
    async def dismiss(call: Call[Any, Any]) -> web.Response:
        services = call.request.app[SERVICES]
        item = await _quarantined(call)
        async with services.uow() as uow:
            await uow.quarantine.set_status(item.id, QuarantineStatus.RELEASED)
            await uow.commit()
        return web.json_response({**_item(item), "status": QuarantineStatus.RELEASED.value})


def _attachment(index: int, given: Any) -> ReplyAttachment:
    try:
        content = base64.b64decode(given.content_base64, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput({f"attachments.{index}.content_base64": "not base64"}) from err
    return ReplyAttachment(filename=given.filename, content_type=given.content_type,
                           content=content)


async def _contact(call: Call[Any, Any], *, any_channel: bool = False) -> Contact:
    services = call.request.app[SERVICES]
    async with services.read_uow() as uow:
        contact = await uow.contacts.get(call.path("id"))
    if contact is None or (contact.channel is not Channel.EMAIL and not any_channel):
        raise NotFound("e-mail contact", call.path("id"))
    return contact


async def _quarantined(call: Call[Any, Any]) -> QuarantinedItem:
    services = call.request.app[SERVICES]
    async with services.read_uow() as uow:
        item = await uow.quarantine.get(call.path("id"))
    if item is None:
        raise NotFound("quarantined item", call.path("id"))
    return item


async def _blob(call: Call[Any, Any], key: str, what: str) -> bytes:
    async with call.request.app[SERVICES].read_uow() as uow:
        content = await uow.blobs.get(key)
    if content is None:
        raise NotFound(what, key)
    return content


def _disposition(filename: str) -> str:
    # RFC 6266: an ASCII fallback plus the exact name, percent-encoded; never raw user text.
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_"
                       for c in filename)[:100] or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _item(item: QuarantinedItem) -> dict[str, Any]:
    return {"id": item.id, "channel": item.channel, "source": item.source,
            "item_ref": item.item_ref, "reason": item.reason, "attempts": item.attempts,
            "status": item.status.value, "raw_available": item.raw_ref is not None,
            "first_failed_at": item.first_failed_at.isoformat(),
            "last_failed_at": item.last_failed_at.isoformat()}
