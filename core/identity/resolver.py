"""Decide which customer an inbound contact belongs to, from the identifiers it carries.

The caller normalises what the contact carries (:mod:`core.identity.normalise`), looks up
who already holds those keys (:func:`lookup_keys`, :func:`skeletons`) and hands the answer
to :func:`resolve`, which is pure: the same inputs always give the same decision.

What may link a contact to an existing customer, and what may only raise a flag, follows
SECURITY.md ("Identity claims"):

* Only *matchable* keys select a customer: valid, and not *claimed*. A claim is an
  identifier typed by someone we cannot authenticate (a pre-chat form); if a claim could
  match, a chat visitor typing someone else's e-mail would be shown that customer's
  history. A claim is stored, shown to the agent, and flagged when someone else holds it.
* A look-alike (same skeleton: confusable or invisible characters) is a *possible
  duplicate* for a supervisor, never a match.
* A key another customer already holds is never copied onto the chosen customer: two
  customers holding one key would be merged, silently, by the next contact.
* Names are no input at all: two people share a name all the time.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from core.domain.customer import IdentifierKind
from core.identity.normalise import NormalisedIdentifier, look_alike_characters

Key = tuple[IdentifierKind, str]
_T = TypeVar("_T")

# How strongly one key identifies a person. A CRM id is issued to exactly one customer; an
# e-mail address is personal more often than a phone number (households, switchboards); a
# chat visitor id is a browser cookie.
KIND_WEIGHTS: Mapping[IdentifierKind, int] = {
    IdentifierKind.CRM: 100,
    IdentifierKind.EMAIL: 70,
    IdentifierKind.PHONE: 60,
    IdentifierKind.CHAT_VISITOR: 50,
}
VERIFIED_BONUS = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """One identifier a contact carries.

    ``claimed``: typed by someone we cannot authenticate; never used to match. It wins over
    ``verified`` should a caller set both. ``verified``: confirmed (a CRM id the caller
    confirmed on the phone); it weighs more when choosing between candidates.
    """

    identifier: NormalisedIdentifier
    claimed: bool = False
    verified: bool = False

    @property
    def key(self) -> Key | None:
        """The matching key, ``None`` for an invalid identifier."""
        normalized = self.identifier.normalized
        return None if normalized is None else (self.identifier.kind, normalized)

    @property
    def matchable(self) -> bool:
        return self.key is not None and not self.claimed


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateSuspicion:
    """Another customer that may be this contact's customer; a supervisor decides."""

    other_customer_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """The decision: whom the contact belongs to and what to record about it.

    ``customer_id`` is ``None`` when a new customer is to be created. ``matched_on`` names
    the keys the chosen customer holds (``"email:jan@example.com"``); ``seen_again`` is
    the same keys as tuples, whose ``last_seen_at`` the caller touches. ``to_attach`` are
    the identifiers to add to the chosen (or new) customer; invalid ones and claims among
    them are to be stored flagged, and deduplicated by the caller against what is stored.
    """

    customer_id: str | None
    matched_on: tuple[str, ...]
    to_attach: tuple[Observed, ...]
    seen_again: tuple[Key, ...]
    duplicates: tuple[DuplicateSuspicion, ...]


def matchable_keys(observed: Sequence[Observed]) -> list[Key]:
    """Keys that may select a customer: valid and not claimed, de-duplicated, in order."""
    return _unique(o.key for o in _collapse(observed) if o.matchable)


def lookup_keys(observed: Sequence[Observed]) -> list[Key]:
    """Every valid key, claims included: the caller fetches the holders of each."""
    return _unique(o.key for o in observed)


def skeletons(observed: Sequence[Observed]) -> list[str]:
    """The look-alike keys the contact carries: the caller fetches their holders.

    A plain address is its own look-alike key, so a stored look-alike of it (whose
    skeleton is this address) is flagged in that direction too."""
    return _unique(_look_alike_key(o) for o in observed)


def _look_alike_key(o: Observed) -> str | None:
    if o.identifier.skeleton is not None:
        return o.identifier.skeleton
    if o.identifier.kind is IdentifierKind.EMAIL:
        return o.identifier.normalized
    return None


def resolve(
    observed: Sequence[Observed],
    *,
    holders: Mapping[Key, Sequence[str]],
    skeleton_holders: Mapping[str, Sequence[str]],
) -> Resolution:
    """Choose the customer the contact belongs to, or decide to create one.

    ``holders`` maps a key to the active customers holding it as a matchable identifier;
    ``skeleton_holders`` maps a skeleton to the active customers holding an identifier
    whose key or skeleton equals it. The best-scoring candidate wins (the sum of the
    weights of the keys it holds); ties go to the strongest single key, then to the oldest
    (smallest) customer id. Everyone else holding one of the keys, a claimed key or a
    look-alike becomes a :class:`DuplicateSuspicion`, never a merge.
    """
    contact = _collapse(observed)
    chosen = _choose(contact, holders)
    held = [key for _, key in _keyed(contact) if chosen in _ids(holders, key)]
    reasons: dict[str, list[str]] = {}
    _note_shared_keys(contact, chosen, holders, reasons)
    _note_claims(contact, chosen, holders, reasons)
    _note_look_alikes(contact, chosen, holders, skeleton_holders, reasons)
    return Resolution(
        customer_id=chosen,
        matched_on=tuple(_label(key) for key in held),
        to_attach=tuple(o for o in contact if _attachable(o, chosen, holders)),
        seen_again=tuple(held),
        duplicates=tuple(
            DuplicateSuspicion(other_customer_id=other, reason="; ".join(reasons[other]))
            for other in sorted(reasons)
        ),
    )


