"""Turn an identifier as received (an address, a number, a visitor id) into a matching key.

Every contact is matched to a customer by *keys*, never by the spelling a channel happened
to deliver: ``Jan.Jansen@Bücher.Example`` and ``jan.jansen@xn--bcher-kva.example`` are one
mailbox, ``06-12345678`` dialled in the Netherlands and ``+31 6 1234 5678`` are one line.

A value that cannot be normalised is *kept* (``normalized`` is ``None``, ``problem`` says
why) so the agent still sees what the customer typed, but it never matches anything.

E-mail addresses also get a *skeleton*: the address with invisible characters removed and
every character that looks like a Latin one replaced by it (Cyrillic U+0430 → ``a``). Two
addresses with one skeleton look alike to a human. SECURITY.md ("Identity claims") makes
that a *possible duplicate* for a supervisor to judge, never an automatic merge, which is
why the skeleton is a separate field and never the matching key.

Pure: no I/O. ``phonenumbers``, ``email_validator`` (with deliverability checks off, so no
DNS), ``idna`` and ``confusable_homoglyphs`` are table-driven libraries.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import idna
import phonenumbers
from confusable_homoglyphs import confusables
from email_validator import EmailNotValidError, validate_email

from core.domain.customer import IdentifierKind

# RFC 5321 §4.5.3.1.3 limits a path to 256 octets including the angle brackets.
MAX_EMAIL_LENGTH = 254
MAX_OPAQUE_LENGTH = 200
OPAQUE_KINDS = frozenset({IdentifierKind.CHAT_VISITOR, IdentifierKind.CRM})

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})

_PARSE_PROBLEMS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
        "unknown country code, or none and no usable default region",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD:
        "too short after the international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}
_LENGTH_PROBLEMS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length for its country",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "only dialable locally",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalisedIdentifier:
    """An identifier as received plus its matching key (``None`` when invalid).

    ``skeleton`` is the look-alike key of an e-mail address; it is ``None`` for other kinds,
    when it cannot be computed, and when it equals ``normalized`` (a plain address has no
    look-alike key of its own).
    """

    kind: IdentifierKind
    value: str
    normalized: str | None
    skeleton: str | None
    problem: str | None

    @property
    def valid(self) -> bool:
        return self.normalized is not None


def normalise(kind: IdentifierKind, raw: str, *, default_region: str) -> NormalisedIdentifier:
    """Normalise ``raw`` as an identifier of ``kind``; ``default_region`` is for phones."""
    if kind is IdentifierKind.EMAIL:
        return normalise_email(raw)
    if kind is IdentifierKind.PHONE:
        return normalise_phone(raw, default_region)
    return normalise_opaque(kind, raw)


def normalise_email(raw: str) -> NormalisedIdentifier:
    """Key: the local part lower-cased, ``@``, the domain in IDNA ASCII form.

    Internationalised local parts (RFC 6531, SMTPUTF8) stay valid. Control and format
    characters (zero-width space, bidi overrides) make the address invalid: they are
    invisible to an agent, so an address carrying them could pass for another one.
    """
    value = raw.strip()
    skeleton = email_skeleton(value)
    problem = _invisible_problem(value)
    if problem is None and any(ch.isspace() for ch in value):
        problem = "contains whitespace"
    if problem is not None:
        return _invalid(IdentifierKind.EMAIL, value, problem, skeleton=skeleton)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as err:
        return _invalid(IdentifierKind.EMAIL, value, str(err), skeleton=skeleton)
    # Local parts are case-sensitive in theory (RFC 5321 §2.4) but not in practice. lower(),
    # not casefold(): casefold would make "straße" and "strasse" one mailbox; the skeleton
    # (casefolded) flags that pair instead.
    normalized = f"{checked.local_part.lower()}@{checked.ascii_domain.lower()}"
    if len(normalized) > MAX_EMAIL_LENGTH:
        return _invalid(
            IdentifierKind.EMAIL, value,
            f"longer than {MAX_EMAIL_LENGTH} characters", skeleton=skeleton)
    return NormalisedIdentifier(
        kind=IdentifierKind.EMAIL,
        value=value,
        normalized=normalized,
        skeleton=None if skeleton == normalized else skeleton,
        problem=None,
    )


def normalise_phone(raw: str, default_region: str) -> NormalisedIdentifier:
    """Key: the E.164 form (``+31612345678``) of a number libphonenumber considers valid.

    National formats are read with ``default_region`` (``"NL"``: ``06-12345678``), as is
    the international prefix of that region (``0031 6 …``). Extensions are dropped.
    """
    value = raw.strip()
    try:
        number = phonenumbers.parse(value, default_region.upper())
    except phonenumbers.NumberParseException as err:
        reason = _PARSE_PROBLEMS.get(err.error_type, str(err))
        return _invalid(IdentifierKind.PHONE, value, f"{reason} (region {default_region})")
    if not phonenumbers.is_valid_number(number):
        length = phonenumbers.is_possible_number_with_reason(number)
        detail = _LENGTH_PROBLEMS.get(length, "no such number range")
        return _invalid(
            IdentifierKind.PHONE, value,
            f"not a valid number for +{number.country_code}: {detail}")
    return NormalisedIdentifier(
        kind=IdentifierKind.PHONE,
        value=value,
        normalized=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        skeleton=None,
        problem=None,
    )


def normalise_opaque(kind: IdentifierKind, raw: str) -> NormalisedIdentifier:
    """Key: the stripped value unchanged, case-sensitive (a chat visitor id, a CRM id).

    These ids are minted by systems, not typed by people, so any rewriting could only
    make two different ids collide.
    """
    if kind not in OPAQUE_KINDS:
        raise ValueError(f"{kind.value} is not an opaque identifier kind")
    value = raw.strip()
    problem = _invisible_problem(value)
    if not value:
        problem = "empty"
    elif len(value) > MAX_OPAQUE_LENGTH:
        problem = f"longer than {MAX_OPAQUE_LENGTH} characters"
    if problem is not None:
        return _invalid(kind, value, problem)
    return NormalisedIdentifier(
        kind=kind, value=value, normalized=value, skeleton=None, problem=None)


def email_skeleton(value: str) -> str | None:
    """The look-alike key of an address: what a human would read it as.

    NFKC (fullwidth U+FF4A → ``j``), drop control, format and space characters (zero-width,
    bidi overrides), casefold, replace each non-ASCII character that has an ASCII homoglyph
    in the Unicode confusables data (UTS #39) by it, then IDNA-encode the domain when
    possible. ASCII itself is left alone: mapping ``1`` to ``l`` would give every address
    with a digit a look-alike key and flood supervisors with warnings. ``None`` when the
    value has no local part and domain to speak of.
    """
    folded = _fold(value)
    local, at, domain = folded.rpartition("@")
    if not (at and local and domain):
        return None
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except UnicodeError:  # idna.IDNAError and label-length errors: keep the Unicode form
        return f"{local}@{domain}"


def look_alike_characters(value: str) -> list[str]:
    """The characters of ``value`` its skeleton drops or replaces (ASCII case aside), once.

    Lets a supervisor see *why* two addresses look alike: ``U+0430 CYRILLIC SMALL LETTER A``.
    """
    return [
        ch for ch in dict.fromkeys(value)
        if not ch.isascii() or ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES
        if _fold(ch) != ch.lower()
    ]


def _fold(value: str) -> str:
    """NFKC, drop invisible and space characters, casefold, map to ASCII homoglyphs."""
    return "".join(
        _ascii_homoglyph(ch)
        for ch in unicodedata.normalize("NFKC", value).casefold()
        if not (ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES)
    ).lower()


@lru_cache(maxsize=4096)
def _ascii_homoglyph(ch: str) -> str:
    """The ASCII character ``ch`` looks like, or ``ch`` itself when there is none."""
    if ch.isascii():
        return ch
    found = confusables.is_confusable(ch, greedy=True)
    if not found:
        return ch
    glyphs = [str(glyph["c"]) for glyph in found[0]["homoglyphs"]]
    single = [g for g in glyphs if len(g) == 1 and g.isascii() and g.isalnum()]
    if single:
        return single[0]
    sequences = [g for g in glyphs if g.isascii() and g.isprintable() and " " not in g]
    return sequences[0] if sequences else ch


def _invisible_problem(value: str) -> str | None:
    for ch in value:
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            name = unicodedata.name(ch, "unnamed")
            return f"contains an invisible or control character U+{ord(ch):04X} {name}"
    return None


def _invalid(
    kind: IdentifierKind, value: str, problem: str, *, skeleton: str | None = None,
) -> NormalisedIdentifier:
    return NormalisedIdentifier(
        kind=kind, value=value, normalized=None, skeleton=skeleton, problem=problem)
