"""The survey page an e-mailed link opens: ``GET /survey/{token}`` (the questions, nl/en),
``POST /survey/{token}`` (the answer) and ``POST /survey/{token}/opt-out``.

No login: the 256-bit token in the link is the credential (only its hash is stored), so no
CSRF token is needed beyond it. Plain HTML without script under a strict
Content-Security-Policy; everything shown that anyone typed is escaped. Answers are
idempotent: the same answer again shows the same thanks, a different one is refused with
the first answer shown. Unknown links get a friendly 404 page, closed surveys 410. Rate
limited per client like the web forms. ``Referrer-Policy: no-referrer`` keeps the token
out of other sites' logs.
"""

from __future__ import annotations

from html import escape
from typing import Literal

from aiohttp import web

from core.domain.errors import InvalidInput, NotFound
from core.domain.surveys import (
    CSAT_RANGE,
    MAX_COMMENT,
    NPS_RANGE,
    AlreadyAnswered,
    SurveyExpired,
    SurveyKind,
    SurveyResponse,
)
from workers.web.keys import SERVICES
from workers.web.ratelimit import RATE_LIMITS, client_ip, limit

Language = Literal["nl", "en"]
PER_CLIENT = limit("30/minute")
ANSWERS_PER_CLIENT = limit("10/minute")
_PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; form-action 'self'; "
                                "base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Robots-Tag": "noindex",
}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("Hoe hebben we u geholpen?", "How did we do?"),
    "intro": ("Fijn dat u even de tijd neemt. Uw antwoord helpt ons beter te worden.",
              "Thank you for taking a moment. Your answer helps us do better."),
    "csat": ("Hoe tevreden bent u over hoe we u hebben geholpen?",
             "How satisfied are you with how we helped you?"),
    "nps": ("Hoe waarschijnlijk is het dat u ons aanbeveelt aan vrienden of collega's? "
            "(0 = zeer onwaarschijnlijk, 10 = zeer waarschijnlijk)",
            "How likely are you to recommend us to a friend or colleague? "
            "(0 = not at all likely, 10 = extremely likely)"),
    "comment": ("Wilt u nog iets toelichten? (optioneel)",
                "Anything you would like to add? (optional)"),
    "send": ("Versturen", "Send"),
    "other": ("English", "Nederlands"),
    "errors": ("Controleer uw antwoord:", "Please check your answer:"),
    "score_error": ("Kies een cijfer van 1 tot 5.", "Choose 1 to 5."),
    "nps_error": ("Kies een cijfer van 0 tot 10.", "Choose 0 to 10."),
    "comment_error": (f"Uw toelichting mag hoogstens {MAX_COMMENT} tekens lang zijn.",
                      f"Your comment may be at most {MAX_COMMENT} characters long."),
    "thanks_title": ("Dank u wel!", "Thank you!"),
    "thanks": ("We hebben uw antwoord ontvangen.", "We have received your answer."),
    "already": ("U heeft deze vragen al beantwoord; uw eerste antwoord blijft staan.",
                "You have answered these questions already; your first answer stands."),
    "your_answer": ("Uw antwoord", "Your answer"),
    "csat_shown": ("Tevredenheid: {n} van 5", "Satisfaction: {n} out of 5"),
    "nps_shown": ("Aanbevelen: {n} van 10", "Recommend: {n} out of 10"),
    "closed_title": ("Deze vragenlijst is gesloten", "This survey has closed"),
    "closed": ("De link is niet meer geldig. Toch bedankt dat u wilde reageren.",
               "The link is no longer valid. Thank you for wanting to answer all the same."),
    "unknown_title": ("Deze link kennen we niet", "We do not know this link"),
    "unknown": ("Controleer of u de hele link uit de e-mail heeft gebruikt.",
                "Please check that you used the whole link from the e-mail."),
    "opt_out": ("Stuur mij geen vragenlijsten meer", "Do not send me surveys any more"),
    "opted_out_title": ("Afgemeld", "Unsubscribed"),
    "opted_out": ("U krijgt geen vragenlijsten meer van ons.",
                  "We will not send you surveys any more."),
    "slow_title": ("Even geduld", "Please wait"),
    "slow": ("Te veel verzoeken; probeer het over {n} seconden opnieuw.",
             "Too many requests; please try again in {n} seconds."),
    "unsupported": ("Verstuur het formulier op deze pagina.", "Please send the form on this "
                    "page."),
}
_CSAT_LABELS = {
    "nl": ("zeer ontevreden", "ontevreden", "neutraal", "tevreden", "zeer tevreden"),
    "en": ("very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"),
}


