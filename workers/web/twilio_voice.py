"""Twilio's voice webhooks. Each request's signature is checked first (403 otherwise, and
nothing changes); a failure inside still answers with TwiML that keeps the caller (a
voicemail), so a database outage never drops a call into Twilio's own error message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from channels.voice.menu import Language
from channels.voice.service import VoiceService
from workers.web.keys import SERVICES

log = logging.getLogger(__name__)

Step = Callable[[VoiceService, dict[str, str], web.Request], Awaitable[str | None]]


def install(app: web.Application) -> None:
    base = "/webhooks/twilio/voice"
    app.router.add_post(base, _webhook(_incoming))
    app.router.add_post(f"{base}/menu", _webhook(_menu))
    app.router.add_post(f"{base}/wait", _webhook(_wait))
    app.router.add_post(f"{base}/callback", _webhook(_callback))
    app.router.add_post(f"{base}/recording", _webhook(_recording))
    app.router.add_post(f"{base}/status", _webhook(_status))
    app.router.add_post(f"{base}/fallback", _webhook(_fallback))
    app.router.add_post(f"{base}/connect", _webhook(_connect))
    app.router.add_post(f"{base}/bridge", _webhook(_bridge))
    app.router.add_post(f"{base}/agent-answered", _webhook(_agent_answered))
    app.router.add_post(f"{base}/dial-result", _webhook(_dial_result))
    app.router.add_post(f"{base}/requeue", _webhook(_dial_result))
    app.router.add_post(f"{base}/hold", _webhook(_hold))
    app.router.add_post(f"{base}/survey", _webhook(_survey))


def _language(request: web.Request) -> Language:
    return "en" if request.query.get("lang") == "en" else "nl"


def _twiml(body: str) -> web.Response:
    return web.Response(text=body, content_type="application/xml", charset="utf-8")


def _webhook(step: Step) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        signatures = services.twilio_signatures
        if signatures is None:
            raise web.HTTPNotFound(text="the phone channel is not configured "
                                        "(SWITCHBOARD_TWILIO_AUTH_TOKEN, SWITCHBOARD_PUBLIC_URL)")
        posted = await request.post()
        params = {k: str(v) for k, v in posted.items()}
        if not signatures.valid(request.path_qs, params,
                                request.headers.get("X-Twilio-Signature")):
            log.warning("twilio webhook %s refused: bad or missing signature", request.path)
            raise web.HTTPForbidden(text="the request signature is missing or wrong")
        try:
            answer = await step(services.voice, params, request)
        except Exception:
            log.exception("twilio webhook %s failed; answering with the fallback",
                          request.path)
            return _twiml(VoiceService.fallback(_language(request)))
        return _twiml(answer) if answer is not None else web.Response(status=204)
    handle.__name__ = getattr(step, "__name__", "twilio_webhook")
    return handle


async def _incoming(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return await voice.incoming(p)


async def _menu(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    attempt = request.query.get("attempt", "0")
    return await voice.menu_step(p, node=request.query.get("node", "root"),
                                 language=_language(request),
                                 attempt=int(attempt) if attempt.isdigit() else 0,
                                 case_id=request.query.get("case"))


async def _wait(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    hold = request.app[SERVICES].settings.twilio_hold_music_url or ""
    return await voice.wait(p, language=_language(request), menu_hold=hold)


async def _callback(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return await voice.callback(p, language=_language(request))


async def _recording(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return await voice.recording(p, language=_language(request))


async def _status(voice: VoiceService, p: dict[str, str], request: web.Request) -> None:
    await voice.status(p)
    return None


async def _fallback(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return VoiceService.fallback(_language(request))


async def _connect(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    caller_id = request.app[SERVICES].settings.twilio_caller_id or p.get("From", "")
    return await voice.connect(p, caller_id=caller_id)


async def _bridge(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return await request.app[SERVICES].bridge.bridge(request.query.get("offer", ""))


async def _hold(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return await request.app[SERVICES].bridge.hold(request.query.get("case", ""),
                                                   language=_language(request))


async def _agent_answered(voice: VoiceService, p: dict[str, str],
                          request: web.Request) -> str:
    return await request.app[SERVICES].bridge.agent_answered(p, request.query.get("offer", ""))


async def _survey(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    return await voice.survey_answer(p, language=_language(request))


async def _dial_result(voice: VoiceService, p: dict[str, str], request: web.Request) -> str:
    if p.get("DialCallStatus") in ("completed", "answered"):
        return await voice.after_call(p)  # the conversation is over; the caller is still here
    bridge = request.app[SERVICES].bridge
    offer = request.query.get("offer", "")
    return await bridge.dial_result(p, offer, queue=await bridge.queue_of(offer))
