"""Forms as accessible HTML: labels bound to inputs, errors announced and linked to their
field, everything a visitor or a supervisor typed escaped. No script: the pages work
without JavaScript and are served with a Content-Security-Policy that allows none."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from channels.webforms.definitions import FieldDef, FormDef, Language

HONEYPOT = "website"  # hidden from people; bots fill it in
IDEMPOTENCY_FIELD = "_submission"
_TEXTS = {
    "send": ("Versturen", "Send"),
    "required": ("verplicht", "required"),
    "errors": ("Het formulier bevat fouten:", "Please correct the following:"),
    "other": ("English", "Nederlands"),
    "choose": ("Maak een keuze", "Choose"),
    "honeypot": ("Laat dit veld leeg", "Leave this field empty"),
    "again": ("Nog een formulier versturen", "Send another"),
}
_INPUT_TYPES = {"text": "text", "email": "email", "phone": "tel", "date": "date",
                "number": "text", "file": "file"}
_AUTOCOMPLETE = {"name": "name", "email": "email", "phone": "tel"}


def _t(key: str, language: Language) -> str:
    nl, en = _TEXTS[key]
    return en if language == "en" else nl


def _page(title: str, language: Language, body: str) -> str:
    return (f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>"
            f'<link rel="stylesheet" href="/forms/static/forms.css"></head>'
            f"<body><main>{body}</main></body></html>")


def form_page(form: FormDef, language: Language, *, action: str, idempotency_key: str,
              values: Mapping[str, str] | None = None,
              errors: Mapping[str, str] | None = None) -> str:
    values = values or {}
    errors = errors or {}
    other = "en" if language == "nl" else "nl"
    parts = [f'<p class="lang"><a href="?lang={other}" hreflang="{other}" lang="{other}">'
             f"{_t('other', language)}</a></p>",
             f"<h1>{escape(form.title(language))}</h1>"]
    if form.intro:
        parts.append(f"<p>{escape(form.intro(language))}</p>")
    if errors:
        items = "".join(f'<li><a href="#f-{escape(name)}">{escape(_label(form, name, language))}'
                        f": {escape(problem)}</a></li>" for name, problem in errors.items())
        parts.append(f'<div class="errors" role="alert" tabindex="-1" id="errors">'
                     f"<p>{_t('errors', language)}</p><ul>{items}</ul></div>")
    enctype = ' enctype="multipart/form-data"' if any(
        f.type == "file" for f in form.fields) else ""
    parts.append(f'<form method="post" action="{escape(action)}"{enctype} novalidate>')
    parts.append(f'<input type="hidden" name="{IDEMPOTENCY_FIELD}" '
                 f'value="{escape(idempotency_key)}">')
    parts.append(f'<input type="hidden" name="lang" value="{language}">')
    for definition in form.fields:
        parts.append(_field(definition, language, values.get(definition.name, ""),
                            errors.get(definition.name)))
    parts.append(f'<div class="hp" aria-hidden="true"><label for="f-{HONEYPOT}">'
                 f"{_t('honeypot', language)}</label><input id=\"f-{HONEYPOT}\" "
                 f'name="{HONEYPOT}" type="text" tabindex="-1" autocomplete="off"></div>')
    parts.append(f'<button type="submit">{_t("send", language)}</button></form>')
    return _page(form.title(language), language, "".join(parts))


def _label(form: FormDef, name: str, language: Language) -> str:
    found = next((f for f in form.fields if f.name == name), None)
    return found.label(language) if found else name


def _field(definition: FieldDef, language: Language, value: str, error: str | None) -> str:
    field_id = f"f-{definition.name}"
    described = []
    if definition.help:
        described.append(f"{field_id}-help")
    if error:
        described.append(f"{field_id}-error")
    attributes = [f'id="{field_id}"', f'name="{definition.name}"']
    if described:
        attributes.append(f'aria-describedby="{" ".join(described)}"')
    if definition.required:
        attributes.append('required aria-required="true"')
    if error:
        attributes.append('aria-invalid="true"')
    if definition.role in _AUTOCOMPLETE:
        attributes.append(f'autocomplete="{_AUTOCOMPLETE[definition.role]}"')
    attrs = " ".join(attributes)
    required = (f' <span class="req">({_t("required", language)})</span>'
                if definition.required else "")
    label = f'<label for="{field_id}">{escape(definition.label(language))}{required}</label>'
    control = _control(definition, language, value, attrs)
    extra = ""
    if definition.help:
        extra += f'<p class="help" id="{field_id}-help">{escape(definition.help(language))}</p>'
    if error:
        extra += f'<p class="error" id="{field_id}-error">{escape(error)}</p>'
    if definition.type == "checkbox":
        return f'<div class="field check">{control} {label}{extra}</div>'
    return f'<div class="field">{label}{extra}{control}</div>'


def _control(definition: FieldDef, language: Language, value: str, attrs: str) -> str:
    if definition.type == "textarea":
        return (f'<textarea {attrs} rows="6" maxlength="{definition.max_length}">'
                f"{escape(value)}</textarea>")
    if definition.type == "select":
        options = [f'<option value="">{_t("choose", language)}</option>']
        for option in definition.options:
            selected = " selected" if option.value == value else ""
            options.append(f'<option value="{escape(option.value)}"{selected}>'
                           f"{escape(option.label(language))}</option>")
        return f"<select {attrs}>{''.join(options)}</select>"
    if definition.type == "checkbox":
        checked = " checked" if value else ""
        return f'<input type="checkbox" {attrs}{checked}>'
    kind = _INPUT_TYPES[definition.type]
    shown = "" if kind == "file" else f' value="{escape(value)}"'
    length = "" if kind == "file" else f' maxlength="{definition.max_length}"'
    return f'<input type="{kind}" {attrs}{shown}{length}>'


def confirmation_page(form: FormDef, language: Language, reference: str | None,
                      *, again: str) -> str:
    text = form.confirmation(language).format(reference=reference or "")
    body = (f"<h1>{escape(form.title(language))}</h1>"
            f'<p role="status" class="confirmation">{escape(text)}</p>'
            f'<p><a href="{escape(again)}">{_t("again", language)}</a></p>')
    return _page(form.title(language), language, body)