def install(app: web.Application) -> None:
    app.router.add_get("/survey/{token}", show)
    app.router.add_post("/survey/{token}", answer)
    app.router.add_post("/survey/{token}/opt-out", opt_out)


def _t(key: str, language: Language, **values: object) -> str:
    nl, en = _TEXTS[key]
    return (en if language == "en" else nl).format(**values)


def _language(request: web.Request, fallback: str | None,
              given: str | None = None) -> Language:
    for wanted in (given, request.query.get("lang"), fallback):
        if wanted in ("nl", "en"):
            return "en" if wanted == "en" else "nl"
    return "nl"


def _page(title: str, language: Language, body: str, status: int = 200,
          headers: dict[str, str] | None = None) -> web.Response:
    text = (f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex">'
            f"<title>{escape(title)}</title>"
            f'<link rel="stylesheet" href="/forms/static/forms.css"></head>'
            f"<body><main>{body}</main></body></html>")
    return web.Response(text=text, content_type="text/html", charset="utf-8", status=status,
                        headers={**_PAGE_HEADERS, **(headers or {})})


def _message(title_key: str, text_key: str, language: Language, status: int) -> web.Response:
    title = _t(title_key, language)
    return _page(title, language, f"<h1>{escape(title)}</h1>"
                 f'<p role="status">{escape(_t(text_key, language))}</p>', status)


async def _limited(request: web.Request, language: Language, *,
                   answering: bool = False) -> web.Response | None:
    limits = request.app[RATE_LIMITS]
    ip = client_ip(request)
    wait = await limits.retry_after(PER_CLIENT, "survey", ip)
    if wait is None and answering:
        wait = await limits.retry_after(ANSWERS_PER_CLIENT, "survey-answer", ip)
    if wait is None:
        return None
    title = _t("slow_title", language)
    return _page(title, language, f"<h1>{escape(title)}</h1>"
                 f'<p role="alert">{escape(_t("slow", language, n=wait))}</p>', 429,
                 headers={"Retry-After": str(wait)})


async def show(request: web.Request) -> web.Response:
    limited = await _limited(request, _language(request, None))
    if limited is not None:
        return limited
    view = await request.app[SERVICES].surveys.view_by_token(request.match_info["token"])
    if view is None:
        return _message("unknown_title", "unknown", _language(request, None), 404)
    language = _language(request, view.invitation.language)
    if view.response is not None:
        return _answered(request, view.response, language, again=True)
    if view.expired:
        return _message("closed_title", "closed", language, 410)
    return _form(request, view.invitation.kind, language)


async def answer(request: web.Request) -> web.Response:
    limited = await _limited(request, _language(request, None), answering=True)
    if limited is not None:
        return limited
    if request.content_type not in _FORM_TYPES:
        return _message("title", "unsupported", _language(request, None), 415)
    posted = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    token = request.match_info["token"]
    surveys = request.app[SERVICES].surveys
    view = await surveys.view_by_token(token)
    if view is None:
        return _message("unknown_title", "unknown", _language(request, None), 404)
    language = _language(request, view.invitation.language, posted.get("lang"))
    score, nps = _number(posted.get("score")), _number(posted.get("nps"))
    comment = posted.get("comment")
    try:
        answered = await surveys.answer_by_token(token, score=score, nps=nps, comment=comment,
                                                 language=language)
    except NotFound:
        return _message("unknown_title", "unknown", language, 404)
    except SurveyExpired:
        return _message("closed_title", "closed", language, 410)
    except AlreadyAnswered as err:
        return _answered(request, err.response, language, again=True, status=409)
    except InvalidInput as err:
        errors = {name: _t(f"{name}_error", language) for name in err.reasons
                  if name in ("score", "nps", "comment")}
        return _form(request, view.invitation.kind, language, values=posted,
                     errors=errors or {"score": _t("score_error", language)}, status=422)
    return _answered(request, answered.response, language, again=answered.duplicate)


