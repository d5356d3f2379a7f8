"""Building outbound mail from plain values, with every header guarded.

Python 3.11.7 is vulnerable to CVE-2024-6923: a header object *parsed* from inbound mail
keeps an encoded CR LF, and re-serialising it writes a new header line (a `Bcc:` the customer
chose). So no value here is ever a parsed header: each is a fresh ``str`` run through
:func:`guard_header`, and addresses are rebuilt with :class:`email.headerregistry.Address`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from channels.email.parsing import clean_filename

# Everything str.splitlines() breaks on, and the other C0/C1 controls (tab kept as a space).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,900}>")
_REPLY_PREFIX = re.compile(r"^\s*((re|antw|aw|sv|fwd?|doorst)\s*(\[\d+\])?\s*:\s*)+", re.I)
_CASE_TAG = re.compile(r"\[#\s*SW-\d{1,12}\s*\]", re.I)
_SMTP_POLICY = policy.SMTP.clone(max_line_length=78)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMail:
    message_id: str
    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    text: str
    date: datetime
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    reply_to: str | None = None
    attachments: tuple[OutgoingAttachment, ...] = ()


def guard_header(value: str) -> str:
    """One line: every break and control character becomes a space, spaces collapsed."""
    return " ".join(_UNSAFE.sub(" ", value).split())


def new_message_id(domain: str) -> str:
    """Unguessable: a reference to it later is trusted as a token we issued."""
    return f"<sw.{secrets.token_urlsafe(18)}@{domain}>"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def reply_subject(subject: str | None, case_reference: str) -> str:
    """``"Re: Klacht [#SW-12]"``: one "Re:", the case tag once."""
    base = _REPLY_PREFIX.sub("", guard_header(subject or ""))
    tag = f"[#{case_reference}]"
    base = (_CASE_TAG.sub(tag, base, count=1) if _CASE_TAG.search(base)
            else f"{base} {tag}".strip())
    return f"Re: {base}" if base != tag else tag


def references_for(parent_references: Sequence[str], parent_message_id: str | None, *,
                   limit: int = 20) -> tuple[str, ...]:
    """RFC 5322 section 3.6.4: the parent's References, then its Message-ID; when too long
    the first (the thread's root) and the newest are kept."""
    chain = [r for r in parent_references if _MESSAGE_ID.fullmatch(r)]
    if parent_message_id and _MESSAGE_ID.fullmatch(parent_message_id):
        chain.append(parent_message_id)
    chain = list(dict.fromkeys(chain))
    if len(chain) > limit:
        chain = chain[:1] + chain[-(limit - 1):]
    return tuple(chain)


def _address(address: str, name: str | None, what: str) -> Address:
    if _UNSAFE.search(address) or address.count("@") != 1:
        raise ValueError(f"{what} is not a valid address")
    username, _, domain = address.partition("@")
    if not username or not domain or any(c.isspace() for c in address):
        raise ValueError(f"{what} is not a valid address")
    try:
        return Address(display_name=guard_header(name or ""), username=username,
                       domain=domain)
    except (ValueError, IndexError) as err:
        raise ValueError(f"{what} is not a valid address: {err}") from None


def _ids(values: Sequence[str]) -> list[str]:
    return [v for v in (guard_header(x) for x in values) if _MESSAGE_ID.fullmatch(v)]


def build_message(mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage(policy=_SMTP_POLICY)
    message["From"] = _address(mail.from_address, mail.from_name, "the sender")
    message["To"] = _address(mail.to_address, mail.to_name, "the recipient")
    if mail.reply_to:
        message["Reply-To"] = _address(mail.reply_to, None, "the reply-to address")
    message["Subject"] = guard_header(mail.subject)
    message["Date"] = format_datetime(mail.date)
    own = _ids([mail.message_id])
    if not own:
        raise ValueError("the Message-ID is not of the form <id@domain>")
    message["Message-ID"] = own[0]
    parent = _ids([mail.in_reply_to]) if mail.in_reply_to else []
    if parent:
        message["In-Reply-To"] = parent[0]
    references = _ids(mail.references)
    if references:
        message["References"] = " ".join(references)
    if mail.auto_submitted:
        message["Auto-Submitted"] = guard_header(mail.auto_submitted)
    message.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        if not maintype or not subtype or _UNSAFE.search(attachment.content_type):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.content, maintype=maintype.lower(), subtype=subtype.lower(),
            filename=clean_filename(guard_header(attachment.filename)) or "attachment")
    return message
