"""Size and shape limits for inbound mail, checked on the raw bytes before the stdlib parses them.

Why before: with ``policy.default`` the stdlib's header parsers are the expensive part. A ``To:``
of ~8,000 encoded words takes seconds and gigabytes, a few thousand nested comments ``((((``
or 2,000 nested multiparts end in ``RecursionError`` (see shared/SECURITY.md, facts 2 and 3).
A message-size cap does not protect against any of these, so :func:`prescan` walks the raw
header blocks and MIME boundaries once, linearly, and raises :class:`Unparseable` for a message
the real parser must never see. The poller quarantines such a message with its raw bytes; it
is never retried.

The scan mirrors ``email.feedparser`` to bound what the parser will build (depth, number of
parts, header sizes): it reads each Content-Type and boundary with the stdlib's own methods,
knows that multipart/digest parts default to message/rfc822, and ends a header block at any
open boundary, as the feedparser does. Behind it, the parser's message factory refuses to build
more than ``max_parts`` messages, the caller catches the parser's own ``RecursionError``, and
the parsed tree is measured again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import errors, policy
from email.message import Message

KIB = 1024
MIB = 1024 * KIB

# Address headers get their addresses counted before anything parses them.
ADDRESS_HEADERS = frozenset({
    b"from", b"sender", b"reply-to", b"to", b"cc", b"bcc",
    b"resent-from", b"resent-sender", b"resent-to", b"resent-cc", b"resent-bcc",
})
# Only ever read with our own linear regex (never handed to ``policy.default``), and they grow
# legitimately in long threads (RFC 5322 section 3.6.4 lets clients trim, not all do), so the
# per-field limit does not apply to them; the header-block limit does.
UNPARSED_LONG_HEADERS = frozenset({b"references", b"in-reply-to"})
PARAMETER_HEADERS = frozenset({b"content-type", b"content-disposition"})
# The fields policy.default parses with its structured (recursive) parsers when they are read:
# its header registry minus Subject and the dates, which are parsed without comments. In any
# other field a "(" is just text: a customer's subject ":-((((((((((((((((((" is no attack.
STRUCTURED_HEADERS = ADDRESS_HEADERS | PARAMETER_HEADERS | frozenset({
    b"content-transfer-encoding", b"message-id", b"mime-version",
})

# The stdlib parses nested comments recursively (``_header_value_parser.get_comment``): about
# 1,000 levels raise RecursionError, and no real header nests more than a couple.
MAX_COMMENT_DEPTH = 16

# RFC 5322 section 2.2: a field name is printable ASCII except ':'; continuation lines start
# with white space. The same test as ``email.feedparser.headerRE`` (plus the mbox "From " line).
_HEADER_LINE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:|[ \t]")
# What the feedparser reads Content-Type with (policy.message_factory is EmailMessage).
_READ_POLICY = policy.default
_READ_ERRORS = (errors.MessageError, ValueError, TypeError, LookupError, IndexError,
                AttributeError, RecursionError)


@dataclass(frozen=True, slots=True, kw_only=True)
class MailLimits:
    """What one inbound message may contain; the defaults fit real customer mail."""

    max_bytes: int = 25 * MIB
    max_header_bytes: int = 64 * KIB  # one header block: the message's or one MIME part's
    max_header_line: int = 8 * KIB  # one field after unfolding
    max_addresses: int = 100  # per address header, estimated from commas
    max_encoded_words: int = 400  # per address header: the parser's slowest input
    max_params: int = 64  # parameters of one Content-Type or Content-Disposition
    max_mime_depth: int = 20
    max_parts: int = 200
    max_attachments: int = 50
    max_attachment_bytes: int = 15 * MIB  # decoded size
    max_text_chars: int = 1_000_000  # the plain text kept (longer is cut, never rejected)
    max_html_chars: int = 2_000_000  # the HTML handed to the sanitiser (longer is cut)
    max_html_tags: int = 10_000  # start and end tags handed to the sanitiser (the rest is cut)


class Unparseable(Exception):
    """The message cannot be parsed safely: quarantine the raw bytes, do not retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Block:
    """What the scan needs from one header block."""

    body_at: int
    content_type: str
    boundary: bytes | None  # b"" is a boundary too: its delimiter lines are "--"


