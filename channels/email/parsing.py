"""Parse one inbound e-mail into plain, safe values: :class:`ParsedMail`.

The IMAP poller hands :func:`parse_message` the raw bytes of one message. It either gets a
``ParsedMail`` or :class:`Unparseable`, which means "quarantine the raw bytes, never retry";
no other exception leaves this module for any input. The raw bytes stay the record of what
arrived: every value here is derived, cleaned for display, and bounded by :class:`MailLimits`.

    parse_message(raw)
    ├── limits.prescan       header sizes, address counts, MIME depth: before the stdlib parses
    ├── email BytesParser    policy.default, building at most max_parts messages;
    │                        structured headers parsed one by one, on demand
    ├── bodies               charset decoding, HTML cut to size and nh3-sanitised, HTML to
    │                        text, quoted history
    └── classify             auto-reply/bounce/list, bounced Message-ID, [#SW-n] reference

Nothing here is trusted later without a check of its own: a Message-ID is chosen by the sender,
a case reference in a subject is a claim, and a filename is data, never a path.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors, policy
from email.header import decode_header, make_header
from email.headerregistry import AddressHeader, BaseHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser, Parser
from email.policy import Policy
from email.utils import parsedate_to_datetime
from typing import Any

from channels.email.bodies import (
    clean_text,
    cut_html,
    decode_text,
    html_to_text,
    new_text,
    sanitise_html,
)
from channels.email.classify import (
    AutoKind,
    Headers,
    auto_kind,
    bounced_message_id,
    case_reference,
    message_id,
    message_ids,
)
from channels.email.limits import MailLimits, Unparseable, prescan

__all__ = [
    "AutoKind", "MailLimits", "ParsedAttachment", "ParsedMail", "Unparseable", "parse_message",
    "strip_header_breaks",
]

# What the stdlib's email package raises on hostile input (it is not documented to be total).
_PARSE_ERRORS = (errors.MessageError, ValueError, TypeError, LookupError, AttributeError,
                 ArithmeticError, RecursionError)
# Every character str.splitlines() breaks on: the email package folds and unfolds with it, so
# each one can start a new header line (CVE-2024-6923 is the CR LF case on Python 3.11.7).
_HEADER_BREAKS = re.compile("[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_DISPLAY_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_FILENAME_DROPPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PATH_SEPARATORS = re.compile("[/\\\\\uff0f\uff3c]")
_MAX_FILENAME_CHARS = 255
_BODY_TYPES = frozenset({"text/plain", "text/html"})
# "message/rfc822-headers" is no registered type, but MTAs send it (mail-parser's
# mail_malformed_2, from MailSite) and the stdlib parses it as a message like the others.
_RETURNED_MESSAGES = frozenset({"message/rfc822", "message/global", "message/rfc822-headers"})
_RETURNED_HEADERS = frozenset({"text/rfc822-headers", "message/global-headers"})
# Nested messages are stored as they came: no header is parsed again or refolded.
_SERIALISE_POLICY = policy.default.clone(refold_source="none", linesep="\r\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedAttachment:
    """One attachment or inline part. ``filename`` is for display only, never a path."""

    filename: str | None
    content_type: str
    size: int
    content: bytes = field(repr=False)
    content_id: str | None  # without the angle brackets, as ``cid:`` URLs name it
    inline: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedMail:
    message_id: str | None  # "<id>", as the sender chose it: not a dedupe key on its own
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str  # one line: no breaks or control characters
    from_address: str | None  # addr-spec of the single valid sender, else None
    from_name: str | None
    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    date: datetime | None  # aware; "-0000" (zone unknown) is read as UTC
    text: str  # the plain text part, or text derived from the HTML
    new_text: str  # ``text`` without quoted history and signature
    html: str | None  # sanitised; None when the message has no HTML body
    truncated: bool  # text or HTML was cut at the limits
    attachments: tuple[ParsedAttachment, ...]
    skipped_attachments: tuple[str, ...]  # "name: reason" for each one not kept
    auto_kind: AutoKind
    bounced_message_id: str | None
    case_reference: str | None  # "SW-1234" from "[#SW-1234]" in the subject: a claim
    content_hash: str  # sha256 of the raw bytes, hex
    size: int  # bytes


def strip_header_breaks(value: str) -> str:
    """Replace every run of line-breaking characters with one space: safe for any header."""
    return _HEADER_BREAKS.sub(" ", value)


def clean_display(value: str) -> str:
    """One line of text to show: no controls, breaks or bidi overrides; white space collapsed."""
    value = _SURROGATES.sub("\ufffd", value)
    value = _BIDI_CONTROLS.sub("", _DISPLAY_CONTROLS.sub(" ", value))
    return " ".join(value.split())


def clean_filename(name: str | None) -> str | None:
    """The last path component, without invisible or reordering characters; None if nothing."""
    if name is None:
        return None
    name = unicodedata.normalize("NFC", _SURROGATES.sub("\ufffd", name))
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _FILENAME_DROPPED)
    name = _PATH_SEPARATORS.split(name)[-1].strip()
    if name in ("", ".", ".."):
        return None
    if len(name) > _MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        keep = _MAX_FILENAME_CHARS - len(extension) - 1
        name = f"{stem[:keep]}.{extension}" if dot and keep > 0 else name[:_MAX_FILENAME_CHARS]
    return name


def parse_message(raw: bytes, *, limits: MailLimits = MailLimits()) -> ParsedMail:  # noqa: B008
    """Parse ``raw``; raise :class:`Unparseable` for anything that must be quarantined."""
    prescan(raw, limits)
    try:
        parser = BytesParser(_PartBudget(limits.max_parts), policy=policy.default)
        message = parser.parsebytes(raw)
        return _Reader(message, limits).read(raw)
    except RecursionError as err:
        raise Unparseable("MIME structure too deep for the parser") from err
    except _PARSE_ERRORS as err:
        raise Unparseable(f"the parser failed: {type(err).__name__}") from err


class _PartBudget:
    """The parser's message factory: it refuses to build more than ``max_parts`` messages.

    The pre-scan counts the parts it recognises; this bounds what the parser really builds,
    whatever the scan missed. The scan does not count the header blocks of a
    message/delivery-status body, and the parser makes each one a message: 1.2 MB of empty
    blocks took 12 s to parse before this.
    """

    def __init__(self, max_parts: int) -> None:
        self._max_parts = max_parts
        self._left = max_parts + 1  # the feedparser calls its factory once to try it

    def __call__(self, policy: Policy[EmailMessage] | None = None) -> EmailMessage:
        self._left -= 1
        if self._left < 0:
            raise Unparseable(f"more than {self._max_parts} MIME parts")
        return EmailMessage(policy=policy)


# --- headers -------------------------------------------------------------------------------


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Header values as they came (unfolded, 8-bit bytes read as UTF-8), by lower-case name."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        text = str(value)
        if _SURROGATES.search(text):  # raw 8-bit bytes: RFC 6532 says UTF-8
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        headers.setdefault(name.strip().lower(), []).append("".join(text.splitlines()))
    return headers


def _structured(name: str, value: str) -> BaseHeader | None:
    try:
        header: BaseHeader = policy.default.header_factory(name, value)
        return header
    except _PARSE_ERRORS:
        return None


def _addr_spec(username: str, domain: str, addr_spec: str) -> str | None:
    if not username or not domain or _DISPLAY_CONTROLS.search(addr_spec):
        return None
    if any(ch.isspace() or ch == "\ufffd" for ch in addr_spec):
        return None
    return addr_spec


def _addresses(values: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        header = _structured("to", value)
        if isinstance(header, AddressHeader):
            found.extend(a for a in (_addr_spec(x.username, x.domain, x.addr_spec)
                                     for x in header.addresses) if a)
    return tuple(dict.fromkeys(found))


def _sender(values: list[str]) -> tuple[str | None, str | None]:
    """(addr-spec, display name) of the one sender; the address only if it parsed cleanly."""
    if len(values) != 1:
        return None, None
    header = _structured("from", values[0])
    if header is None:
        return _sender_with_bad_name(values[0])
    if not isinstance(header, AddressHeader) or len(header.addresses) != 1:
        return None, None
    sender = header.addresses[0]
    name = clean_display(sender.display_name) or None
    # Like getaddresses(strict=True): an address the parser had to guess at is no sender.
    if any(isinstance(d, errors.InvalidHeaderDefect) for d in header.defects):
        return None, name
    return _addr_spec(sender.username, sender.domain, sender.addr_spec), name


_ANGLE_ADDR = re.compile(r"^(?P<name>[^<>,]*)<(?P<addr>[^<>\s,]+)>\s*$")


def _sender_with_bad_name(value: str) -> tuple[str | None, str | None]:
    """The stdlib refuses a whole From when an encoded display name decodes to a line
    break; the address in angle brackets may still be sound, so parse it on its own."""
    found = _ANGLE_ADDR.match(value.strip())
    if found is None:
        return None, None
    address, _ = _sender([f"<{found.group('addr')}>"])
    try:
        name = str(make_header(decode_header(found.group("name").strip())))
    except _PARSE_ERRORS:
        name = found.group("name")
    return address, clean_display(name).strip('"') or None


def _date(values: list[str]) -> datetime | None:
    if not values:
        return None
    try:
        parsed = parsedate_to_datetime(_without_comments(values[0]))
    except (ValueError, TypeError, IndexError, ArithmeticError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _without_comments(value: str) -> str:
    """``value`` without (comments). RFC 5322 section 4.3 allows them inside the time, and
    parsedate then ignores the zone: RFC 3798's own "00:19:00 (EDT) -0400" came out as UTC."""
    kept: list[str] = []
    depth = 0
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)


