"""One JSON error format for every response that is not a success.

    {"error": {"status": 422, "code": "invalid_input", "message": "...",
               "fields": {"from.email": "..."}, "request_id": "..."}}

Domain errors and aiohttp's HTTP exceptions are translated here, at the boundary; anything
unexpected is logged with the request id and answered 500 without internals.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from core.domain.errors import Conflict, DomainError, InvalidInput, NotFound

log = logging.getLogger(__name__)
REQUEST_ID = web.RequestKey("request_id", str)
_REQUEST_ID_FORM = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
          415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited",
          500: "internal_error", 503: "unavailable"}


def error_response(request: web.Request, status: int, message: str, *,
                   fields: Mapping[str, str] | None = None,
                   headers: Mapping[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "code": _CODES.get(status, "error"),
                            "message": message, "request_id": request.get(REQUEST_ID)}
    if fields:
        body["fields"] = dict(fields)
    return web.json_response({"error": body}, status=status, headers=headers)


def validation_fields(err: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for problem in err.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in problem["loc"]) or "body"
        fields.setdefault(path, problem["msg"])
    return fields


def incoming_request_id(request: web.Request) -> str | None:
    """The caller's X-Request-Id (a proxy's or a client's trace id), kept when it looks
    like an id; anything else is replaced by our own rather than written to the logs."""
    given = request.headers.get("X-Request-Id", "")
    return given if _REQUEST_ID_FORM.fullmatch(given) else None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = incoming_request_id(request) or uuid.uuid4().hex
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        response = error_response(request, exc.status, reason or exc.reason,
                                  headers={k: v for k, v in exc.headers.items()
                                           if k in ("Allow", "Retry-After", "WWW-Authenticate")})
    except ValidationError as exc:
        response = error_response(request, 422, "the request is not valid",
                                  fields=validation_fields(exc))
    except InvalidInput as exc:
        response = error_response(request, 422, "the request is not valid", fields=exc.reasons)
    except NotFound as exc:
        response = error_response(request, 404, str(exc))
    except Conflict as exc:
        response = error_response(request, 409, str(exc))
    except DomainError as exc:
        response = error_response(request, 400, str(exc))
    except Exception:
        log.exception("unhandled error", extra={"request_id": request[REQUEST_ID]})
        response = error_response(request, 500, "internal error; quote the request id")
    response.headers["X-Request-Id"] = request[REQUEST_ID]
    return response
