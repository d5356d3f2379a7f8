"""Building outbound mail from plain values, with every header guarded.

Python 3.11.7 is vulnerable to CVE-2024-6923: a header object *parsed* from inbound mail
keeps an encoded CR LF, and re-serialising it writes a new header line (a ``Bcc:`` the
customer chose). So no value here is ever a parsed header: each is a fresh ``str`` run through
:func:`guard_header`, and addresses are rebuilt with :class:`email.headerregistry.Address`.

A fresh string is not enough on its own: the stdlib decodes RFC 2047 encoded words in a string
as it stores the header, so ``=?utf-8?q?hi=0D=0ABcc:_x?=`` as *text* (what a double-encoded
subject decodes to) becomes a line break after any check of the text. :func:`guard_header`
therefore also breaks up ``=?``.

Message-IDs are written exactly as given. The stdlib treats In-Reply-To and References as
unstructured text and, on 3.11, folds a long id into encoded words, which other mail software
does not decode in a msg-id (RFC 2047 section 5): threading would silently break.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime
from typing import Any

import idna

from channels.email.parsing import clean_filename

# Everything str.splitlines() breaks on, and the other C0/C1 controls (tab kept as a space).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
# RFC 5322 3.6.4, kept to printable ASCII: a msg-id is compared byte for byte by receivers,
# and one holding "=?" would be RFC 2047-decoded by lenient parsers (Python's among them).
_MESSAGE_ID = re.compile(r"<(?!.*=\?)[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")
_REPLY_PREFIX = re.compile(
    r"^\s*((re|aw|antw|antwoord|sv|vs|fw|fwd|wg|doorst|tr)\s*([\[(]\d+[\])])?\s*:\s*)+", re.I)
_CASE_TAG = re.compile(r"\[\s*#\s*SW\s*-\s*\d{1,12}\s*\]", re.I)
_CASE_REFERENCE = re.compile(r"SW-\d{1,12}", re.I)
_MAX_SUBJECT_CHARS = 200  # of the customer's words; our tag always fits after them
# RFC 5321 4.1.2 Dot-string atoms; non-ASCII allowed as RFC 6531 (SMTPUTF8) permits.
_LOCAL_PART = re.compile(r"[^\s\x00-\x1f\x7f-\x9f\"(),:;<>@\[\\\]\u2028\u2029]{1,64}")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
_MIME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")  # RFC 6838 4.2
# RFC 2046 5.1.1 and 5.2.1: these may not be base64, which an opaque attachment is.
_NOT_OPAQUE = frozenset({"multipart", "message"})


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMail:
    message_id: str  # "<...>", chosen by us
    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    text: str
    date: datetime  # aware
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None  # "auto-replied" for acknowledgements (RFC 3834)
    reply_to: str | None = None
    attachments: tuple[OutgoingAttachment, ...] = ()


def guard_header(value: str) -> str:
    """One line: every break and control character becomes a space, spaces collapsed, and
    no RFC 2047 encoded word left for the stdlib to decode (``"=?"`` becomes ``"= ?"``).

    Always returns a new plain ``str``, never the (possibly parsed) object it was given."""
    value = _SURROGATES.sub("\ufffd", str(value))
    return " ".join(_UNSAFE.sub(" ", value).replace("=?", "= ?").split())


def new_message_id(domain: str) -> str:
    """Unguessable: a reference to it later is trusted as a token we issued."""
    return f"<sw.{secrets.token_urlsafe(18)}@{_ascii_domain(domain, 'the Message-ID domain')}>"


def domain_of(address: str) -> str:
    username, at, domain = address.strip().rpartition("@")
    if not at or not username or not domain.strip():
        raise ValueError("the address has no domain")
    return domain.strip().lower()


def reply_subject(subject: str | None, case_reference: str) -> str:
    """``"Re: Klacht [#SW-12]"``: one "Re:", the case tag once, at the end, on one line.

    Any other case tag in the subject goes: the tag is how a reply finds its case."""
    reference = guard_header(case_reference).upper()
    if not _CASE_REFERENCE.fullmatch(reference):
        raise ValueError("the case reference is not of the form SW-<number>")
    tag = f"[#{reference}]"
    base = guard_header(_CASE_TAG.sub(" ", guard_header(subject or "")))
    base = _REPLY_PREFIX.sub("", base).strip()
    if len(base) > _MAX_SUBJECT_CHARS:
        base = base[:_MAX_SUBJECT_CHARS - 1].rstrip() + "\u2026"
    return f"Re: {base} {tag}" if base else tag


def references_for(parent_references: Sequence[str], parent_message_id: str | None, *,
                   limit: int = 20) -> tuple[str, ...]:
    """RFC 5322 section 3.6.4: the parent's References, then its Message-ID; when too long
    the first (the thread's root) and the newest are kept. Malformed ids are dropped."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    chain = [r.strip() for r in parent_references]
    if parent_message_id:
        chain.append(parent_message_id.strip())
    valid = [r for r in chain if _MESSAGE_ID.fullmatch(r)]
    # A repeated id keeps its last place, so the parent always ends the chain.
    valid = list(reversed(dict.fromkeys(reversed(valid))))
    if len(valid) > limit:
        valid = valid[-1:] if limit == 1 else valid[:1] + valid[-(limit - 1):]
    return tuple(valid)


def envelope_address(address: str, what: str = "the address") -> str:
    """``address`` as an SMTP mailbox: validated, its domain in IDNA ASCII form (RFC 5890),
    so only a non-ASCII local part still needs SMTPUTF8."""
    username, domain = _split_address(address, what)
    return f"{username}@{domain}"


def build_message(mail: OutgoingMail) -> EmailMessage:
    """``mail`` as a MIME message; :class:`ValueError` says which value no message can carry."""
    sender = _address(mail.from_address, mail.from_name, "the sender")
    recipient = _address(mail.to_address, mail.to_name, "the recipient")
    reply_to = _address(mail.reply_to, None, "the reply-to address") if mail.reply_to else None
    if mail.date.tzinfo is None or mail.date.utcoffset() is None:
        raise ValueError("the date has no time zone")
    own = _ids([mail.message_id])
    if not own:
        raise ValueError("the Message-ID is not of the form <id@domain>")
    needs_utf8 = any(not a.username.isascii() for a in (sender, recipient, reply_to) if a)
    message = EmailMessage(policy=_SMTPUTF8_POLICY if needs_utf8 else _SMTP_POLICY)
    message["From"] = sender
    message["To"] = recipient
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = guard_header(mail.subject)
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = own[0]
    parent = _ids([mail.in_reply_to]) if mail.in_reply_to else []
    if parent:
        message["In-Reply-To"] = parent[0]
    references = _ids(mail.references)
    if references:
        message["References"] = " ".join(dict.fromkeys(references))
    if mail.auto_submitted:
        message["Auto-Submitted"] = guard_header(mail.auto_submitted)
    # Quoted-printable keeps every line far below SMTP's 998 octets (RFC 5321 4.5.3.1.6)
    # whatever the agent typed, and survives a relay without 8BITMIME.
    message.set_content(_SURROGATES.sub("\ufffd", mail.text), subtype="plain",
                        charset="utf-8", cte="quoted-printable")
    for attachment in mail.attachments:
        _attach(message, attachment)
    return message


# --- headers -------------------------------------------------------------------------------


class _MessageIdsHeader(UnstructuredHeader, BaseHeader):
    """Message-ID, In-Reply-To, References: ids written as they are, folded only between
    ids. The values are validated ASCII before they get here."""

    max_count = 1

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(value, kwds)
        kwds["decoded"] = value  # as given: the unstructured parser would decode "=?...?="

    def fold(self, *, policy: Policy) -> str:
        width = policy.max_line_length or 998
        lines = [f"{self.name}:"]
        filled = False  # the last line holds an id already
        for message_id in str(self).split():
            if filled and len(lines[-1]) + 1 + len(message_id) > width:
                lines.append("")
            lines[-1] += f" {message_id}"
            filled = True
        return policy.linesep.join(lines) + policy.linesep


def _policy(base: EmailPolicy[EmailMessage]) -> EmailPolicy[EmailMessage]:
    # Our own registry: mapping a type into the stdlib's shared one would change every
    # policy.SMTP message in the process.
    registry = HeaderRegistry()
    for name in ("message-id", "in-reply-to", "references"):
        registry.map_to_type(name, _MessageIdsHeader)
    return base.clone(header_factory=registry)


_SMTP_POLICY = _policy(email_policy.SMTP)
_SMTPUTF8_POLICY = _policy(email_policy.SMTPUTF8)


def _ids(values: Sequence[str]) -> list[str]:
    return [v for v in (guard_header(x) for x in values) if _MESSAGE_ID.fullmatch(v)]


def _ascii_domain(domain: str, what: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as err:
            raise ValueError(f"{what} is not a valid domain name") from err
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{what} is not a valid domain name")
    return domain


def _split_address(address: str, what: str) -> tuple[str, str]:
    if _UNSAFE.search(address) or _SURROGATES.search(address):
        raise ValueError(f"{what} contains a line break or control character")
    username, at, domain = address.strip().rpartition("@")
    if not at or not username or not domain:
        raise ValueError(f"{what} is not of the form name@domain")
    if not _LOCAL_PART.fullmatch(username) or username.startswith(".") \
            or username.endswith(".") or ".." in username:
        raise ValueError(f"{what} has a local part mail cannot carry")
    return username, _ascii_domain(domain, f"{what}'s domain")


def _address(address: str, name: str | None, what: str) -> Address:
    username, domain = _split_address(address, what)
    try:
        return Address(display_name=guard_header(name or ""), username=username, domain=domain)
    except (ValueError, IndexError) as err:
        raise ValueError(f"{what} is not a valid address") from err


def _attach(message: EmailMessage, attachment: OutgoingAttachment) -> None:
    maintype, _, subtype = guard_header(attachment.content_type).lower().partition("/")
    if not _MIME_NAME.fullmatch(maintype) or not _MIME_NAME.fullmatch(subtype) \
            or maintype in _NOT_OPAQUE:
        maintype, subtype = "application", "octet-stream"
    # clean_filename keeps the last path component and drops invisible and reordering
    # characters (U+202E would show "evil\u202egpj.exe" as "evilexe.jpg").
    filename = clean_filename(guard_header(attachment.filename)) or "attachment"
    message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                           filename=filename)
