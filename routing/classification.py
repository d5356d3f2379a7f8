"""What a contact is about — complaint, question or request — and in which language, from
the channel's own choice (mailbox, form, IVR menu) or from supervisor-tuned keyword lists.

Keyword matching is deliberately simple and explainable: an agent sees which keywords
decided the class. Matching is:

* accent- and case-insensitive (``ontevréden`` matches ``ontevreden``);
* whole words or whole phrases only (``vraag`` does not match ``vraagteken``), longest first,
  so a phrase that contains a negation (``niet tevreden``) is matched as that phrase;
* blind to what the customer quotes: lines starting with ``>`` and everything after a reply
  header (``Op ... schreef ...:``, ``On ... wrote:``, ``-----Original Message-----``);
* blind to negated keywords: one preceded, within two words of the same clause, by ``geen``,
  ``niet``, ``zonder``, ``no``, ``not`` or ``without`` does not count.

Each distinct keyword counts once per place it occurs: 2 in the subject, 1 in the body.
Negative-sentiment words count toward complaint too. The class with the highest score
wins; ties go complaint > request > question, because missing a complaint costs the most.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from core.domain.contact import CaseType
from core.domain.errors import InvalidInput

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"  # the organisations we serve are mostly Dutch
MAX_KEYWORD = 100
MAX_KEYWORDS = 500  # per class and language, and per negative list
# Classification reads intent, which shows early; bounding the text bounds the cost of a
# pasted log file or a forwarded thread.
MAX_TEXT = 20_000
MAX_SUBJECT = 1_000
MAX_LANGUAGE_TEXT = 5_000
SUBJECT_WEIGHT = 2
BODY_WEIGHT = 1

Source = Literal["choice", "keywords", "default"]
_SOURCES: dict[str, Source] = {"choice": "choice", "keywords": "keywords",
                               "default": "default"}
_CLASSES = tuple(t.value for t in CaseType)
# Ties go to the class whose miss costs the most.
_PRECEDENCE = {t: rank for rank, t in enumerate(
    (CaseType.COMPLAINT, CaseType.REQUEST, CaseType.QUESTION))}
_DOC_KEYS = frozenset(("classes", "negative"))
# A language hint is a tag such as "nl-NL", "en_GB" or an ISO 639-2 code.
_HINTS = {"nl": "nl", "nld": "nl", "dut": "nl", "en": "en", "eng": "en"}
_NEGATIONS = frozenset(("geen", "niet", "zonder", "no", "not", "without"))

# What a mailbox, form or IVR menu may call a class, besides the class names themselves.
_CHOICES: dict[str, CaseType] = {
    **{t.value: t for t in CaseType},
    "klacht": CaseType.COMPLAINT, "klachten": CaseType.COMPLAINT,
    "complaints": CaseType.COMPLAINT,
    "vraag": CaseType.QUESTION, "vragen": CaseType.QUESTION, "questions": CaseType.QUESTION,
    "verzoek": CaseType.REQUEST, "verzoeken": CaseType.REQUEST,
    "aanvraag": CaseType.REQUEST, "aanvragen": CaseType.REQUEST, "requests": CaseType.REQUEST,
}

# Words that are common in one language and rare in the other. Words both languages use
# a lot ("is", "in", "of", "we", "was", "want", "over", "door") would only add noise.
_NL_WORDS = frozenset((
    "de", "het", "een", "ik", "niet", "en", "van", "dat", "die", "mijn", "u", "uw", "wij",
    "jullie", "je", "jij", "hij", "zij", "ze", "er", "op", "te", "met", "voor", "zijn",
    "naar", "ook", "maar", "nog", "geen", "heb", "hebt", "heeft", "hebben", "kan", "kunt",
    "wil", "wordt", "worden", "bij", "als", "dit", "deze", "om", "aan", "wat", "hoe",
    "waarom", "wanneer", "graag", "bedankt", "alstublieft", "ben", "bent", "niets", "al",
    "dan", "omdat", "nu", "mij", "ons", "onze", "werd", "wel", "zou", "moet",
))
_EN_WORDS = frozenset((
    "the", "and", "not", "my", "you", "your", "to", "a", "an", "i", "it", "this", "that",
    "for", "with", "have", "has", "are", "be", "been", "can", "could", "would", "please",
    "thanks", "thank", "what", "when", "how", "why", "our", "us", "from", "am", "do",
    "does", "don't", "there", "they", "will", "on", "at", "about", "still", "yet", "which",
    "should", "were", "no", "any", "just", "if", "but",
))

_WORD = re.compile(r"[\w']+")
_CLAUSE_END = re.compile(r"[.!?;:]")
# NFKD splits an accented Latin letter into the letter and marks in these blocks;
# a character class strips them in C, far cheaper than testing every character.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
# Runs on folded text. Mail clients wrap a long header line once, hence the optional
# second line; requiring the colon at the end of the line spares "op maandag schreef ik: ...".
_REPLY_HEADER = re.compile(
    r"^[ \t]*(?:"
    r"-{2,}[ \t]*(?:original message|oorspronkelijk bericht|origineel bericht"
    r"|forwarded message|doorgestuurd bericht)[ \t]*-{2,}"
    r"|op\b[^\n]{0,300}(?:\n[^\n]{0,300})?\b(?:schreef|het volgende geschreven)\b"
    r"[^\n]{0,300}:[ \t]*$"
    r"|on\b[^\n]{0,300}(?:\n[^\n]{0,300})?\bwrote:[ \t]*$"
    r"|(?:van|from):[^\n]*\n[ \t]*(?:verzonden|sent|datum|date):"
    r")",
    re.MULTILINE)
_NEGATION_WINDOW = 60  # characters: comfortably more than two words


# --- built-in keyword lists -----------------------------------------------------------------

_DEFAULT_CLASSES: dict[str, dict[str, tuple[str, ...]]] = {
    CaseType.COMPLAINT.value: {
        "nl": ("klacht", "klachten", "klagen", "ik wil klagen", "ik wil een klacht indienen",
               "ontevreden", "niet tevreden", "schandalig", "schande", "slechte service",
               "slechte klantenservice", "teleurgesteld", "teleurstellend", "boos", "woedend",
               "belachelijk", "onacceptabel", "onaanvaardbaar", "waardeloos",
               "nog steeds geen", "nog steeds niet", "alweer", "wederom", "geld terug",
               "compensatie", "schadevergoeding", "ingebrekestelling", "ombudsman",
               "geschillencommissie"),
        "en": ("complaint", "complaints", "complain", "formal complaint", "unacceptable",
               "dissatisfied", "unhappy", "not happy", "not satisfied", "disappointed",
               "disappointing", "terrible", "awful", "poor service", "bad service",
               "ridiculous", "disgraceful", "outrageous", "refund", "compensation",
               "still no", "still not", "ombudsman", "escalate"),
    },
    CaseType.REQUEST.value: {
        "nl": ("verzoek", "verzoeken", "aanvragen", "aanvraag", "wijzigen", "wijziging",
               "aanpassen", "opzeggen", "opzegging", "beëindigen", "stopzetten",
               "annuleren", "adreswijziging", "adres wijzigen", "verhuizing", "verhuizen",
               "terugbellen", "bel mij terug", "ik wil graag", "toesturen", "opsturen",
               "machtiging", "inschrijven", "uitschrijven", "aanmelden", "afmelden",
               "overzetten"),
        "en": ("request", "change my", "update my", "please update", "please change",
               "cancel", "cancellation", "terminate", "unsubscribe", "sign up",
               "call me back", "call back", "send me", "i would like to", "i'd like to",
               "change of address", "new address", "apply for"),
    },
    CaseType.QUESTION.value: {
        "nl": ("vraag", "vragen", "ik heb een vraag", "hoe", "wanneer", "waarom", "wat",
               "welke", "waar", "kunt u", "is het mogelijk", "ik vroeg me af", "informatie",
               "weet u"),
        "en": ("question", "questions", "how do", "how does", "how can", "how to", "when",
               "what", "why", "where", "which", "can you tell", "could you tell",
               "is it possible", "i was wondering", "information", "do you"),
    },
}

_DEFAULT_NEGATIVE: dict[str, tuple[str, ...]] = {
    "nl": ("ontevreden", "niet tevreden", "boos", "schandalig", "teleurgesteld",
           "teleurstellend", "woedend", "kwaad", "belachelijk", "waardeloos", "schande",
           "onacceptabel", "onaanvaardbaar", "slecht", "slechte", "frustrerend",
           "gefrustreerd", "triest", "bizar"),
    "en": ("angry", "disappointed", "dissatisfied", "unhappy", "not happy", "not satisfied",
           "unacceptable", "terrible", "awful", "horrible", "ridiculous", "furious",
           "frustrated", "frustrating", "disgraceful", "outrageous", "useless", "worst",
           "upset", "poor", "bad"),
}


# --- keyword lists ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordLists:
    """Per class (a ``CaseType`` value) and language, the keywords and phrases that point
    to it; per language, the words of negative sentiment."""

    classes: Mapping[str, Mapping[str, tuple[str, ...]]]
    negative: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        # Frozen means frozen: the caller's dicts must not change a classifier later.
        object.__setattr__(self, "classes", MappingProxyType({
            str(name): MappingProxyType({str(lang): tuple(words)
                                         for lang, words in by_lang.items()})
            for name, by_lang in self.classes.items()}))
        object.__setattr__(self, "negative", MappingProxyType({
            str(lang): tuple(words) for lang, words in self.negative.items()}))

    @classmethod
    def default(cls) -> KeywordLists:
        return cls(classes=_DEFAULT_CLASSES, negative=_DEFAULT_NEGATIVE)

    @classmethod
    def from_document(cls, doc: object) -> KeywordLists:
        """Validate everything at once; raise ``InvalidInput`` with one reason per problem,
        keyed by its path, e.g. ``classes.complaint.nl[3]``."""
        return _Reader().keyword_lists(doc)

    def to_document(self) -> dict[str, Any]:
        return {
            "classes": {name: {lang: list(words) for lang, words in by_lang.items()}
                        for name, by_lang in self.classes.items()},
            "negative": {lang: list(words) for lang, words in self.negative.items()},
        }


class _Reader:
    """Reads a keyword-lists document, collecting every problem under its path."""

    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}

    def keyword_lists(self, doc: object) -> KeywordLists:
        if not isinstance(doc, Mapping):
            raise InvalidInput({"keywords": "must be an object with classes and negative"})
        for key in doc:
            if key not in _DOC_KEYS:
                self._reasons[str(key)] = "unknown key; expected classes and negative"
        classes = self._classes(doc.get("classes"))
        negative = self._by_language(doc.get("negative"), "negative")
        if self._reasons:
            raise InvalidInput(self._reasons)
        return KeywordLists(classes=classes, negative=negative)

    def _classes(self, raw: object) -> dict[str, dict[str, tuple[str, ...]]]:
        if not isinstance(raw, Mapping):
            self._reasons["classes"] = ("must be an object: class -> language -> keywords, "
                                        f"classes {', '.join(_CLASSES)}")
            return {}
        classes: dict[str, dict[str, tuple[str, ...]]] = {}
        for name, by_lang in raw.items():
            path = f"classes.{name}"
            if name not in _CLASSES:
                self._reasons[path] = f"unknown class; one of {', '.join(_CLASSES)}"
                continue
            classes[str(name)] = self._by_language(by_lang, path)
        return classes

    def _by_language(self, raw: object, path: str) -> dict[str, tuple[str, ...]]:
        if not isinstance(raw, Mapping):
            self._reasons[path] = ("must be an object: language "
                                   f"({', '.join(LANGUAGES)}) -> list of keywords")
            return {}
        lists: dict[str, tuple[str, ...]] = {}
        for lang, words in raw.items():
            if lang not in LANGUAGES:
                self._reasons[f"{path}.{lang}"] = \
                    f"unknown language; one of {', '.join(LANGUAGES)}"
                continue
            lists[str(lang)] = self._keywords(words, f"{path}.{lang}")
        return lists

    def _keywords(self, raw: object, path: str) -> tuple[str, ...]:
        if not isinstance(raw, list | tuple):
            self._reasons[path] = "must be a list of keywords (it may be empty)"
            return ()
        if len(raw) > MAX_KEYWORDS:
            self._reasons[path] = f"at most {MAX_KEYWORDS} keywords, not {len(raw)}"
            return ()
        words: list[str] = []
        first: dict[str, int] = {}  # matching form -> index of its first occurrence
        for index, value in enumerate(raw):
            where = f"{path}[{index}]"
            word = self._keyword(value, where)
            if word is None:
                continue
            key = _fold(word)
            if key in first:
                self._reasons[where] = f"duplicate of {path}[{first[key]}] " \
                                       "(case and accents do not count)"
                continue
            first[key] = index
            words.append(word)
        return tuple(words)

    def _keyword(self, value: object, where: str) -> str | None:
        if not isinstance(value, str):
            self._reasons[where] = "must be a keyword (text)"
            return None
        word = " ".join(value.split())  # one space between the words of a phrase
        if not word:
            self._reasons[where] = "must not be blank"
        elif len(word) > MAX_KEYWORD:
            self._reasons[where] = f"at most {MAX_KEYWORD} characters, not {len(word)}"
        elif not (_fold(word)[:1].isalnum() and _fold(word)[-1:].isalnum()):
            # Matching is by whole word: the edges of a keyword must be word characters.
            self._reasons[where] = "must start and end with a letter or digit"
        else:
            return word
        return None


# --- the verdict -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    case_type: CaseType
    confidence: float  # 0..1; 1.0 for a channel choice, 0.0 when nothing matched
    language: str  # "nl" or "en"
    negative_sentiment: bool
    matched: tuple[str, ...]  # the keywords that counted, as written in the lists
    source: Source  # "choice", "keywords" or "default" (nothing matched)

    def to_document(self) -> dict[str, object]:
        return {"case_type": self.case_type.value, "confidence": self.confidence,
                "language": self.language, "negative_sentiment": self.negative_sentiment,
                "matched": list(self.matched), "source": self.source}

    @classmethod
    def from_document(cls, doc: object) -> Classification:
        if not isinstance(doc, Mapping):
            raise InvalidInput({"classification": "must be an object"})
        reasons: dict[str, str] = {}
        case_type = doc.get("case_type")
        if case_type not in _CLASSES:
            reasons["case_type"] = f"must be one of {', '.join(_CLASSES)}"
        confidence = doc.get("confidence")
        if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
                or not 0 <= confidence <= 1:
            reasons["confidence"] = "must be a number 0..1"
            confidence = 0.0
        language = doc.get("language")
        if language not in LANGUAGES:
            reasons["language"] = f"must be one of {', '.join(LANGUAGES)}"
        negative = doc.get("negative_sentiment")
        if not isinstance(negative, bool):
            reasons["negative_sentiment"] = "must be true or false"
        matched = doc.get("matched")
        if not isinstance(matched, list) or not all(isinstance(m, str) for m in matched):
            reasons["matched"] = "must be a list of keywords"
            matched = []
        source = _SOURCES.get(str(doc.get("source")))
        if source is None:
            reasons["source"] = f"must be one of {', '.join(_SOURCES)}"
        if reasons:
            raise InvalidInput(reasons)
        assert source is not None  # else a reason above
        return cls(case_type=CaseType(str(case_type)), confidence=float(confidence),
                   language=str(language), negative_sentiment=bool(negative),
                   matched=tuple(matched), source=source)


# --- text --------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower-case without accents: the form both keywords and texts are matched in."""
    folded = text.casefold().translate(_APOSTROPHES)
    if folded.isascii():  # most texts: skip the costly decomposition
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def _own_words(body: str) -> str:
    """The customer's own words of a folded body: without quoted lines and replies."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    header = _REPLY_HEADER.search(body)
    if header is not None:
        body = body[:header.start()]
    return _QUOTED_LINE.sub("", body)


def _language(folded: str, hint: str | None) -> str:
    if hint:
        primary = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
        named = _HINTS.get(primary)
        if named is not None:
            return named
    dutch = english = 0
    for word in _WORD.findall(folded[:MAX_LANGUAGE_TEXT]):
        if word in _NL_WORDS:
            dutch += 1
        elif word in _EN_WORDS:
            english += 1
    return "en" if english > dutch else DEFAULT_LANGUAGE


def detect_language(text: str, hint: str | None = None) -> str:
    """``"nl"`` or ``"en"``: the hint (``nl-NL``, ``EN``…) when it names one of them,
    else whichever language's common words the text has more of; Dutch on a tie."""
    return _language(_fold(text[:MAX_LANGUAGE_TEXT]), hint)


