"""Identifiers for domain records.

Ids are time-ordered (48-bit millisecond timestamp, then 80 random bits, like a ULID in
hex) so that B-tree indexes on PostgreSQL and SQLite stay append-mostly, and they carry a
short prefix so a support engineer can tell a customer id from a case id at a glance.
"""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{millis:012x}{secrets.token_hex(10)}"