def weight(observation: Observed) -> int:
    """How strongly one observed key identifies its holder (0 when it may not match)."""
    if not observation.matchable:
        return 0
    bonus = VERIFIED_BONUS if observation.verified else 0
    return KIND_WEIGHTS[observation.identifier.kind] + bonus


def _choose(contact: Sequence[Observed], holders: Mapping[Key, Sequence[str]]) -> str | None:
    scores: dict[str, int] = {}
    strongest: dict[str, int] = {}
    for o, key in _keyed(contact):
        for customer_id in _ids(holders, key):
            scores[customer_id] = scores.get(customer_id, 0) + weight(o)
            strongest[customer_id] = max(strongest.get(customer_id, 0), weight(o))
    if not scores:
        return None
    return min(scores, key=lambda cid: (-scores[cid], -strongest[cid], cid))


def _attachable(o: Observed, chosen: str | None, holders: Mapping[Key, Sequence[str]]) -> bool:
    if o.key is None:
        return True  # invalid: stored for the agent's eyes, never matched
    owners = _ids(holders, o.key)
    if o.claimed:
        # A claim is stored flagged and never matches, so it may sit beside another
        # customer's matchable copy of the key without merging anyone.
        return chosen not in owners
    # Not held by the chosen one, and not by anybody else either: copying another
    # customer's key would merge the two on the next contact.
    return not owners


def _note_shared_keys(
    contact: Sequence[Observed],
    chosen: str | None,
    holders: Mapping[Key, Sequence[str]],
    reasons: dict[str, list[str]],
) -> None:
    if chosen is None:
        return  # creating: nobody holds a matchable key of this contact
    keys = [key for _, key in _keyed(contact)]
    ours = [_describe(key) for key in keys if chosen in _ids(holders, key)]
    theirs: dict[str, list[str]] = {}
    for key in keys:
        for other in _ids(holders, key):
            if other != chosen:
                theirs.setdefault(other, []).append(_describe(key))
    for other, described in theirs.items():
        reasons.setdefault(other, []).append(
            f"contact carried {', '.join(ours)} of this customer"
            f" and {', '.join(described)} of {other}"
        )


def _note_claims(
    contact: Sequence[Observed],
    chosen: str | None,
    holders: Mapping[Key, Sequence[str]],
    reasons: dict[str, list[str]],
) -> None:
    for o in contact:
        if o.key is None or not o.claimed:
            continue
        for other in _ids(holders, o.key):
            if other != chosen:
                reasons.setdefault(other, []).append(
                    f"unverified claim of {_describe(o.key)} held by {other}")


def _note_look_alikes(
    contact: Sequence[Observed],
    chosen: str | None,
    holders: Mapping[Key, Sequence[str]],
    skeleton_holders: Mapping[str, Sequence[str]],
    reasons: dict[str, list[str]],
) -> None:
    for o in contact:
        skeleton = _look_alike_key(o)
        if skeleton is None:
            continue
        # Holders of the very key are no look-alike: the rules above already cover them.
        exact = _ids(holders, o.key)
        others = [c for c in _ids(skeleton_holders, skeleton) if c != chosen and c not in exact]
        if not others:
            continue
        characters = ", ".join(
            f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"
            for ch in look_alike_characters(o.identifier.value))
        reason = (
            f"look-alike of {o.identifier.kind.value} {_visible(o.identifier.value)}"
            f" (confusable or invisible characters: {characters})" if characters else
            f"{o.identifier.kind.value} {_visible(o.identifier.value)} has a look-alike"
            " (the other differs by confusable or invisible characters)"
        )
        for other in others:
            reasons.setdefault(other, []).append(reason)


def _collapse(observed: Sequence[Observed]) -> list[Observed]:
    """One observation per key, in order; invalid ones are told apart by their value.

    A key seen both typed into a form and, say, in a mail header is matchable: the header
    is not a claim. It is verified if any unclaimed sighting was.
    """
    by_key: dict[object, Observed] = {}
    for o in observed:
        ident: object = o.key or ("invalid", o.identifier.kind, o.identifier.value)
        seen = by_key.get(ident)
        by_key[ident] = o if seen is None else Observed(
            identifier=seen.identifier,
            claimed=seen.claimed and o.claimed,
            verified=any(x.verified and not x.claimed for x in (seen, o)),
        )
    return list(by_key.values())


def _keyed(contact: Sequence[Observed]) -> list[tuple[Observed, Key]]:
    """The matchable observations with their keys."""
    return [(o, o.key) for o in contact if o.key is not None and not o.claimed]


def _ids(mapping: Mapping[_T, Sequence[str]], key: _T | None) -> list[str]:
    """The customer ids ``mapping`` holds for ``key``, de-duplicated, in order."""
    return [] if key is None else list(dict.fromkeys(mapping.get(key, ())))


def _unique(items: Iterable[_T | None]) -> list[_T]:
    return [item for item in dict.fromkeys(items) if item is not None]


def _label(key: Key) -> str:
    return f"{key[0].value}:{key[1]}"


def _describe(key: Key) -> str:
    return f"{key[0].value} {key[1]}"


def _visible(value: str) -> str:
    """``value`` with invisible characters spelled out, so a supervisor can see them."""
    return "".join(ch if ch.isprintable() else f"<U+{ord(ch):04X}>" for ch in value)
