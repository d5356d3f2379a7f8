"""Normalising identifiers into matching keys and e-mail look-alike skeletons.

Non-ASCII look-alikes are written as escapes (``\\u0430`` is CYRILLIC SMALL LETTER A) so
that the tests say what they test.
"""

from __future__ import annotations

import phonenumbers
import pytest

from core.domain.customer import IdentifierKind
from core.identity.normalise import (
    MAX_OPAQUE_LENGTH,
    NormalisedIdentifier,
    email_skeleton,
    look_alike_characters,
    normalise,
    normalise_email,
    normalise_opaque,
    normalise_phone,
)

CYRILLIC_A = "\u0430"
CYRILLIC_O = "\u043e"
CYRILLIC_E = "\u0435"
GREEK_OMICRON = "\u03bf"
ZWSP = "\u200b"
RLO = "\u202e"

# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("06-12345678", "NL", "+31612345678"),
    ("06 1234 5678", "NL", "+31612345678"),
    ("0612345678", "NL", "+31612345678"),
    ("(06) 123 456 78", "NL", "+31612345678"),
    ("+31 6 1234 5678", "NL", "+31612345678"),
    ("+31 (0)6 12345678", "NL", "+31612345678"),
    ("+31612345678", "GB", "+31612345678"),
    ("0031 6 12345678", "NL", "+31612345678"),
    ("0031612345678", "NL", "+31612345678"),
    ("  06-12345678\t", "NL", "+31612345678"),
    ("tel:+31612345678", "NL", "+31612345678"),
    ("\uff10\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "NL", "+31612345678"),
    ("+31 6 1234 5678 ext. 12", "NL", "+31612345678"),
    ("020 123 4567", "NL", "+31201234567"),
    ("(020) 123 4567", "NL", "+31201234567"),
    ("0800 0123", "NL", "+318000123"),
    ("06-12345678", "nl", "+31612345678"),
    ("+44 20 7946 0958", "NL", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("0044 20 7946 0958", "NL", "+442079460958"),
    ("+1 650-253-0000", "NL", "+16502530000"),
    ("(650) 253-0000", "US", "+16502530000"),
    ("+49 30 123456", "NL", "+4930123456"),
], ids=[
    "nl-mobile-dash", "nl-mobile-spaced", "nl-mobile-bare", "nl-mobile-parens",
    "nl-international", "nl-international-trunk-zero", "e164-foreign-region",
    "nl-00-prefix-spaced", "nl-00-prefix-bare", "surrounding-whitespace", "tel-uri",
    "fullwidth-digits", "extension-dropped", "nl-landline", "nl-landline-parens",
    "nl-freephone", "lower-case-region", "uk-international", "uk-national",
    "uk-from-nl-00-prefix", "us-international", "us-national", "de-international",
])
def test_phone_valid(raw: str, region: str, expected: str) -> None:
    result = normalise_phone(raw, region)
    assert result == NormalisedIdentifier(
        kind=IdentifierKind.PHONE, value=raw.strip(), normalized=expected,
        skeleton=None, problem=None)


EXAMPLE_REGIONS = ["NL", "BE", "DE", "FR", "GB", "US", "JP", "IN", "BR", "AU", "ZA", "CH"]
FORMATS = {
    "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "national": phonenumbers.PhoneNumberFormat.NATIONAL,
    "e164": phonenumbers.PhoneNumberFormat.E164,
    "rfc3966": phonenumbers.PhoneNumberFormat.RFC3966,
}


@pytest.mark.parametrize("region", EXAMPLE_REGIONS)
@pytest.mark.parametrize("format_name", list(FORMATS))
def test_phone_libphonenumber_example_numbers(region: str, format_name: str) -> None:
    number = phonenumbers.example_number(region)
    assert number is not None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(number, FORMATS[format_name])
    assert normalise_phone(written, region).normalized == e164
    if format_name != "national":  # a national format only reads right in its own region
        assert normalise_phone(written, "NL").normalized == e164


@pytest.mark.parametrize("region", ["NL", "GB", "US", "DE"])
def test_phone_example_mobile_numbers(region: str) -> None:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert normalise_phone(written, region).normalized == expected


