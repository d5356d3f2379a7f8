"""Public web forms: ``GET /forms/{id}`` (HTML, nl/en) and ``POST /forms/{id}``
(urlencoded or multipart → HTML; JSON → JSON). No login: abuse is held off by a honeypot,
rate limits per client and per form, body limits and idempotency keys."""

from __future__ import annotations

import json
import logging
import re
import uuid
from importlib import resources
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.multipart import BodyPartReader

from channels.webforms import catalogue, render
from channels.webforms.definitions import FormDef, Language
from channels.webforms.validation import UploadedFile, check
from workers.web.errors import error_response
from workers.web.keys import SERVICES
from workers.web.ratelimit import RATE_LIMITS, client_ip, limit

log = logging.getLogger(__name__)

PER_CLIENT = limit("10/minute")
PER_FORM = limit("600/minute")
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; form-action 'self'; "
                                "base-uri 'none'; frame-ancestors 'self'"),
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_CSS = (resources.files("channels.webforms") / "static" / "forms.css").read_bytes()


class TooLarge(Exception):
    pass


def install(app: web.Application) -> None:
    app.router.add_get("/forms/static/forms.css", _css)
    app.router.add_get("/forms/{id}", show)
    app.router.add_post("/forms/{id}", submit)


async def _css(request: web.Request) -> web.Response:
    return web.Response(body=_CSS, content_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600",
                                 "X-Content-Type-Options": "nosniff"})


async def _form(request: web.Request) -> FormDef:
    async with request.app[SERVICES].read_uow() as uow:
        found = (await catalogue.forms(uow)).get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text=f"no form {request.match_info['id']!r}")
    return found


def language_of(request: web.Request, given: str | None = None) -> Language:
    wanted = (given or request.query.get("lang") or "").lower()
    if wanted in ("nl", "en"):
        return "en" if wanted == "en" else "nl"
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("nl", "en"):
            return "en" if code == "en" else "nl"
    return "nl"


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8", status=status,
                        headers=_PAGE_HEADERS)


async def show(request: web.Request) -> web.Response:
    form = await _form(request)
    return _html(render.form_page(form, language_of(request), action=request.path,
                                  idempotency_key=uuid.uuid4().hex))


async def submit(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    wants_json = request.content_type == "application/json"
    limited = await _rate_limited(request, form)
    if limited is not None:
        message = "too many submissions; try again later"
        if wants_json:
            return error_response(request, 429, message,
                                  headers={"Retry-After": str(limited)})
        raise web.HTTPTooManyRequests(text=message, headers={"Retry-After": str(limited)})
    try:
        values, files = await _read(request, form, wants_json)
    except TooLarge as err:
        raise web.HTTPRequestEntityTooLarge(max_size=_max_body(form), actual_size=0,
                                            text=str(err)) from None
    language = language_of(request, values.pop("lang", None))
    key = values.pop(render.IDEMPOTENCY_FIELD, "") or request.headers.get("Idempotency-Key", "")
    if not _KEY.match(key):
        key = uuid.uuid4().hex  # no usable key: this submission simply has its own
    if values.pop(render.HONEYPOT, ""):
        log.warning("form %s: honeypot filled by %s; nothing stored", form.id,
                    client_ip(request))
        return _html(render.confirmation_page(form, language, None, again=request.path))
    services = request.app[SERVICES]
    checked = check(form, values, files, language, region=services.settings.default_region,
                    strict=wants_json)
    if not checked.valid:
        if wants_json:
            return error_response(request, 422, "the form has errors", fields=checked.errors)
        return _html(render.form_page(form, language, action=request.path,
                                      idempotency_key=key, values=values,
                                      errors=checked.errors), status=422)
    submitted = await services.forms.submit(form, checked, idempotency_key=key,
                                            language=language)
    if wants_json:
        return web.json_response({
            "contact_id": submitted.contact_id, "case_id": submitted.case_id,
            "reference": submitted.reference, "duplicate": submitted.duplicate},
            status=200 if submitted.duplicate else 201)
    return _html(render.confirmation_page(form, language, submitted.reference,
                                          again=request.path))


async def _rate_limited(request: web.Request, form: FormDef) -> int | None:
    limits = request.app[RATE_LIMITS]
    return (await limits.retry_after(PER_CLIENT, "form", form.id, client_ip(request))
            or await limits.retry_after(PER_FORM, "form", form.id))


def _max_body(form: FormDef) -> int:
    return form.max_files * form.max_file_bytes + 256 * 1024


async def _read(request: web.Request, form: FormDef,
                wants_json: bool) -> tuple[dict[str, str], list[UploadedFile]]:
    if wants_json:
        body = await request.read()  # bounded by client_max_size (413)
        try:
            data: Any = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise web.HTTPBadRequest(text=f"the body is not valid JSON: {err}") from err
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="send the fields as one JSON object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}, []
    if request.content_type == "multipart/form-data":
        return await _multipart(request, form)
    if request.content_type == "application/x-www-form-urlencoded":
        posted = await request.post()
        return {k: str(v) for k, v in posted.items()}, []
    raise web.HTTPUnsupportedMediaType(
        text="send application/x-www-form-urlencoded, multipart/form-data or JSON")


async def _multipart(request: web.Request,
                     form: FormDef) -> tuple[dict[str, str], list[UploadedFile]]:
    """Streamed, so the limits hold before anything large is in memory."""
    budget = _max_body(form)
    values: dict[str, str] = {}
    files: list[UploadedFile] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        content = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            content += chunk
            budget -= len(chunk)
            if budget < 0:
                raise TooLarge(f"the submission is larger than {_max_body(form)} bytes")
        if part.filename is not None:
            files.append(UploadedFile(
                # HTML5 clients percent-encode quotes and line breaks in the name (and
                # aiohttp's client all of it); the name is cleaned again before it is kept.
                field_name=part.name, filename=unquote(part.filename),
                content_type=part.headers.get("Content-Type", "application/octet-stream"),
                content=bytes(content)))
        else:
            values[part.name] = content.decode(part.get_charset("utf-8") or "utf-8",
                                               "replace")
    return values, files
