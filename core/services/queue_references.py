"""What still refers to a queue, so that removing it strands no work and breaks no route.

A queue is removed (archived) only when nothing live refers to it:

* work waiting in it, being offered from it, or held by an agent who took it from there;
* the published routing rules (the default queue, a rule's action);
* configuration documents that name it: the desk's scripts, knowledge snippets and
  dispositions, and what the channels keep (web forms);
* what a channel knows better than the database: the phone menu in effect (the demo menu
  when none was saved).

Each finder answers in words a supervisor can act on ("the published routing rules,
version 3: rules > klachten"). The core's finders are here; the channels' are handed in by
the composition root, so the core does not know the channels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from core.ports import UnitOfWork

ReferenceFinder = Callable[[UnitOfWork, str], Awaitable[list[str]]]

# The keys a document names a queue by; their parents say where.
_ONE = frozenset({"queue", "default_queue", "queue_id"})
_MANY = frozenset({"queues", "queue_ids"})
_LABELS = ("id", "code", "name", "key")
_HOLDERS = frozenset({"actions", "route"})  # say "rule X", not "rule X > actions"


def mentions(document: object, queue_id: str) -> list[str]:
    """Where in a JSON document the queue is named: one ">"-joined place per mention, list
    items told by their id, code or name (else their position)."""
    found: list[str] = []
    _walk(document, queue_id, (), found)
    return found


def _walk(node: object, queue_id: str, path: tuple[str, ...], found: list[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = (*path, str(key))
            if (key in _ONE and value == queue_id) or \
                    (key in _MANY and isinstance(value, Sequence) and queue_id in value):
                place = path[:-1] if path and path[-1] in _HOLDERS else path
                found.append(" > ".join(place) if place else str(key))
            else:
                _walk(value, queue_id, here, found)
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for index, value in enumerate(node):
            name = next((str(value[k]) for k in _LABELS
                         if isinstance(value, Mapping) and value.get(k)), str(index + 1))
            _walk(value, queue_id, (*path, name), found)


async def live_work(uow: UnitOfWork, queue_id: str) -> list[str]:
    count = await uow.work.live_in_queue(queue_id)
    if not count:
        return []
    return [f"{count} contact{'s' if count != 1 else ''} waiting in it or being handled "
            "from it"]


async def published_rules(uow: UnitOfWork, queue_id: str) -> list[str]:
    activations = await uow.routing.activations(limit=1)
    active = await uow.routing.get_version(activations[0].version) if activations else None
    if active is None:
        return []
    places = mentions(active.document, queue_id)
    return [f"the published routing rules, version {active.number} ({'; '.join(places)})"] \
        if places else []


def documents(labels: Mapping[str, str]) -> ReferenceFinder:
    """A finder over stored configuration documents, each told by its label."""
    async def find(uow: UnitOfWork, queue_id: str) -> list[str]:
        stored = await uow.routing.get_documents(list(labels))
        found: list[str] = []
        for key, label in labels.items():
            places = mentions(stored[key].document, queue_id) if key in stored else []
            if places:
                found.append(f"{label} ({'; '.join(places)})")
        return found
    return find


async def references(uow: UnitOfWork, queue_id: str,
                     finders: Sequence[ReferenceFinder]) -> list[str]:
    found: list[str] = []
    for finder in finders:
        found.extend(await finder(uow, queue_id))
    return found