@pytest.mark.parametrize(("raw", "region", "problem"), [
    ("+31 12", "NL", "too short"),
    ("112", "NL", "not a valid number for +31"),
    ("06 1234 567", "NL", "not a valid number for +31"),
    ("+31 6 1234 56789", "NL", "not a valid number for +31"),
    ("+44 20 7946 095", "NL", "not a valid number for +44"),
    ("abc", "NL", "not a phone number"),
    ("", "NL", "not a phone number"),
    ("   ", "NL", "not a phone number"),
    ("+999 123456", "NL", "unknown country code"),
    ("0612345678", "ZZ", "no usable default region"),
    ("0612345678", "", "no usable default region"),
    ("1" * 300, "NL", "too long"),
], ids=[
    "nl-too-short", "nl-emergency-short-code", "nl-mobile-digit-missing",
    "nl-mobile-digit-extra", "uk-digit-missing", "letters", "empty", "blank",
    "unknown-country-code", "national-unknown-region", "national-no-region", "absurdly-long",
])
def test_phone_invalid_is_kept_with_a_problem(raw: str, region: str, problem: str) -> None:
    result = normalise_phone(raw, region)
    assert result.value == raw.strip()
    assert result.normalized is None
    assert result.skeleton is None
    assert result.problem is not None and problem in result.problem
    assert not result.valid


# --- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "normalized", "skeleton"), [
    ("jan@example.com", "jan@example.com", None),
    ("Jan.Jansen@Example.COM", "jan.jansen@example.com", None),
    ("  jan@example.com \n", "jan@example.com", None),
    ("Jan.Jansen@B\u00fccher.Example", "jan.jansen@xn--bcher-kva.example", None),
    ("jan@xn--bcher-kva.example", "jan@xn--bcher-kva.example", None),
    ("jan+support@example.com", "jan+support@example.com", None),
    ("jos\u00e9@example.com", "jos\u00e9@example.com", None),
    ("jose\u0301@example.com", "jos\u00e9@example.com", None),
    ("\u00c9LODIE@example.com", "\u00e9lodie@example.com", None),
    ("jan@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "jan@example.com", None),
    ("Stra\u00dfe@example.com", "stra\u00dfe@example.com", "strasse@example.com"),
    (f"j{CYRILLIC_A}n@example.com", f"j{CYRILLIC_A}n@example.com", "jan@example.com"),
    (f"J{CYRILLIC_A}N@EXAMPLE.COM", f"j{CYRILLIC_A}n@example.com", "jan@example.com"),
    (f"jan@ex{CYRILLIC_A}mple.com", "jan@xn--exmple-4nf.com", "jan@example.com"),
    (f"j{GREEK_OMICRON}hn@example.com", f"j{GREEK_OMICRON}hn@example.com", "john@example.com"),
    (f"{CYRILLIC_E}v{CYRILLIC_A}@example.com", f"{CYRILLIC_E}v{CYRILLIC_A}@example.com",
     "eva@example.com"),
    ("j\u0251n@example.com", "j\u0251n@example.com", "jan@example.com"),
    ("\uff4a\uff41\uff4e@example.com", "\uff4a\uff41\uff4e@example.com", "jan@example.com"),
    ("\u4f8b\u3048@example.jp", "\u4f8b\u3048@example.jp", None),
], ids=[
    "plain", "mixed-case", "surrounding-whitespace", "idn-domain", "punycode-domain",
    "plus-tag", "latin-accent", "decomposed-accent-nfc", "accented-upper",
    "fullwidth-domain", "sharp-s", "cyrillic-a-local", "cyrillic-a-upper", "cyrillic-a-domain",
    "greek-omicron", "all-cyrillic-lookalike", "latin-alpha", "fullwidth-local",
    "japanese-local-smtputf8",
])
def test_email_valid(raw: str, normalized: str, skeleton: str | None) -> None:
    result = normalise_email(raw)
    assert result == NormalisedIdentifier(
        kind=IdentifierKind.EMAIL, value=raw.strip(), normalized=normalized,
        skeleton=skeleton, problem=None)