def _negated(text: str, start: int) -> bool:
    """Whether one of the two words before *start*, in the same clause, negates."""
    window_start = max(0, start - _NEGATION_WINDOW)
    window = text[window_start:start]
    clause = _CLAUSE_END.split(window)[-1]
    words = _WORD.findall(clause)
    if window_start > 0 and len(clause) == len(window) and words:
        words = words[1:]  # the window may have cut the first word in half
    return any(word in _NEGATIONS for word in words[-2:])


def _trie_pattern(keys: Iterable[str]) -> str:
    """One regex alternation shaped as a character trie.

    The regex engine then does one comparison per character instead of trying every
    keyword at every word start; greedy optional branches make it prefer the longest
    keyword, so ``niet tevreden`` wins over anything starting at ``niet``.
    """
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}  # the end of a keyword

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return r"(?<!\w)(?:" + emit(root) + r")(?!\w)"


# --- the classifier ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    classes: frozenset[CaseType]  # negative words include complaint
    negative: bool
    shown: str  # as the supervisor wrote it


class Classifier:
    """Compiled once per keyword-lists revision; ``classify`` is pure and thread-safe."""

    def __init__(self, keywords: KeywordLists) -> None:
        self.keywords = keywords
        classes: dict[str, set[CaseType]] = {}
        shown: dict[str, str] = {}  # the first spelling wins, as agents see it
        for name, by_lang in keywords.classes.items():
            case_type = CaseType(name)  # a ValueError here is a programming error
            for words in by_lang.values():
                for word in words:
                    classes.setdefault(_key(word), set()).add(case_type)
                    shown.setdefault(_key(word), word)
        negative = {_key(word) for words in keywords.negative.values() for word in words}
        for key in negative:
            classes.setdefault(key, set()).add(CaseType.COMPLAINT)
        for words in keywords.negative.values():
            for word in words:
                shown.setdefault(_key(word), word)
        self._entries = {key: _Entry(frozenset(types), key in negative, shown[key])
                         for key, types in classes.items() if key}
        self._pattern = re.compile(_trie_pattern(self._entries)) if self._entries else None

    def classify(self, *, subject: str | None, text: str | None, choice: str | None = None,
                 language_hint: str | None = None) -> Classification:
        # One space between words, so a phrase matches across a wrapped line.
        subject_text = " ".join(_fold((subject or "")[:MAX_SUBJECT]).split())
        body_text = " ".join(_own_words(_fold((text or "")[:MAX_TEXT])).split())
        language = _language(f"{subject_text}\n{body_text}", language_hint)
        weights: dict[str, int] = {}  # keyword -> weight, in the order first found
        for region, weight in ((subject_text, SUBJECT_WEIGHT), (body_text, BODY_WEIGHT)):
            for key in self._hits(region):
                weights[key] = weights.get(key, 0) + weight
        entries = [self._entries[key] for key in weights]
        negative = any(entry.negative for entry in entries)
        matched = tuple(entry.shown for entry in entries)
        chosen = _CHOICES.get(" ".join(_fold(choice).split())) if choice else None
        if chosen is not None:
            return Classification(case_type=chosen, confidence=1.0, language=language,
                                  negative_sentiment=negative, matched=matched,
                                  source="choice")
        scores: dict[CaseType, int] = {}
        for key, weight in weights.items():
            for case_type in self._entries[key].classes:
                scores[case_type] = scores.get(case_type, 0) + weight
        if not scores:
            return Classification(case_type=CaseType.QUESTION, confidence=0.0,
                                  language=language, negative_sentiment=False, matched=(),
                                  source="default")
        winner = max(scores, key=lambda t: (scores[t], -_PRECEDENCE.get(t, len(_PRECEDENCE))))
        return Classification(case_type=winner,
                              confidence=round(scores[winner] / sum(scores.values()), 3),
                              language=language, negative_sentiment=negative, matched=matched,
                              source="keywords")

    def _hits(self, text: str) -> Sequence[str]:
        """The distinct keywords in *text* that are not negated, in order of appearance."""
        if self._pattern is None or not text:
            return ()
        hits: dict[str, None] = {}
        for match in self._pattern.finditer(text):
            key = match.group()
            if key not in hits and not _negated(text, match.start()):
                hits[key] = None
        return tuple(hits)


def _key(word: str) -> str:
    return " ".join(_fold(word).split())
