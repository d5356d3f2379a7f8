"""Handing one message to an SMTP server with ``aiosmtplib``, and saying whether a failure
is worth retrying.

    SendFailed(reason, permanent)
    ├── permanent=True    5xx replies, recipients refused with 5xx, addresses or extensions
    │                     this message can never be sent with (RFC 5321 4.2.1: "do not
    │                     repeat the exact request")
    └── permanent=False   4xx (greylisting included), timeouts, refused or dropped
                          connections, TLS trouble: the server may take it later

``reason`` is short and safe to show an agent: it holds the server's reply or the kind of
network error, never the password.

The password is only sent over TLS, unless the endpoint says ``security="none"``: with
opportunistic STARTTLS, a server (or a man in the middle) that does not offer STARTTLS would
otherwise receive it in clear.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from channels.email.compose import envelope_address

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls", "opportunistic"]
_STARTTLS: dict[str, Security] = {
    "required": "starttls", "none": "none", "opportunistic": "opportunistic"}
_QUERY_KEYS = frozenset({"starttls"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpEndpoint:
    host: str
    port: int
    security: Security
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0  # for each step (connect, every command), as aiosmtplib applies it

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"the SMTP port must be 1 to 65535, not {self.port}")
        if self.timeout_s <= 0:
            raise ValueError("the SMTP timeout must be positive")

    @classmethod
    def from_url(cls, url: str) -> SmtpEndpoint:
        """``smtp://[user:pass@]host[:port][?starttls=required|none]`` or ``smtps://…``.

        Plain ``smtp://`` uses STARTTLS when the server offers it; ``smtps://`` is implicit
        TLS (RFC 8314). Error messages never repeat the password."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
            query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            raise ValueError("the SMTP URL is not a valid URL (is the port a number "
                             "from 1 to 65535?)") from None
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"an SMTP URL starts with smtp:// or smtps://, not "
                             f"{parts.scheme or '(nothing)'}://")
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError("an SMTP URL has no path or #fragment")
        if unknown := sorted(set(query) - _QUERY_KEYS):
            raise ValueError(f"unknown SMTP URL option(s): {', '.join(unknown)}; "
                             f"only starttls= is understood")
        security: Security = "tls" if parts.scheme == "smtps" else "opportunistic"
        if "starttls" in query:
            wanted = query["starttls"]
            if parts.scheme == "smtps" or len(wanted) != 1 or wanted[0] not in _STARTTLS:
                raise ValueError("starttls= takes required, none or opportunistic, once, "
                                 "and only on smtp://")
            security = _STARTTLS[wanted[0]]
        if parts.password is not None and not parts.username:
            raise ValueError("the SMTP URL has a password but no user")
        if port is None:
            port = 465 if security == "tls" else 25
        return cls(host=parts.hostname, port=port,
                   security=security,
                   user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password is not None else None)


class SendFailed(Exception):
    """Delivery to the server failed; ``reason`` is safe to show an agent."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


async def send(endpoint: SmtpEndpoint, message: EmailMessage, *, sender: str,
               recipients: Sequence[str], ssl_context: ssl.SSLContext | None = None) -> str:
    """Send ``message`` over one new connection, closed whatever happens; returns the
    server's reply to the data. Raises :class:`SendFailed`."""
    try:
        envelope_from = envelope_address(sender, "the envelope sender")
        envelope_to = [envelope_address(r, "a recipient") for r in recipients]
    except ValueError as err:
        raise SendFailed(str(err), permanent=True) from err
    if not envelope_to:
        raise SendFailed("no recipients", permanent=True)
    client = aiosmtplib.SMTP(
        hostname=endpoint.host, port=endpoint.port, use_tls=endpoint.security == "tls",
        start_tls={"starttls": True, "none": False}.get(endpoint.security),
        tls_context=ssl_context, timeout=endpoint.timeout_s)
    try:
        await client.connect()
        await _login(client, endpoint)
        refused, reply = await client.send_message(message, sender=envelope_from,
                                                   recipients=envelope_to)
        # The message is accepted: trouble saying goodbye must not make it go again.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
    except aiosmtplib.SMTPRecipientsRefused as err:
        first = err.recipients[0]
        raise SendFailed(_refusal(first.code, first.message),
                         permanent=all(r.code >= 500 for r in err.recipients)) from err
    except aiosmtplib.SMTPResponseException as err:
        raise SendFailed(_refusal(err.code, err.message), permanent=err.code >= 500) from err
    except aiosmtplib.SMTPNotSupported as err:  # e.g. SMTPUTF8 for a non-ASCII address
        raise SendFailed(_short(str(err)), permanent=True) from err
    except (aiosmtplib.SMTPException, OSError) as err:
        # Connection refused or reset, TLS failure, timeout (TimeoutError is an OSError).
        raise SendFailed(f"{type(err).__name__}: {_short(str(err))}", permanent=False) from err
    finally:
        client.close()
    if refused:
        log.warning("SMTP server accepted the message for %d of %d recipient(s); refused: %s",
                    len(envelope_to) - len(refused), len(envelope_to),
                    {address: _refusal(r.code, r.message) for address, r in refused.items()})
    return reply


async def _login(client: aiosmtplib.SMTP, endpoint: SmtpEndpoint) -> None:
    if endpoint.user is None:
        return
    if endpoint.security != "none" and client.get_transport_info("sslcontext") is None:
        raise SendFailed("the server offered no STARTTLS; the password is only sent over TLS "
                         "(use ?starttls=none to allow it in clear)", permanent=False)
    await client.login(endpoint.user, endpoint.password or "")


def _refusal(code: int, message: str) -> str:
    return f"{code} {_short(message)}"


def _short(text: str) -> str:
    return " ".join(text.split())[:300]
