"""Logging in and out of the agent desktop and supervisor console.

``GET /login`` shows the form, ``POST /login`` checks the password (argon2, in
``core.services.access``) and sets the session cookie: HttpOnly (scripts cannot read it),
SameSite=Strict (other sites' requests do not carry it), Secure when the site is served over
https. The form itself is protected against login CSRF by a double-submit token. Failed
attempts are limited per client and per user name. ``POST /logout`` ends the session at once
and closes the desktop connections opened with it.
"""

from __future__ import annotations

import html
import logging
import secrets

from aiohttp import web

from core.services.access import csrf_matches
from workers.notify import agent_channel
from workers.web.actors import request_actor
from workers.web.auth import (
    PRINCIPAL,
    SESSION,
    SESSION_COOKIE,
    session_channel,
    session_fingerprint,
)
from workers.web.errors import REQUEST_ID
from workers.web.keys import SERVICES
from workers.web.pages import Language, home_of, language, page
from workers.web.ratelimit import RATE_LIMITS, client_ip, limit

log = logging.getLogger(__name__)

LOGIN_CSRF_COOKIE = "sb_login"
PER_CLIENT = limit("20/minute")
PER_USERNAME = limit("10/minute")

TEXT: dict[Language, dict[str, str]] = {
    "nl": {"title": "Inloggen — Switchboard", "heading": "Inloggen", "username": "Gebruikersnaam",
           "password": "Wachtwoord", "submit": "Inloggen", "other": "English",
           "wrong": "Gebruikersnaam of wachtwoord klopt niet.",
           "expired": "Het formulier was verlopen. Probeer het nog eens.",
           "slow": "Te veel pogingen. Wacht een minuut en probeer het opnieuw.",
           "bye": "U bent uitgelogd."},
    "en": {"title": "Log in — Switchboard", "heading": "Log in", "username": "User name",
           "password": "Password", "submit": "Log in", "other": "Nederlands",
           "wrong": "The user name or password is not right.",
           "expired": "The form had expired. Please try again.",
           "slow": "Too many attempts. Wait a minute and try again.",
           "bye": "You are logged out."},
}


def install(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/login", show)
    app.router.add_post("/login", submit)
    app.router.add_post("/logout", logout)


async def root(request: web.Request) -> web.StreamResponse:
    principal = request.get(PRINCIPAL)
    raise web.HTTPSeeOther(home_of(principal) if principal else "/login")


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: "//evil.example" and "/\\evil.example" are other sites.
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return None
    return target


def _secure(request: web.Request) -> bool:
    public = request.app[SERVICES].settings.public_url or ""
    return request.secure or public.startswith("https://")


def _form(request: web.Request, *, lang: Language, message: str = "", username: str = "",
          status: int = 200) -> web.Response:
    text = TEXT[lang]
    form_token = secrets.token_urlsafe(24)
    target = _safe_next(request.query.get("next")) or ""
    other = "en" if lang == "nl" else "nl"
    alert = f'<p class="alert" role="alert">{html.escape(message)}</p>' if message else ""
    body = f"""<main class="login">
<h1>{text["heading"]}</h1>
{alert}
<form method="post" action="/login?lang={lang}">
<input type="hidden" name="csrf" value="{form_token}">
<input type="hidden" name="next" value="{html.escape(target)}">
<label>{text["username"]}
<input name="username" autocomplete="username" required maxlength="100" autofocus
 value="{html.escape(username)}"></label>
<label>{text["password"]}
<input name="password" type="password" autocomplete="current-password" required
 maxlength="200"></label>
<button type="submit">{text["submit"]}</button>
</form>
<p class="lang"><a href="/login?lang={other}" hreflang="{other}">{text["other"]}</a></p>
</main>"""
    response = page(title=text["title"], lang=lang, body=body, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, form_token, httponly=True, samesite="Strict",
                        secure=_secure(request), path="/login", max_age=3600)
    return response


async def show(request: web.Request) -> web.StreamResponse:
    lang = language(request)
    if request.query.get("bye"):
        return _form(request, lang=lang, message=TEXT[lang]["bye"])
    return _form(request, lang=lang)


async def submit(request: web.Request) -> web.StreamResponse:
    lang = language(request)
    text = TEXT[lang]
    form = await request.post()
    username = str(form.get("username", ""))[:100].strip()
    password = str(form.get("password", ""))[:200]
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, str(form.get("csrf", ""))):
        return _form(request, lang=lang, message=text["expired"], username=username,
                     status=403)
    limits = request.app[RATE_LIMITS]
    ip = client_ip(request)
    if (await limits.retry_after(PER_CLIENT, "login", ip) is not None
            or await limits.retry_after(PER_USERNAME, "login-user", username.lower())
            is not None):
        log.warning("login attempts limited", extra={"client": ip})
        return _form(request, lang=lang, message=text["slow"], username=username, status=429)
    login = await request.app[SERVICES].access.login(
        username, password, request_id=request.get(REQUEST_ID), client=ip)
    if login is None:
        log.info("login refused", extra={"client": ip})
        return _form(request, lang=lang, message=text["wrong"], username=username,
                     status=401)
    log.info("login", extra={"user": login.principal.id, "client": ip})
    target = _safe_next(str(form.get("next", ""))) or home_of(login.principal)
    response = web.HTTPSeeOther(target)
    response.set_cookie(SESSION_COOKIE, login.session_token, httponly=True,
                        samesite="Strict", secure=_secure(request), path="/",
                        max_age=int(request.app[SERVICES].settings.session_ttl_hours * 3600))
    response.set_cookie("sb_lang", lang, samesite="Strict", secure=_secure(request),
                        path="/", max_age=365 * 86400)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    session = request.get(SESSION)
    principal = request.get(PRINCIPAL)
    response = web.HTTPSeeOther("/login?bye=1")
    if session is not None and principal is not None:
        form = await request.post()
        if not csrf_matches(session, str(form.get("csrf", ""))):
            raise web.HTTPForbidden(text="missing or wrong csrf field")
        services = request.app[SERVICES]
        await services.access.logout(session, actor=request_actor(request))
        await services.push.publish(session_channel(session), {"type": "session_ended"})
        if principal.agent_id is not None:
            # Desktops opened with this session close themselves (see agent_ws).
            await services.push.publish(agent_channel(principal.agent_id), {
                "type": "session_ended", "session": session_fingerprint(session)})
        log.info("logout", extra={"user": principal.id})
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
