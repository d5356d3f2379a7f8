"""Checking a submission against its form: one message per field, in the visitor's
language, and nothing stored unless every field is right."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from channels.webforms.definitions import FieldDef, FormDef, Language
from core.identity.normalise import normalise_email, normalise_phone

_MESSAGES = {
    "required": ("Vul dit veld in.", "Please fill in this field."),
    "too_long": ("Maximaal {n} tekens.", "At most {n} characters."),
    "email": ("Dit is geen geldig e-mailadres.", "This is not a valid e-mail address."),
    "phone": ("Dit is geen geldig telefoonnummer.", "This is not a valid phone number."),
    "option": ("Kies een van de mogelijkheden.", "Choose one of the options."),
    "date": ("Gebruik de vorm JJJJ-MM-DD.", "Use the form YYYY-MM-DD."),
    "number": ("Vul een getal in.", "Enter a number."),
    "file_size": ("Het bestand is groter dan {n} MB.", "The file is larger than {n} MB."),
    "file_count": ("Maximaal {n} bestanden.", "At most {n} files."),
    "unknown": ("Dit veld hoort niet bij het formulier.", "This field is not part of the form."),
}
# Control characters (but tab and newline) never belong in what a person typed.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e"
                       "\u2066-\u2069]")


def message(key: str, language: Language, **values: object) -> str:
    nl, en = _MESSAGES[key]
    return (en if language == "en" else nl).format(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadedFile:
    field_name: str
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    values: dict[str, str]  # cleaned, by field name; only fields that were given
    files: tuple[UploadedFile, ...]
    errors: dict[str, str]  # field name → message; empty when valid
    region: str = "NL"

    @property
    def valid(self) -> bool:
        return not self.errors


def clean_text(value: str, *, multiline: bool) -> str:
    value = unicodedata.normalize("NFC", _CONTROLS.sub("", value.replace("\r\n", "\n")))
    return value.strip() if multiline else " ".join(value.split())


def check(form: FormDef, values: Mapping[str, str], files: list[UploadedFile],
          language: Language, *, region: str, strict: bool) -> Checked:
    """``strict``: refuse fields the form does not have (JSON clients); HTML forms may
    carry extras (the honeypot, the idempotency key) that the caller removed already."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    known = {f.name for f in form.fields}
    if strict:
        for name in values:
            if name not in known:
                errors[name] = message("unknown", language)
    for definition in form.fields:
        if definition.type == "file":
            continue
        raw = values.get(definition.name, "")
        problem, value = _check_field(definition, raw, language, region)
        if problem:
            errors[definition.name] = problem
        elif value:
            cleaned[definition.name] = value
    kept = _check_files(form, files, language, errors)
    return Checked(values=cleaned, files=kept, errors=errors, region=region)


def _check_field(definition: FieldDef, raw: str, language: Language,
                 region: str) -> tuple[str | None, str]:
    value = clean_text(raw, multiline=definition.type == "textarea")
    if definition.type == "checkbox":
        value = "yes" if value.lower() in ("on", "yes", "true", "1") else ""
    if not value:
        return (message("required", language) if definition.required else None), ""
    if len(value) > definition.max_length:
        return message("too_long", language, n=definition.max_length), ""
    problem = _TYPE_CHECKS.get(definition.type, _fine)(definition, value, region)
    return (message(problem, language), "") if problem else (None, value)


def _fine(definition: FieldDef, value: str, region: str) -> str | None:
    return None


def _email(definition: FieldDef, value: str, region: str) -> str | None:
    return None if normalise_email(value).valid else "email"


def _phone(definition: FieldDef, value: str, region: str) -> str | None:
    return None if normalise_phone(value, region).valid else "phone"


def _option(definition: FieldDef, value: str, region: str) -> str | None:
    return None if value in {o.value for o in definition.options} else "option"


def _date(definition: FieldDef, value: str, region: str) -> str | None:
    try:
        date.fromisoformat(value)
    except ValueError:
        return "date"
    return None


def _number(definition: FieldDef, value: str, region: str) -> str | None:
    try:
        float(value.replace(",", "."))
    except ValueError:
        return "number"
    return None


_TYPE_CHECKS: dict[str, Callable[[FieldDef, str, str], str | None]] = {
    "email": _email, "phone": _phone, "select": _option, "date": _date, "number": _number,
}


def _check_files(form: FormDef, files: list[UploadedFile], language: Language,
                 errors: dict[str, str]) -> tuple[UploadedFile, ...]:
    file_fields = {f.name for f in form.fields if f.type == "file"}
    given = [f for f in files if f.content or f.filename]
    for upload in given:
        if upload.field_name not in file_fields:
            errors[upload.field_name] = message("unknown", language)
        elif len(upload.content) > form.max_file_bytes:
            errors[upload.field_name] = message("file_size", language,
                                           n=form.max_file_bytes // (1024 * 1024))
    if len(given) > form.max_files:
        errors[next(iter(file_fields), "files")] = message("file_count", language,
                                                           n=form.max_files)
    return tuple(given)
