"""The key that says "this message is already stored", whatever mailbox or resync it came by.

Message-ID alone is not it: senders choose it, some reuse it, some providers rewrite it
(shared/SECURITY.md fact 8). The raw bytes alone are not it either: the same message in
support@ and complaints@ differs in the trace headers each delivery prepends. So the key is
the Message-ID together with a hash of the message minus those per-delivery headers.
"""

from __future__ import annotations

import hashlib
import re

# Headers a receiving system adds per delivery; everything else was written by the sender.
_TRACE_HEADERS = frozenset({
    b"received", b"return-path", b"delivered-to", b"x-original-to", b"x-delivered-to",
    b"envelope-to", b"x-envelope-from", b"x-envelope-to", b"authentication-results",
    b"arc-seal", b"arc-message-signature", b"arc-authentication-results",
    b"received-spf", b"x-received", b"status", b"x-status", b"x-keywords", b"x-uid",
})
_TRACE_PREFIXES = (b"x-spam-", b"x-virus-", b"x-rspamd-", b"x-ms-exchange-organization-")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def dedupe_key(raw: bytes, message_id: str | None) -> str:
    """``sha256:<hex>`` of the Message-ID and the message without its trace headers."""
    found = _HEADER_END.search(raw)
    head, body = (raw[:found.start()], raw[found.end():]) if found else (raw, b"")
    digest = hashlib.sha256()
    digest.update((message_id or "").encode("utf-8", "replace") + b"\x00")
    for field in _fields(head):
        name = field.split(b":", 1)[0].strip().lower()
        if name in _TRACE_HEADERS or name.startswith(_TRACE_PREFIXES):
            continue
        digest.update(field.rstrip() + b"\n")
    digest.update(b"\x00" + body.replace(b"\r\n", b"\n").rstrip())
    return f"sha256:{digest.hexdigest()}"


def _fields(head: bytes) -> list[bytes]:
    """Header fields, unfolded (a line starting with white space continues the last)."""
    fields: list[bytes] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b" " + line.strip()
        else:
            fields.append(line)
    return fields
