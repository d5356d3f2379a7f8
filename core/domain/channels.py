"""Channels and the opaque reference a channel keeps for its own records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    WEBFORM = "webform"
    # Logged by an agent rather than arriving through an adapter.
    VISIT = "visit"
    LETTER = "letter"
    SOCIAL = "social"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelRef:
    """What the channel calls this interaction (a Message-ID, a CallSid, a conversation id).

    The domain treats it as opaque; only the adapter that issued it interprets it."""

    channel: Channel
    external_id: str
