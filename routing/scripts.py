"""Scripts and knowledge snippets for the screen-pop: the documents supervisors keep, and
the pure choice of what to show for one contact (docs/scripts.md).

* A **script** is written for a queue, a case type and a language, each optional. The most
  specific script matching the contact wins, in this fallback order:
  (queue, type, language) → (queue, type) → (queue, language) → (queue) → (type, language)
  → (type) → (language) → a script for everything. Ties go to the first in the document.
  When nothing matches in the contact's language, the same choice is made again ignoring
  language (a script in the other language is better than none).
* A **snippet** is suggested when something about the contact points to it: one of its
  ``keywords`` among the keywords the classifier fired (3 points) or in the contact's own
  text (2), one of its ``tags`` on the case (2), the case's type among its ``case_types``
  (1), the case's queue among its ``queues`` (1). A snippet in another language is never
  suggested. The best scores come first; ties keep the document's order.
* Texts are plain text with ``{customer.first_name}``-style placeholders (the names in
  ``core.services.screen_pop.PLACEHOLDERS``), filled in by :func:`render` from plain
  strings: a template cannot reach an attribute, an index or anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from core.domain.contact import CaseType
from core.domain.errors import InvalidInput
from core.domain.routing import ConfigDocument
from core.services.screen_pop import (
    PLACEHOLDERS,
    KnowledgeSnippet,
    PopContext,
    SuggestedScript,
)
from routing.facts import plain

MAX_SCRIPTS = 500
MAX_SNIPPETS = 1_000
KEYWORD_POINTS, TEXT_POINTS, TAG_POINTS, TYPE_POINTS, QUEUE_POINTS = 3, 2, 2, 1, 1

_M = TypeVar("_M", bound=BaseModel)
_WORD = re.compile(r"[\w']+")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+\.[A-Za-z_]+)\}")
# Plain text: any character but the control characters other than tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _plain_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(value):
        raise PydanticCustomError("plain_text", "control characters are not allowed")
    unknown = sorted({m for m in _PLACEHOLDER.findall(value) if m not in PLACEHOLDERS})
    if unknown:
        raise PydanticCustomError(
            "placeholder", "unknown placeholder {unknown}; use {known}",
            {"unknown": ", ".join("{" + u + "}" for u in unknown),
             "known": ", ".join("{" + k + "}" for k in PLACEHOLDERS)})
    return value


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.username \
            or parts.password or any(ch.isspace() for ch in value):
        raise PydanticCustomError("url", "must be an http(s) address without user or password")
    return value


Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,59}$")]
QueueId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
ScriptText = Annotated[str, StringConstraints(min_length=1, max_length=4_000),
                       AfterValidator(_plain_text)]
SnippetText = Annotated[str, StringConstraints(min_length=1, max_length=2_000),
                        AfterValidator(_plain_text)]
Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(_url)]
Language = Literal["nl", "en"]
CaseTypeName = Literal["question", "complaint", "request"]


class ScriptDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Id
    title: Title
    text: ScriptText
    queue: QueueId | None = None
    case_type: CaseTypeName | None = None
    language: Language | None = None


class SnippetDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Id
    title: Title
    text: SnippetText
    url: Url | None = None
    keywords: tuple[Word, ...] = Field(default=(), max_length=50)
    tags: tuple[Word, ...] = Field(default=(), max_length=20)
    case_types: tuple[CaseTypeName, ...] = Field(default=(), max_length=3)
    queues: tuple[QueueId, ...] = Field(default=(), max_length=50)
    language: Language | None = None


class Scripts(BaseModel):
    """The ``desk.scripts`` document."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scripts: tuple[ScriptDef, ...] = Field(default=(), max_length=MAX_SCRIPTS)