@pytest.mark.parametrize(("raw", "problem", "skeleton"), [
    (f"jan{ZWSP}@example.com", "U+200B ZERO WIDTH SPACE", "jan@example.com"),
    (f"j{ZWSP}{CYRILLIC_A}n@example.com", "U+200B", "jan@example.com"),
    (f"jan@exam{ZWSP}ple.com", "U+200B", "jan@example.com"),
    (f"jan{RLO}@example.com", "U+202E RIGHT-TO-LEFT OVERRIDE", "jan@example.com"),
    ("jan\u2066@example.com", "U+2066 LEFT-TO-RIGHT ISOLATE", "jan@example.com"),
    ("\ufeffjan@example.com", "U+FEFF", "jan@example.com"),
    ("jan\u00ad@example.com", "U+00AD SOFT HYPHEN", "jan@example.com"),
    ("jan\x00@example.com", "U+0000", "jan@example.com"),
    ("jan @example.com", "whitespace", "jan@example.com"),
    ("jan\u00a0@example.com", "whitespace", "jan@example.com"),
    ("jan@example", "should have a period", "jan@example"),
    ("jan..x@example.com", "two periods", "jan..x@example.com"),
    ("jan@", "something after the @-sign", None),
    ("@example.com", "something before the @-sign", None),
    ("jan", "must have an @-sign", None),
    ("", "must have an @-sign", None),
    ('"jan"@example.com', "Quoting", None),
    ("jan@[127.0.0.1]", "bracketed IP address", "jan@[127.0.0.1]"),
    ("x" * 64 + "@" + ("a" * 60 + ".") * 4 + "com", "too long", None),
], ids=[
    "zero-width-space", "zero-width-plus-cyrillic", "zero-width-in-domain", "bidi-override",
    "bidi-isolate", "byte-order-mark", "soft-hyphen", "nul", "space-inside", "nbsp-inside",
    "no-tld", "double-dot", "no-domain", "no-local-part", "no-at", "empty", "quoted-local",
    "ip-literal", "too-long",
])
def test_email_invalid_is_kept_with_a_problem(
    raw: str, problem: str, skeleton: str | None,
) -> None:
    result = normalise_email(raw)
    assert result.value == raw.strip()
    assert result.normalized is None
    assert result.problem is not None and problem in result.problem
    if skeleton is not None:
        assert result.skeleton == skeleton


def test_email_too_long_still_has_a_skeleton_to_flag_look_alikes() -> None:
    raw = "x" * 64 + "@" + ("a" * 60 + ".") * 4 + "com"
    assert normalise_email(raw).skeleton == raw


def test_email_smtputf8_local_part_keeps_its_spelling_in_value() -> None:
    result = normalise_email(f" J{CYRILLIC_A}n@Example.com ")
    assert result.value == f"J{CYRILLIC_A}n@Example.com"


@pytest.mark.parametrize(("value", "skeleton"), [
    ("jan@example.com", "jan@example.com"),
    (f"J{CYRILLIC_A}N@EX{CYRILLIC_A}MPLE.COM", "jan@example.com"),
    (f"j{CYRILLIC_O}{CYRILLIC_O}p@example.com", "joop@example.com"),
    (f"jan{ZWSP}{RLO}@example.com", "jan@example.com"),
    ("jan@b\u00fccher.example", "jan@xn--bcher-kva.example"),
    ("jan1@example.com", "jan1@example.com"),
    ("jan@-bad-.example", "jan@-bad-.example"),
    ("no-at-sign", None),
    ("jan@", None),
    (f"{ZWSP}@example.com", None),
], ids=[
    "plain", "cyrillic-everywhere", "cyrillic-o", "invisible-removed", "idn-encoded",
    "ascii-digit-untouched", "unencodable-domain-kept", "no-at", "no-domain",
    "only-invisible-local",
])
def test_email_skeleton(value: str, skeleton: str | None) -> None:
    assert email_skeleton(value) == skeleton


