"""Opaque keyset-pagination cursors: (timestamp, id) of the last row on a page."""

from __future__ import annotations

import base64
from datetime import datetime

from core.domain.errors import InvalidInput


def encode(at: datetime, record_id: str) -> str:
    raw = f"{at.isoformat()}|{record_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, record_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(at)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidInput({"cursor": "not a cursor this API issued"}) from err
    if parsed.tzinfo is None:
        raise InvalidInput({"cursor": "not a cursor this API issued"})
    return parsed, record_id
