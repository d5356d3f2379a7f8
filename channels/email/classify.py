"""What a message is and what it refers to, read from headers without trusting them.

- :func:`auto_kind`: a bounce, an auto-reply (RFC 3834 ``Auto-Submitted`` and the de-facto
  ``X-Autoreply``/``X-Autorespond``/``Precedence``), mailing-list mail (RFC 2369/2919), or none.
  Automatic mail must never get an automatic answer, nor reopen a case on its own.
- :func:`bounced_message_id`: the Message-ID of our message that a DSN (RFC 3464) returns.
- :func:`case_reference`: the ``[#SW-1234]`` tag our replies put in the subject.
- :func:`message_ids`: ``<...>`` tokens of Message-ID, In-Reply-To and References, read with one
  linear regex (these headers are never handed to the stdlib's structured parser).

All of them take the raw header values a caller collected; none parses structured headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum


class AutoKind(StrEnum):
    NONE = "none"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"


_MSG_ID = re.compile(r"<\s*([^<>\s]{1,900})\s*>")
_BARE_TOKEN = re.compile(r"[^<>\s\x00-\x1f\x7f]{1,900}")
_CASE_REFERENCE = re.compile(r"\[#\s*SW-(\d{1,12})\s*\]", re.I)
_AUTOMATED_SENDERS = frozenset({"mailer-daemon", "postmaster"})

# Raw header values by lower-case name, in message order.
Headers = Mapping[str, Sequence[str]]


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every ``<id>`` in ``value``, normalised to ``<id>``, duplicates dropped, order kept."""
    if not value:
        return ()
    return tuple(dict.fromkeys(f"<{m.group(1)}>" for m in _MSG_ID.finditer(value)))


def message_id(value: str | None) -> str | None:
    """The first ``<id>`` of ``value``; a bare token (some mailers omit the brackets) is wrapped."""
    found = message_ids(value)
    if found:
        return found[0]
    bare = _BARE_TOKEN.search(value or "")
    return f"<{bare.group(0)}>" if bare else None


def case_reference(subject: str) -> str | None:
    """``"Re: [#SW-0042] Klacht"`` -> ``"SW-42"`` (the form of ``Case.reference``)."""
    found = _CASE_REFERENCE.search(subject)
    return f"SW-{int(found.group(1))}" if found else None


def _first(headers: Headers, name: str) -> str | None:
    values = headers.get(name)
    return values[0].strip() if values else None


def _token(value: str | None) -> str:
    """The value before any parameters or comment, lower-cased: ``auto-replied; x=y`` etc."""
    return re.split(r"[;(\s]", (value or "").strip(), maxsplit=1)[0].lower()


def auto_kind(headers: Headers, *, content_type: str, report_type: str | None,
              part_types: Iterable[str], sender_local_part: str | None) -> AutoKind:
    """Classify a message; bounce beats auto-reply beats list.

    ``part_types`` are the content types of all parts (for a DSN inside another multipart);
    ``sender_local_part`` is the From address's local part, if there is one valid sender.
    """
    types = frozenset(part_types)
    null_sender = _first(headers, "return-path") in ("<>", "< >")
    is_report = content_type == "multipart/report"
    if (is_report and report_type == "delivery-status") or (
            null_sender and "message/delivery-status" in types):
        return AutoKind.BOUNCE
    # Bounces without a DSN (qmail, old Exchange) still come from the null sender and a daemon.
    if null_sender and (sender_local_part or "").lower() in _AUTOMATED_SENDERS:
        return AutoKind.BOUNCE
    auto_submitted = _first(headers, "auto-submitted")
    precedence = _token(_first(headers, "precedence"))
    if ((auto_submitted is not None and _token(auto_submitted) != "no")
            or "x-autoreply" in headers or "x-autorespond" in headers
            or precedence in ("auto_reply", "junk")
            or (is_report and report_type == "disposition-notification")):
        return AutoKind.AUTO_REPLY
    if "list-id" in headers or "list-unsubscribe" in headers or precedence == "list":
        return AutoKind.LIST
    if precedence == "bulk":
        return AutoKind.AUTO_REPLY
    return AutoKind.NONE


def bounced_message_id(headers: Headers, returned_headers: Iterable[Callable[[], Headers]],
                       ) -> str | None:
    """The Message-ID of the returned original, else the ``Original-Message-ID`` field.

    ``returned_headers`` yields, lazily, the header fields of each ``message/rfc822`` or
    ``text/rfc822-headers`` part and of each ``message/delivery-status`` block.
    """
    original: str | None = _first(headers, "original-message-id")
    for read in returned_headers:
        fields = read()
        found = message_id(_first(fields, "message-id"))
        if found:
            return found
        original = original or _first(fields, "original-message-id")
    return message_id(original)
