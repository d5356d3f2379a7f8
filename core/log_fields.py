"""Fields every log line carries while one piece of work is in hand: the HTTP request's id,
the contact and case an event is about.

Held in a context variable, so they follow the work across ``await`` and into the tasks it
starts, and never leak into the next request on the same connection (each ``with`` puts
back what was there before). The JSON log formatter (``workers/logs.py``) adds them to
every line; a field given explicitly to one log call wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

_NONE: Mapping[str, str] = MappingProxyType({})  # read-only: a shared default is safe
_FIELDS: ContextVar[Mapping[str, str]] = ContextVar("switchboard_log_fields", default=_NONE)

# The payload keys of an event that name what it is about (every event names one of them).
EVENT_SUBJECTS = ("contact_id", "case_id", "customer_id", "work_item_id", "offer_id")
MAX_VALUE_CHARS = 128  # values may come from a URL: a log line is no place for a novel


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Add these fields (those that are not None) to every line logged inside the block."""
    token = _FIELDS.set({**_FIELDS.get(), **{
        name: str(value)[:MAX_VALUE_CHARS] for name, value in fields.items()
        if value is not None}})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def current_log_fields() -> Mapping[str, str]:
    return _FIELDS.get()


def event_log_fields(event_id: str, payload: Mapping[str, Any]) -> dict[str, object]:
    """The fields for the handling of one event: its id and the ids it is about."""
    fields: dict[str, object] = {"event_id": event_id}
    for key in EVENT_SUBJECTS:
        value = payload.get(key)
        if isinstance(value, str) and value:
            fields[key] = value
    return fields
