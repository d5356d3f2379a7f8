"""Handing one message to an SMTP server with ``aiosmtplib``, and saying whether a failure
is worth retrying: 4xx and connection trouble are temporary, 5xx is final (RFC 5321 4.2.1).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

Security = Literal["none", "starttls", "tls", "opportunistic"]
_STARTTLS = {"required": "starttls", "none": "none", "opportunistic": "opportunistic"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpEndpoint:
    host: str
    port: int
    security: Security
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpEndpoint:
        """``smtp://[user:pass@]host:port[?starttls=required|none]`` or ``smtps://…``."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError("the SMTP URL is not a valid URL") from None
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"an SMTP URL starts with smtp:// or smtps://, not "
                             f"{parts.scheme or '(nothing)'}://")
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host")
        security: Security = "tls" if parts.scheme == "smtps" else "opportunistic"
        wanted = parse_qs(parts.query).get("starttls", [])
        if wanted:
            if parts.scheme == "smtps" or wanted[0] not in _STARTTLS:
                raise ValueError("starttls= takes required, none or opportunistic, on smtp://")
            security = _STARTTLS[wanted[0]]  # type: ignore[assignment]
        return cls(host=parts.hostname, port=port or (465 if security == "tls" else 25),
                   security=security,
                   user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)


class SendFailed(Exception):
    """Delivery to the server failed; ``reason`` is safe to show an agent."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


async def send(endpoint: SmtpEndpoint, message: EmailMessage, *, sender: str,
               recipients: Sequence[str], ssl_context: ssl.SSLContext | None = None) -> str:
    """Send ``message``; returns the server's reply to the data. Raises :class:`SendFailed`."""
    start_tls: bool | None = {"starttls": True, "none": False}.get(endpoint.security)
    try:
        _, reply = await aiosmtplib.send(
            message, sender=sender, recipients=list(recipients), hostname=endpoint.host,
            port=endpoint.port, username=endpoint.user, password=endpoint.password,
            use_tls=endpoint.security == "tls", start_tls=start_tls,
            tls_context=ssl_context, timeout=endpoint.timeout_s)
    except aiosmtplib.SMTPRecipientsRefused as err:
        codes = [r.code for r in err.recipients]
        raise SendFailed(_refusal(err.recipients[0].code, err.recipients[0].message),
                         permanent=all(c >= 500 for c in codes)) from None
    except aiosmtplib.SMTPResponseException as err:
        raise SendFailed(_refusal(err.code, err.message), permanent=err.code >= 500) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
        # Connection refused, reset, TLS failure, timeout: the server may be back later.
        raise SendFailed(f"{type(err).__name__}: {_short(str(err))}", permanent=False) from None
    return reply


def _refusal(code: int, message: str) -> str:
    return f"{code} {_short(message)}"


def _short(text: str) -> str:
    return " ".join(text.split())[:300]