async def opt_out(request: web.Request) -> web.Response:
    limited = await _limited(request, _language(request, None), answering=True)
    if limited is not None:
        return limited
    try:
        invitation = await request.app[SERVICES].surveys.opt_out_by_token(
            request.match_info["token"])
    except NotFound:
        return _message("unknown_title", "unknown", _language(request, None), 404)
    return _message("opted_out_title", "opted_out",
                    _language(request, invitation.language), 200)


def _number(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 3 else -1


def _form(request: web.Request, kind: SurveyKind, language: Language, *,
          values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> web.Response:
    values = values or {}
    errors = errors or {}
    action = escape(request.path)
    other = "en" if language == "nl" else "nl"
    parts = [f'<p class="lang"><a href="?lang={other}" hreflang="{other}" lang="{other}">'
             f"{_t('other', language)}</a></p>",
             f"<h1>{escape(_t('title', language))}</h1>",
             f"<p>{escape(_t('intro', language))}</p>"]
    if errors:
        items = "".join(f'<li><a href="#q-{name}">{escape(problem)}</a></li>'
                        for name, problem in errors.items())
        parts.append(f'<div class="errors" role="alert" id="errors">'
                     f"<p>{escape(_t('errors', language))}</p><ul>{items}</ul></div>")
    parts.append(f'<form method="post" action="{action}">'
                 f'<input type="hidden" name="lang" value="{language}">')
    if kind.asks_csat:
        labels = _CSAT_LABELS[language]
        parts.append(_scale("score", _t("csat", language), [
            (n, f"{n} ({labels[n - 1]})") for n in CSAT_RANGE], values.get("score"),
            errors.get("score")))
    if kind.asks_nps:
        parts.append(_scale("nps", _t("nps", language), [(n, str(n)) for n in NPS_RANGE],
                            values.get("nps"), errors.get("nps")))
    comment_error = errors.get("comment")
    invalid = ' aria-invalid="true" aria-describedby="q-comment-error"' if comment_error else ""
    parts.append(f'<div class="field"><label for="q-comment">'
                 f"{escape(_t('comment', language))}</label>"
                 + (f'<p class="error" id="q-comment-error">{escape(comment_error)}</p>'
                    if comment_error else "")
                 + f'<textarea id="q-comment" name="comment" rows="5" '
                 f'maxlength="{MAX_COMMENT}"{invalid}>{escape(values.get("comment", ""))}'
                 f"</textarea></div>")
    parts.append(f'<button type="submit">{escape(_t("send", language))}</button></form>')
    parts.append(_opt_out_form(request, language))
    return _page(_t("title", language), language, "".join(parts), status)


def _scale(name: str, question: str, options: list[tuple[int, str]], chosen: str | None,
           error: str | None) -> str:
    described = f' aria-describedby="q-{name}-error"' if error else ""
    radios = "".join(
        f'<span class="choice"><input type="radio" id="q-{name}-{n}" name="{name}" '
        f'value="{n}"{" checked" if chosen == str(n) else ""}>'
        f'<label for="q-{name}-{n}">{escape(label)}</label></span>'
        for n, label in options)
    problem = f'<p class="error" id="q-{name}-error">{escape(error)}</p>' if error else ""
    return (f'<fieldset class="field" id="q-{name}"{described}>'
            f"<legend>{escape(question)}</legend>{problem}{radios}</fieldset>")


def _opt_out_form(request: web.Request, language: Language) -> str:
    return (f'<form method="post" action="{escape(request.path.rstrip("/"))}/opt-out">'
            f'<p><button type="submit" class="secondary">{escape(_t("opt_out", language))}'
            f"</button></p></form>")


def _answered(request: web.Request, response: SurveyResponse, language: Language, *,
              again: bool, status: int = 200) -> web.Response:
    title = _t("thanks_title", language)
    lines = []
    if response.score is not None:
        lines.append(_t("csat_shown", language, n=response.score))
    if response.nps is not None:
        lines.append(_t("nps_shown", language, n=response.nps))
    shown = "".join(f"<li>{escape(line)}</li>" for line in lines)
    comment = (f"<blockquote><p>{escape(response.comment)}</p></blockquote>"
               if response.comment else "")
    body = (f"<h1>{escape(title)}</h1>"
            f'<p role="status" class="confirmation">'
            f"{escape(_t('already' if again else 'thanks', language))}</p>"
            f"<h2>{escape(_t('your_answer', language))}</h2><ul>{shown}</ul>{comment}"
            + _opt_out_form(request, language))
    return _page(title, language, body, status)