def prescan(raw: bytes, limits: MailLimits) -> None:
    """Raise :class:`Unparseable` unless ``raw`` is within ``limits``; otherwise do nothing."""
    if len(raw) > limits.max_bytes:
        raise Unparseable(f"message of {len(raw)} bytes exceeds {limits.max_bytes}")
    if not raw.strip():
        raise Unparseable("empty message")
    # The feedparser treats CR LF, CR and LF alike as line ends; so does the scan.
    _Scanner(raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n"), limits).run()


class _Scanner:
    """One linear pass over header blocks and boundary lines, tracking the MIME stack."""

    def __init__(self, data: bytes, limits: MailLimits) -> None:
        self._data = data
        self._limits = limits
        # One entry per open container: a multipart's boundary, or None for a message/* part;
        # beside it whether that container is a multipart/digest (RFC 2046 section 5.1.5: its
        # parts without a Content-Type are message/rfc822, so their bodies are messages too).
        self._stack: list[bytes | None] = []
        self._digests: list[bool] = []
        self._parts = 0
        self._pattern: re.Pattern[bytes] | None = None
        self._pattern_for: tuple[bytes | None, ...] = ()

    def run(self) -> None:
        pos: int | None = self._enter_part(0, top=True)
        while pos is not None:
            pos = self._next_part(pos)

    def _enter_part(self, pos: int, *, top: bool, default_type: str = "text/plain") -> int:
        """Scan a part's header block (and nested message headers); return where its body is."""
        while True:
            self._parts += 1
            if self._parts > self._limits.max_parts:
                raise Unparseable(f"more than {self._limits.max_parts} MIME parts")
            block = self._header_block(pos, top=top, default_type=default_type)
            top, default_type = False, "text/plain"
            pos = block.body_at
            if block.content_type.startswith("multipart/") and block.boundary is not None:
                self._push(block.boundary, digest=block.content_type == "multipart/digest")
                return pos
            if (block.content_type.startswith("message/")
                    and block.content_type != "message/delivery-status"):
                # email.feedparser parses any message/* body as a nested message.
                self._push(None, digest=False)
                continue
            return pos

    def _push(self, entry: bytes | None, *, digest: bool) -> None:
        self._stack.append(entry)
        self._digests.append(digest)
        if len(self._stack) > self._limits.max_mime_depth:
            raise Unparseable(f"MIME nesting deeper than {self._limits.max_mime_depth}")

    def _close(self, level: int) -> None:
        """Forget the containers from ``level`` inwards."""
        del self._stack[level:]
        del self._digests[level:]

    def _next_part(self, pos: int) -> int | None:
        """Find the next boundary line of any open multipart; return the next part's start."""
        while True:
            pattern = self._boundary_pattern()
            if pattern is None:
                return None
            found = pattern.search(self._data, pos)
            if found is None:
                return None
            # With the same boundary declared at two levels the outer one wins, as in
            # email.feedparser (the inner multipart never sees its first boundary).
            level = self._stack.index(found.group(1))
            pos = found.end() + 1
            if found.group(2):  # close delimiter: the multipart ends, its epilogue follows
                self._close(level)
                continue
            self._close(level + 1)
            digest = self._digests[level]
            return self._enter_part(
                pos, top=False, default_type="message/rfc822" if digest else "text/plain")

    def _boundary_pattern(self) -> re.Pattern[bytes] | None:
        key = tuple(self._stack)
        if self._pattern is None or key != self._pattern_for:
            boundaries = sorted({b for b in self._stack if b is not None}, key=len, reverse=True)
            self._pattern_for = key
            self._pattern = (
                re.compile(
                    rb"^--(" + b"|".join(re.escape(b) for b in boundaries) + rb")(--)?[ \t]*$",
                    re.M,
                )
                if boundaries else None
            )
        return self._pattern

    def _header_block(self, start: int, *, top: bool, default_type: str) -> _Block:
        data, limit = self._data, self._limits.max_header_bytes
        boundary = self._boundary_pattern()
        fields: list[list[bytes]] = []  # each field's lines, joined once (unfolding)
        pos = start
        while pos < len(data):
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end
            if end - start > limit:
                raise Unparseable(f"a header block exceeds {limit} bytes")
            line = data[pos:end]
            if not line:
                pos = end + 1
                break
            if boundary is not None and boundary.match(data, pos):
                # The feedparser's input ends at any open boundary, in headers too (a boundary
                # such as "x:" would otherwise pass for a header field here).
                break
            if not _HEADER_LINE.match(line):
                break  # no blank line: the body starts here (MissingHeaderBodySeparatorDefect)
            if line[:1] in b" \t" and fields:
                fields[-1].append(line)
            else:
                fields.append([line])
            pos = end + 1
        return self._check_fields([b"".join(f) for f in fields], body_at=pos, top=top,
                                  default_type=default_type)

    def _check_fields(self, fields: list[bytes], *, body_at: int, top: bool,
                      default_type: str) -> _Block:
        content_type: bytes | None = None
        for field in fields:
            name, _, value = field.partition(b":")
            name = name.strip().lower()
            if name not in UNPARSED_LONG_HEADERS and len(field) > self._limits.max_header_line:
                raise Unparseable(
                    f"header {_show(name)} exceeds {self._limits.max_header_line} bytes")
            if (name in STRUCTURED_HEADERS and value.count(b"(") > MAX_COMMENT_DEPTH
                    and _comment_depth(value) > MAX_COMMENT_DEPTH):
                raise Unparseable(f"header {_show(name)} nests comments too deeply")
            if name in PARAMETER_HEADERS and value.count(b";") > self._limits.max_params:
                raise Unparseable(f"header {_show(name)} has too many parameters")
            if top and name in ADDRESS_HEADERS:
                self._check_addresses(name, value)
            if name == b"content-type" and content_type is None:
                content_type = value
        # Read only now: the checks above guard the stdlib's parser from this field.
        kind, boundary = _mime_type(content_type, default_type)
        return _Block(body_at, kind, boundary)

    def _check_addresses(self, name: bytes, value: bytes) -> None:
        if _count_addresses(value) > self._limits.max_addresses:
            raise Unparseable(
                f"header {_show(name)} has more than {self._limits.max_addresses} addresses")
        if value.count(b"=?") > self._limits.max_encoded_words:
            raise Unparseable(f"header {_show(name)} has more than "
                              f"{self._limits.max_encoded_words} encoded words")


def _mime_type(value: bytes | None, default_type: str) -> tuple[str, bytes | None]:
    """(content type, boundary) exactly as email.feedparser will read them.

    It reads them with ``Message.get_content_type`` and ``get_boundary``, so the scan does too.
    A regex of our own disagreed with them on RFC 2231 (``boundary*=``, ``boundary*0=``), on a
    ";" inside another parameter's quotes and on a trailing comment: the scan then saw one part
    where the parser built hundreds of thousands (3 MB took 40 s), past ``max_parts``.
    """
    part = Message(policy=_READ_POLICY)
    part.set_default_type(default_type)
    if value is not None:  # as policy.header_source_parse stores it
        part.set_raw("Content-Type", value.decode("ascii", "surrogateescape").lstrip(" \t"))
    try:
        kind = part.get_content_type()
        boundary = part.get_boundary() if kind.startswith("multipart/") else None
    except _READ_ERRORS as err:  # the parser would fail on it as well
        raise Unparseable(f"unreadable Content-Type ({type(err).__name__})") from err
    if boundary is None:
        return kind, None
    try:
        # The feedparser compares with lines of ASCII (other bytes as surrogates); a boundary
        # with any other character never matches there, so it never does here either.
        return kind, boundary.encode("ascii")
    except UnicodeEncodeError:
        return kind, None


def _count_addresses(value: bytes) -> int:
    """Commas outside quoted strings and comments, plus one: an upper bound of the addresses."""
    if b'"' not in value and b"(" not in value:
        return value.count(b",") + 1
    count, depth, quoted, escaped = 1, 0, False, False
    for byte in value:
        if escaped:
            escaped = False
        elif byte == 0x5C:  # backslash
            escaped = True
        elif quoted:
            quoted = byte != 0x22
        elif byte == 0x22:
            quoted = depth == 0
        elif byte == 0x28:
            depth += 1
        elif byte == 0x29 and depth:
            depth -= 1
        elif byte == 0x2C and depth == 0:
            count += 1
    return count


def _comment_depth(value: bytes) -> int:
    deepest = depth = 0
    for byte in value:
        if byte == 0x28:
            depth += 1
            deepest = max(deepest, depth)
        elif byte == 0x29 and depth:
            depth -= 1
    return deepest


def _show(name: bytes) -> str:
    return repr(name[:40].decode("ascii", "replace"))
