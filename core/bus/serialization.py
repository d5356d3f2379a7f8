"""The wire format of an :class:`Envelope`: one strict JSON object per event.

Both buses carry envelopes as this text (the Redis stream field ``e``; the in-process
queues too, so the fake rejects what the real broker would). The format is::

    {"id": "...", "topic": "...", "payload": {...}, "occurred_at": "2024-05-01T12:00:00+02:00"}

``occurred_at`` must carry a UTC offset: a naive time is ambiguous once it leaves the
process, so it is refused on the way out and on the way in. Anything that does not decode
to this shape raises :class:`MalformedEnvelope`, which the consumers dead-letter at once
(retrying cannot fix bad bytes).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.domain.events import Envelope

MALFORMED_TOPIC = "bus.malformed"
"""Topic of the stand-in envelope that describes an undecodable dead letter."""


class MalformedEnvelope(ValueError):
    """Bytes on the wire that are not an envelope; never worth a retry."""


def to_dict(envelope: Envelope) -> dict[str, Any]:
    if envelope.occurred_at.utcoffset() is None:
        raise ValueError(f"envelope {envelope.id}: occurred_at must be timezone-aware")
    return {
        "id": envelope.id,
        "topic": envelope.topic,
        "payload": envelope.payload,
        "occurred_at": envelope.occurred_at.isoformat(),
    }


def from_dict(data: object) -> Envelope:
    if not isinstance(data, dict):
        raise MalformedEnvelope(f"expected a JSON object, got {type(data).__name__}")
    envelope_id, topic, payload, occurred_at = (
        data.get(name) for name in ("id", "topic", "payload", "occurred_at"))
    if not (isinstance(envelope_id, str) and isinstance(topic, str)
            and isinstance(occurred_at, str)):
        raise MalformedEnvelope("'id', 'topic' and 'occurred_at' must be strings")
    if not isinstance(payload, dict):
        raise MalformedEnvelope("'payload' must be a JSON object")
    try:
        when = datetime.fromisoformat(occurred_at)
    except ValueError as err:
        raise MalformedEnvelope(f"'occurred_at' is not ISO-8601: {err}") from err
    if when.utcoffset() is None:
        raise MalformedEnvelope("'occurred_at' has no timezone")
    return Envelope(id=envelope_id, topic=topic, payload=payload, occurred_at=when)


def to_json(envelope: Envelope) -> str:
    """Compact, strict JSON (no NaN/Infinity, which other JSON parsers reject)."""
    return json.dumps(to_dict(envelope), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))


def from_json(raw: str | bytes | None) -> Envelope:
    if raw is None:
        raise MalformedEnvelope("no envelope field")
    try:
        data = json.loads(raw)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedEnvelope(f"not JSON: {err}") from err
    return from_dict(data)
