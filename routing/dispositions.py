"""Disposition codes: what an agent records at wrap-up about how a contact went.

Supervisors keep the list as a configuration document (``desk.dispositions``): each code
with a label in Dutch and English and, optionally, the queues it applies to (none: every
queue). An agent's wrap-up must name a code of the list that applies to the work's queue;
anything else is refused with the codes that would do. ``auto`` is reserved: it marks work
wrapped up by the system when the after-contact work time ran out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.domain.errors import InvalidInput
from core.domain.routing import ConfigKey
from core.ports import UnitOfWork

AUTO = "auto"
LANGUAGES = ("nl", "en")
MAX_CODES = 200
MAX_LABEL = 100
_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
_KNOWN = frozenset({"code", "labels", "queues"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Disposition:
    code: str
    labels: Mapping[str, str]  # "nl" and "en"
    queue_ids: tuple[str, ...] = ()  # empty: every queue

    def applies_to(self, queue_id: str | None) -> bool:
        return not self.queue_ids or queue_id in self.queue_ids

    def to_document(self) -> dict[str, Any]:
        return {"code": self.code, "labels": dict(self.labels), "queues": list(self.queue_ids)}


def _d(code: str, nl: str, en: str) -> Disposition:
    return Disposition(code=code, labels={"nl": nl, "en": en})


@dataclass(frozen=True, slots=True)
class Dispositions:
    items: tuple[Disposition, ...] = field(default_factory=tuple)

    @classmethod
    def default(cls) -> Dispositions:
        return cls((
            _d("answered", "Vraag beantwoord", "Question answered"),
            _d("information", "Informatie gegeven", "Information given"),
            _d("callback_planned", "Terugbelafspraak gemaakt", "Callback planned"),
            _d("follow_up", "Opvolging nodig", "Follow-up needed"),
            _d("escalated", "Geëscaleerd", "Escalated"),
            _d("complaint_registered", "Klacht geregistreerd", "Complaint registered"),
            _d("no_contact", "Geen contact gekregen", "Could not reach the customer"),
        ))

    def for_queue(self, queue_id: str | None) -> list[Disposition]:
        return [d for d in self.items if d.applies_to(queue_id)]

    def check(self, code: str, queue_id: str | None) -> str:
        """The code, when an agent may record it on work in ``queue_id``."""
        allowed = [d.code for d in self.for_queue(queue_id)]
        if code not in allowed:
            raise InvalidInput({"disposition": f"{code!r} is not a disposition code here; "
                                               f"use one of {', '.join(allowed) or '(none)'}"})
        return code

    def to_document(self) -> list[dict[str, Any]]:
        return [d.to_document() for d in self.items]

    @classmethod
    def from_document(cls, document: object, *,
                      queue_ids: set[str] | None = None) -> Dispositions:
        """Parse a stored or submitted list; ``queue_ids`` (when given) are the queues a
        code may name. Every problem is reported at once, by path."""
        if not isinstance(document, list):
            raise InvalidInput({"dispositions": "must be a list of disposition codes"})
        if len(document) > MAX_CODES:
            raise InvalidInput({"dispositions": f"at most {MAX_CODES} codes"})
        reasons: dict[str, str] = {}
        found: list[Disposition] = []
        seen: set[str] = set()
        for index, item in enumerate(document):
            parsed = _one(item, f"dispositions[{index}]", reasons, queue_ids)
            if parsed is None:
                continue
            if parsed.code in seen:
                reasons[f"dispositions[{index}].code"] = f"{parsed.code!r} is listed twice"
            seen.add(parsed.code)
            found.append(parsed)
        if reasons:
            raise InvalidInput(reasons)
        return cls(tuple(found))


def _one(item: object, path: str, reasons: dict[str, str],
         queue_ids: set[str] | None) -> Disposition | None:
    if not isinstance(item, Mapping):
        reasons[path] = "must be an object with code, labels and queues"
        return None
    before = len(reasons)
    for key in item:
        if key not in _KNOWN:
            reasons[f"{path}.{key}"] = f"unknown field; expected one of {', '.join(sorted(_KNOWN))}"
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        reasons[f"{path}.code"] = ("must be 1 to 40 lower-case letters, digits, '_', '.' or "
                                   "'-', starting with a letter or digit")
    elif code == AUTO:
        reasons[f"{path}.code"] = f"{AUTO!r} is reserved for automatic wrap-up"
    labels = _labels(item.get("labels"), f"{path}.labels", reasons)
    queues = _queues(item.get("queues", []), f"{path}.queues", reasons, queue_ids)
    if len(reasons) > before:
        return None
    assert isinstance(code, str)
    return Disposition(code=code, labels=labels, queue_ids=queues)


def _labels(raw: object, path: str, reasons: dict[str, str]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        reasons[path] = f"must give a label in each of {', '.join(LANGUAGES)}"
        return {}
    labels: dict[str, str] = {}
    for language in raw:
        if language not in LANGUAGES:
            reasons[f"{path}.{language}"] = f"labels are in {' and '.join(LANGUAGES)}"
    for language in LANGUAGES:
        text = raw.get(language)
        if not isinstance(text, str) or not text.strip():
            reasons[f"{path}.{language}"] = "required"
        elif len(text.strip()) > MAX_LABEL:
            reasons[f"{path}.{language}"] = f"at most {MAX_LABEL} characters"
        else:
            labels[language] = text.strip()
    return labels


def _queues(raw: object, path: str, reasons: dict[str, str],
            known: set[str] | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str) \
            or not all(isinstance(q, str) and q for q in raw):
        reasons[path] = "must be a list of queue ids (empty: every queue)"
        return ()
    if known is not None:
        for n, queue_id in enumerate(raw):
            if queue_id not in known:
                reasons[f"{path}[{n}]"] = f"no queue {queue_id!r}"
    return tuple(dict.fromkeys(raw))


async def dispositions(uow: UnitOfWork) -> Dispositions:
    stored = await uow.routing.get_document(ConfigKey.DISPOSITIONS)
    return Dispositions.from_document(stored.document) if stored else Dispositions.default()