def _first(headers: Headers, name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


# --- parts ---------------------------------------------------------------------------------


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except _PARSE_ERRORS:
        return "application/octet-stream"


def _walk(root: Message, limits: MailLimits) -> tuple[list[Message], list[str]]:
    """All parts, depth first in order, without recursion; message/* parts are not entered."""
    parts: list[Message] = []
    types: list[str] = []  # policy.default parses Content-Type afresh on every access
    stack: list[tuple[Message, int]] = [(root, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > limits.max_mime_depth:
            raise Unparseable(f"MIME nesting deeper than {limits.max_mime_depth}")
        parts.append(part)
        if len(parts) > limits.max_parts:
            raise Unparseable(f"more than {limits.max_parts} MIME parts")
        types.append(_content_type(part))
        payload = _payload(part)
        if types[-1].startswith("multipart/") and isinstance(payload, list):
            stack.extend((child, depth + 1) for child in reversed(payload)
                         if isinstance(child, Message))
    return parts, types


def _payload(part: Message) -> Any:
    """``get_payload()`` without decoding. The stdlib still decodes 8-bit text with the
    declared charset and errors="replace" here, which some codecs (idna) refuse; the
    undecoded payload is then all there is to read."""
    try:
        return part.get_payload()
    except (UnicodeError, LookupError):
        return part._payload  # type: ignore[attr-defined]


def _is_container(part: Message, kind: str) -> bool:
    return kind.startswith("multipart/") and isinstance(_payload(part), list)


def _is_body(part: Message, kind: str) -> bool:
    # A multipart whose boundary is missing or never found is text to the feedparser (and to
    # mail clients); read as an attachment, the customer's words vanished from the message
    # (CPython's msg_31 and msg_41 are such mail).
    broken_multipart = kind.startswith("multipart/") and not isinstance(_payload(part), list)
    if kind not in _BODY_TYPES and not broken_multipart:
        return False
    try:
        return part.get_content_disposition() != "attachment" and not part.get_filename()
    except _PARSE_ERRORS:
        return False


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except _PARSE_ERRORS:
        return "attachment"


def _decoded(part: Message) -> bytes:
    """A leaf's decoded payload; a message/* part's nested message(s), re-serialised."""
    try:
        payload = part.get_payload(decode=True)
    except (UnicodeError, LookupError):
        raw = _payload(part)  # see _payload: the bytes as they came
        return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    if isinstance(payload, bytes):
        return payload
    nested = _payload(part)
    if isinstance(nested, list):
        return b"".join(_serialise(m) for m in nested if isinstance(m, Message))
    return nested.encode("utf-8", "surrogateescape") if isinstance(nested, str) else b""


def _serialise(message: Message) -> bytes:
    return message.as_bytes(policy=_SERIALISE_POLICY)


def _text_of(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except _PARSE_ERRORS:
        charset = None
    return decode_text(_decoded(part), charset)


@dataclass(slots=True)
class _Attachments:
    limits: MailLimits
    kept: list[ParsedAttachment] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, part: Message, content_type: str) -> None:
        try:
            filename = clean_filename(part.get_filename())
        except _PARSE_ERRORS:
            filename = None
        label = filename or content_type
        if len(self.kept) >= self.limits.max_attachments:
            self.skipped.append(f"{label}: more than {self.limits.max_attachments} attachments")
            return
        try:
            content = _decoded(part)
            disposition = part.get_content_disposition()
        except _PARSE_ERRORS as err:
            self.skipped.append(f"{label}: unreadable ({type(err).__name__})")
            return
        if len(content) > self.limits.max_attachment_bytes:
            self.skipped.append(f"{label}: {len(content)} bytes, more than "
                                f"{self.limits.max_attachment_bytes}")
            return
        content_id = _content_id(_raw_headers(part).get("content-id"))
        self.kept.append(ParsedAttachment(
            filename=filename, content_type=content_type, size=len(content), content=content,
            content_id=content_id,
            inline=disposition == "inline" or (disposition is None and content_id is not None),
        ))


def _content_id(values: list[str] | None) -> str | None:
    if not values:
        return None
    value = clean_display(values[0]).strip("<> ")
    return value or None


# --- the whole message ---------------------------------------------------------------------


class _Reader:
    """Reads one parsed message into a ParsedMail; holds nothing beyond one call."""

    def __init__(self, message: Message, limits: MailLimits) -> None:
        self._message = message
        self._limits = limits
        self._headers = _raw_headers(message)
        self._parts, self._types = _walk(message, limits)

    def read(self, raw: bytes) -> ParsedMail:
        headers, limits = self._headers, self._limits
        from_address, from_name = _sender(headers.get("from", []))
        subject = clean_display(str(_structured("subject", _first(headers, "subject") or "")))
        text, html, truncated = self._bodies()
        attachments = _Attachments(limits)
        for part, kind in zip(self._parts, self._types, strict=True):
            if not _is_container(part, kind) and not _is_body(part, kind):
                attachments.add(part, kind)
        kind = self._auto_kind(from_address)
        return ParsedMail(
            message_id=message_id(_first(headers, "message-id")),
            in_reply_to=message_id(_first(headers, "in-reply-to")),
            references=message_ids(" ".join(headers.get("references", []))),
            subject=subject,
            from_address=from_address,
            from_name=from_name,
            to_addresses=_addresses(headers.get("to", [])),
            cc_addresses=_addresses(headers.get("cc", [])),
            date=_date(headers.get("date", [])),
            text=text,
            new_text=new_text(text),
            html=html,
            truncated=truncated,
            attachments=tuple(attachments.kept),
            skipped_attachments=tuple(attachments.skipped),
            auto_kind=kind,
            bounced_message_id=(bounced_message_id(headers, self._returned_headers())
                                if kind is AutoKind.BOUNCE else None),
            case_reference=case_reference(subject),
            content_hash=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
        )

    def _bodies(self) -> tuple[str, str | None, bool]:
        """(text, sanitised html or None, truncated) from the inline text/* parts."""
        plain: list[str] = []
        html: list[str] = []
        for part, kind in zip(self._parts, self._types, strict=True):
            if not _is_container(part, kind) and _is_body(part, kind):
                (html if kind == "text/html" else plain).append(_text_of(part))
        if not plain and not html:
            # Old mailers name inline text parts (Content-Type: text/plain; name=x.txt) with
            # no disposition: with nothing else to read, those are the message.
            plain = [_text_of(part) for part, kind in zip(self._parts, self._types, strict=True)
                     if kind == "text/plain" and _disposition(part) is None]
        safe_html: str | None = None
        html_cut = False
        if html:
            joined = "\n".join(html)
            kept, html_cut = cut_html(joined, max_chars=self._limits.max_html_chars,
                                      max_tags=self._limits.max_html_tags)
            safe_html = sanitise_html(kept)
        source = "\n".join(plain) if plain else html_to_text(safe_html or "")
        text, text_cut = clean_text(source, self._limits.max_text_chars)
        return text, safe_html, text_cut or html_cut

    def _auto_kind(self, from_address: str | None) -> AutoKind:
        try:
            report_type = self._message.get_param("report-type")
        except _PARSE_ERRORS:
            report_type = None
        return auto_kind(
            self._headers,
            content_type=self._types[0],
            report_type=report_type.lower() if isinstance(report_type, str) else None,
            part_types=self._types,
            sender_local_part=from_address.rpartition("@")[0] if from_address else None,
        )

    def _returned_headers(self) -> Iterator[Callable[[], Headers]]:
        for part, kind in zip(self._parts, self._types, strict=True):
            nested = _payload(part)
            if kind in _RETURNED_MESSAGES or kind == "message/delivery-status":
                for block in nested if isinstance(nested, list) else []:
                    if isinstance(block, Message):
                        yield functools.partial(_raw_headers, block)
            elif kind in _RETURNED_HEADERS:
                yield functools.partial(self._header_text, part)

    def _header_text(self, part: Message) -> Headers:
        text = _text_of(part)[:self._limits.max_header_bytes]
        return _raw_headers(Parser(policy=policy.compat32).parsestr(text, headersonly=True))