@pytest.mark.parametrize(("value", "characters"), [
    ("jan@example.com", []),
    ("Jan@Example.com", []),
    ("jan@b\u00fccher.example", []),
    (f"j{CYRILLIC_A}n{CYRILLIC_A}@example.com", [CYRILLIC_A]),
    (f"jan{ZWSP}@ex{GREEK_OMICRON}.com", [ZWSP, GREEK_OMICRON]),
    ("jan @example.com", [" "]),
], ids=["plain", "ascii-case", "latin-accent", "cyrillic-once", "invisible-and-greek", "space"])
def test_look_alike_characters(value: str, characters: list[str]) -> None:
    assert look_alike_characters(value) == characters


def test_lookalikes_share_a_skeleton_but_never_a_key() -> None:
    plain = normalise_email("jan@example.com")
    variants = [normalise_email(v) for v in (
        f"j{CYRILLIC_A}n@example.com", f"jan{ZWSP}@example.com", "\uff4a\uff41\uff4e@example.com")]
    for variant in variants:
        assert variant.skeleton == plain.normalized
        assert variant.normalized != plain.normalized


# --- opaque ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "raw", "normalized"), [
    (IdentifierKind.CHAT_VISITOR, "vis_01HZX3", "vis_01HZX3"),
    (IdentifierKind.CHAT_VISITOR, "  vis_01HZX3\n", "vis_01HZX3"),
    (IdentifierKind.CHAT_VISITOR, "Vis_01hzx3", "Vis_01hzx3"),
    (IdentifierKind.CRM, "CRM-000042", "CRM-000042"),
    (IdentifierKind.CRM, "crm-000042", "crm-000042"),
    (IdentifierKind.CRM, "a b", "a b"),
    (IdentifierKind.CRM, "x" * MAX_OPAQUE_LENGTH, "x" * MAX_OPAQUE_LENGTH),
    (IdentifierKind.CRM, "kl\u00e4nt-7", "kl\u00e4nt-7"),
], ids=[
    "visitor", "visitor-stripped", "visitor-case-kept", "crm", "crm-case-kept",
    "inner-space-kept", "max-length", "non-ascii",
])
def test_opaque_valid(kind: IdentifierKind, raw: str, normalized: str) -> None:
    assert normalise_opaque(kind, raw) == NormalisedIdentifier(
        kind=kind, value=raw.strip(), normalized=normalized, skeleton=None, problem=None)


@pytest.mark.parametrize(("kind", "raw", "problem"), [
    (IdentifierKind.CHAT_VISITOR, "", "empty"),
    (IdentifierKind.CHAT_VISITOR, " \t ", "empty"),
    (IdentifierKind.CRM, "x" * (MAX_OPAQUE_LENGTH + 1), "longer than 200"),
    (IdentifierKind.CRM, f"CRM-42{ZWSP}", "U+200B"),
    (IdentifierKind.CHAT_VISITOR, f"vis{RLO}1", "U+202E"),
    (IdentifierKind.CRM, "CRM\x07-42", "U+0007"),
], ids=["empty", "blank", "too-long", "zero-width", "bidi-override", "control"])
def test_opaque_invalid(kind: IdentifierKind, raw: str, problem: str) -> None:
    result = normalise_opaque(kind, raw)
    assert result.normalized is None
    assert result.skeleton is None
    assert result.problem is not None and problem in result.problem


@pytest.mark.parametrize("kind", [IdentifierKind.EMAIL, IdentifierKind.PHONE])
def test_opaque_refuses_structured_kinds(kind: IdentifierKind) -> None:
    with pytest.raises(ValueError, match="not an opaque identifier kind"):
        normalise_opaque(kind, "x")


@pytest.mark.parametrize(("kind", "raw", "normalized"), [
    (IdentifierKind.EMAIL, "Jan@Example.com", "jan@example.com"),
    (IdentifierKind.PHONE, "06-12345678", "+31612345678"),
    (IdentifierKind.CHAT_VISITOR, "vis_1", "vis_1"),
    (IdentifierKind.CRM, "CRM-1", "CRM-1"),
], ids=lambda v: v.value if isinstance(v, IdentifierKind) else None)
def test_normalise_dispatches_on_kind(kind: IdentifierKind, raw: str, normalized: str) -> None:
    result = normalise(kind, raw, default_region="NL")
    assert (result.kind, result.normalized) == (kind, normalized)