class Knowledge(BaseModel):
    """The ``desk.knowledge`` document."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    snippets: tuple[SnippetDef, ...] = Field(default=(), max_length=MAX_SNIPPETS)


# --- checks beyond one item ------------------------------------------------------------------


def check_scripts(scripts: Scripts, *, queues: Iterable[str]) -> None:
    """Raise ``InvalidInput`` (paths as ``scripts.2.id``) for duplicate ids, two scripts
    for the same criteria (the second could never be chosen) and unknown queues."""
    known = set(queues)
    reasons: dict[str, str] = {}
    ids: dict[str, int] = {}
    criteria: dict[tuple[str | None, str | None, str | None], int] = {}
    for n, s in enumerate(scripts.scripts):
        if s.id in ids:
            reasons[f"scripts.{n}.id"] = f"the same id as scripts.{ids[s.id]}"
        ids.setdefault(s.id, n)
        key = (s.queue, s.case_type, s.language)
        if key in criteria:
            reasons[f"scripts.{n}"] = (f"the same queue, case_type and language as "
                                       f"scripts.{criteria[key]}: it would never be chosen")
        criteria.setdefault(key, n)
        if s.queue is not None and s.queue not in known:
            reasons[f"scripts.{n}.queue"] = f"no queue {s.queue!r}"
    if reasons:
        raise InvalidInput(reasons)


def check_knowledge(knowledge: Knowledge, *, queues: Iterable[str]) -> None:
    """Raise ``InvalidInput`` for duplicate ids, unknown queues and snippets that nothing
    could ever point to."""
    known = set(queues)
    reasons: dict[str, str] = {}
    ids: dict[str, int] = {}
    for n, s in enumerate(knowledge.snippets):
        if s.id in ids:
            reasons[f"snippets.{n}.id"] = f"the same id as snippets.{ids[s.id]}"
        ids.setdefault(s.id, n)
        if not (s.keywords or s.tags or s.case_types or s.queues):
            reasons[f"snippets.{n}"] = ("give keywords, tags, case_types or queues: "
                                        "otherwise it is never suggested")
        for q in s.queues:
            if q not in known:
                reasons[f"snippets.{n}.queues"] = f"no queue {q!r}"
    if reasons:
        raise InvalidInput(reasons)


def parse_scripts(document: object) -> Scripts:
    return _parse(Scripts, document)


def parse_knowledge(document: object) -> Knowledge:
    return _parse(Knowledge, document)


def _parse(model: type[_M], document: object) -> _M:
    try:
        return model.model_validate(document)
    except ValidationError as err:
        raise InvalidInput({".".join(str(p) for p in e["loc"]) or "document": e["msg"]
                            for e in err.errors(include_url=False)}) from err


def stored_scripts(document: object) -> list[ScriptDef]:
    """The scripts of a stored document; an item an older version stored and this one no
    longer accepts is skipped, never shown half-valid."""
    return _items(ScriptDef, document, "scripts")


def stored_snippets(document: object) -> list[SnippetDef]:
    return _items(SnippetDef, document, "snippets")


def _items(model: type[_M], document: object, key: str) -> list[_M]:
    raw = document.get(key) if isinstance(document, Mapping) else None
    found: list[_M] = []
    for item in raw if isinstance(raw, list) else ():
        try:
            found.append(model.model_validate(item))
        except ValidationError:
            continue
    return found


# --- choosing ----------------------------------------------------------------------------


def choose_script(scripts: Sequence[ScriptDef], *, queue_id: str | None,
                  case_type: CaseType | str | None, language: str | None) -> ScriptDef | None:
    """The most specific script for the contact (see the module's docstring)."""
    chosen = _most_specific(scripts, queue_id, case_type, language, by_language=True)
    if chosen is None and language is not None:
        chosen = _most_specific(scripts, queue_id, case_type, language, by_language=False)
    return chosen


def _most_specific(scripts: Sequence[ScriptDef], queue_id: str | None,
                   case_type: CaseType | str | None, language: str | None, *,
                   by_language: bool) -> ScriptDef | None:
    best: ScriptDef | None = None
    best_rank = -1
    wanted_type = None if case_type is None else str(case_type)
    for s in scripts:
        if s.queue is not None and s.queue != queue_id:
            continue
        if s.case_type is not None and s.case_type != wanted_type:
            continue
        if by_language and s.language is not None and s.language != language:
            continue
        rank = 4 * (s.queue is not None) + 2 * (s.case_type is not None) \
            + (by_language and s.language is not None)
        if rank > best_rank:
            best, best_rank = s, rank
    return best


@dataclass(frozen=True, slots=True)
class _Facts:
    """A contact as snippets are matched against it: everything folded (``plain``)."""

    queue_id: str | None
    case_type: str | None
    fired: frozenset[str]  # the classifier's keywords
    words: str  # the contact's words joined by single spaces, a space at each end
    tags: frozenset[str]


def rank_snippets(snippets: Sequence[SnippetDef], *, queue_id: str | None,
                  case_type: CaseType | str | None, language: str | None,
                  keywords: Sequence[str], tags: Sequence[str], text: str,
                  limit: int) -> list[tuple[SnippetDef, tuple[str, ...]]]:
    """The snippets something about the contact points to, best first, each with why."""
    facts = _Facts(queue_id=queue_id, case_type=None if case_type is None else str(case_type),
                   fired=frozenset(plain(k) for k in keywords), words=_words(text),
                   tags=frozenset(plain(t) for t in tags))
    scored: list[tuple[int, int, SnippetDef, tuple[str, ...]]] = []
    for n, s in enumerate(snippets):
        if s.language is not None and language is not None and s.language != language:
            continue
        score, why = _score(s, facts)
        if score:
            scored.append((-score, n, s, why))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [(s, why) for _, _, s, why in scored[:limit]]


def _score(s: SnippetDef, facts: _Facts) -> tuple[int, tuple[str, ...]]:
    score = 0
    why: list[str] = []
    for keyword in s.keywords:
        key = plain(keyword)
        if key in facts.fired:
            score += KEYWORD_POINTS
            why.append(f"keyword:{keyword}")
        elif _phrase_in(key, facts.words):
            score += TEXT_POINTS
            why.append(f"text:{keyword}")
    for tag in s.tags:
        if plain(tag) in facts.tags:
            score += TAG_POINTS
            why.append(f"tag:{tag}")
    if facts.case_type is not None and facts.case_type in s.case_types:
        score += TYPE_POINTS
        why.append(f"type:{facts.case_type}")
    if facts.queue_id is not None and facts.queue_id in s.queues:
        score += QUEUE_POINTS
        why.append(f"queue:{facts.queue_id}")
    return score, tuple(why)


def _words(text: str) -> str:
    return " " + " ".join(_WORD.findall(plain(text))) + " "


def _phrase_in(phrase: str, words: str) -> bool:
    """Whether the folded phrase occurs as whole words in ``words`` (folded words joined by
    single spaces, with a space at each end)."""
    tokens = _WORD.findall(phrase)
    return bool(tokens) and f" {' '.join(tokens)} " in words


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill in ``{customer.first_name}``-style placeholders from plain strings. Unknown
    names stay as written; a placeholder without a value disappears with the space before
    it when punctuation or the end of a line follows ("Dag {customer.first_name}," →
    "Dag,")."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in values:
            return match.group(0)
        value = values[name]
        if value:
            return match.group(1) + value
        following = match.string[match.end():match.end() + 1]
        return "" if following in ("", "\n") or following in ",.;:!?)" else match.group(1)

    return re.sub(r"( ?)\{([A-Za-z_]+\.[A-Za-z_]+)\}", fill, template)


class ScriptSuggester:
    """The screen-pop's ``Suggester``: reads the two documents, chooses and renders."""

    def __init__(self, *, knowledge_limit: int = 3) -> None:
        self._limit = knowledge_limit

    def suggest(self, scripts: ConfigDocument | None, knowledge: ConfigDocument | None,
                context: PopContext) -> tuple[SuggestedScript | None, list[KnowledgeSnippet]]:
        script = None
        if scripts is not None:
            chosen = choose_script(stored_scripts(scripts.document), queue_id=context.queue_id,
                                   case_type=context.case_type, language=context.language)
            if chosen is not None:
                script = SuggestedScript(
                    id=chosen.id, title=chosen.title, text=render(chosen.text, context.values),
                    language=chosen.language, queue=chosen.queue, case_type=chosen.case_type,
                    revision=scripts.revision)
        snippets: list[KnowledgeSnippet] = []
        if knowledge is not None:
            for s, why in rank_snippets(
                    stored_snippets(knowledge.document), queue_id=context.queue_id,
                    case_type=context.case_type, language=context.language,
                    keywords=context.keywords, tags=context.tags, text=context.text,
                    limit=self._limit):
                snippets.append(KnowledgeSnippet(
                    id=s.id, title=s.title, text=render(s.text, context.values), url=s.url,
                    matched=why))
        return script, snippets


# --- the demo's scripts and snippets (workers/demo.py installs them) ---------------------------

DEMO_SCRIPTS: dict[str, list[dict[str, object]]] = {"scripts": [
    {"id": "welkom", "title": "Begroeting", "language": "nl",
     "text": "Goedendag {customer.first_name}, u spreekt met {agent.first_name} van de "
             "klantenservice. Waarmee kan ik u helpen?\n"
             "- Controleer naam en klantgegevens voordat u iets over het account zegt.\n"
             "- Sluit af met: Is er verder nog iets waarmee ik u kan helpen?"},
    {"id": "welcome", "title": "Greeting", "language": "en",
     "text": "Good day {customer.first_name}, this is {agent.first_name} from customer "
             "service. How can I help you?\n"
             "- Check the name and customer details before discussing the account.\n"
             "- Close with: Is there anything else I can help you with?"},
    {"id": "klacht", "title": "Klacht aannemen", "case_type": "complaint", "language": "nl",
     "text": "Goedendag {customer.first_name}, u spreekt met {agent.first_name}. Ik zie "
             "dat u niet tevreden bent, en dat spijt me.\n"
             "1. Laat de klant uitpraten en vat samen wat er misging.\n"
             "2. Erken het probleem; beloof niets wat u niet zelf kunt waarmaken.\n"
             "3. Spreek een concrete vervolgstap en termijn af en noem het dossiernummer "
             "{case.reference}."},
    {"id": "complaint", "title": "Taking a complaint", "case_type": "complaint",
     "language": "en",
     "text": "Good day {customer.first_name}, this is {agent.first_name}. I can see you "
             "are not happy with us, and I am sorry about that.\n"
             "1. Let the customer finish, then summarise what went wrong.\n"
             "2. Acknowledge the problem; promise nothing you cannot deliver yourself.\n"
             "3. Agree a concrete next step and date, and give the case number "
             "{case.reference}."},
    {"id": "factuur", "title": "Vragen over een factuur", "queue": "q_billing",
     "language": "nl",
     "text": "Goedendag {customer.first_name}, u spreekt met {agent.first_name} van de "
             "afdeling facturen.\n"
             "1. Vraag naar het factuurnummer en de datum.\n"
             "2. Loop de regels samen door; leg elk bedrag uit.\n"
             "3. Klopt er iets niet? Maak een creditverzoek op {case.reference}."},
    {"id": "invoice", "title": "Questions about an invoice", "queue": "q_billing",
     "language": "en",
     "text": "Good day {customer.first_name}, this is {agent.first_name} from billing.\n"
             "1. Ask for the invoice number and date.\n"
             "2. Go through the lines together; explain every amount.\n"
             "3. Something wrong? Raise a credit request on {case.reference}."},
]}

DEMO_KNOWLEDGE: dict[str, list[dict[str, object]]] = {"snippets": [
    {"id": "levering-vertraagd", "title": "Levering vertraagd", "language": "nl",
     "keywords": ["levering", "bezorging", "pakket", "bezorgd", "vertraging"],
     "text": "Pakketten worden binnen 2 werkdagen bezorgd. Is het na 5 werkdagen niet "
             "aangekomen, start dan een zoekopdracht bij de vervoerder en bied een nieuwe "
             "zending aan."},
    {"id": "delivery-delayed", "title": "Delivery delayed", "language": "en",
     "keywords": ["delivery", "parcel", "package", "delivered", "shipping", "delay"],
     "text": "Parcels are delivered within 2 working days. If one has not arrived after 5 "
             "working days, open a trace with the carrier and offer a new shipment."},
    {"id": "klachtenprocedure", "title": "Klachtenprocedure", "language": "nl",
     "case_types": ["complaint"], "tags": ["klacht"],
     "keywords": ["klacht", "ontevreden", "teleurgesteld"],
     "text": "Een klacht krijgt binnen 1 werkdag een eerste reactie en is binnen 5 "
             "werkdagen opgelost. Leg elke afspraak vast in het dossier; komt de klant er "
             "met ons niet uit, dan kan hij naar de Geschillencommissie."},
    {"id": "complaints-procedure", "title": "Complaints procedure", "language": "en",
     "case_types": ["complaint"], "tags": ["klacht"],
     "keywords": ["complaint", "dissatisfied", "disappointed"],
     "text": "A complaint gets a first answer within 1 working day and is resolved within "
             "5. Record every agreement on the case; if we cannot agree, the customer may "
             "go to the disputes committee."},
    {"id": "compensatie", "title": "Compensatie aanbieden", "language": "nl",
     "keywords": ["schandalig", "compensatie", "schadevergoeding", "geld terug"],
     "text": "U mag zelf tot EUR 25 tegoed aanbieden; daarboven beslist de teamleider. "
             "Bied compensatie pas aan nadat het probleem is erkend."},
    {"id": "compensation", "title": "Offering compensation", "language": "en",
     "keywords": ["refund", "compensation", "outrageous", "unacceptable"],
     "text": "You may offer up to EUR 25 credit yourself; above that, your team lead "
             "decides. Offer compensation only after acknowledging the problem."},
    {"id": "factuur-uitleg", "title": "Factuur uitleggen", "language": "nl",
     "queues": ["q_billing"], "keywords": ["factuur", "betaling", "incasso", "bedrag"],
     "text": "De factuur volgt de maand; de eerste factuur na een wijziging bevat een "
             "verrekening over de vorige periode. Een incasso volgt 7 dagen na de factuur."},
    {"id": "invoice-explained", "title": "Explaining an invoice", "language": "en",
     "queues": ["q_billing"], "keywords": ["invoice", "payment", "direct debit", "amount"],
     "text": "Invoices follow the calendar month; the first one after a change settles "
             "the previous period. The direct debit follows 7 days after the invoice."},
]}
