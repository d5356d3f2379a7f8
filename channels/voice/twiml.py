"""TwiML through the `twilio` library only: every text goes in as a ``<Say>`` body, which
the library escapes, so a caller's name or a case subject can never become a verb."""

from __future__ import annotations

from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from channels.voice.menu import Language, Menu

BASE = "/webhooks/twilio/voice"


def url(step: str, **query: object) -> str:
    """A webhook URL of ours, relative (Twilio resolves it against the request's)."""
    path = f"{BASE}/{step}" if step else BASE
    return f"{path}?{urlencode({k: v for k, v in query.items() if v is not None})}" \
        if query else path


def say(target: VoiceResponse | Gather, menu: Menu, language: Language, text: str) -> None:
    voice = menu.voices[language]
    target.say(text, voice=voice.voice, language=voice.language)


def gather(response: VoiceResponse, menu: Menu, language: Language, *, action: str,
           hints: list[str]) -> Gather:
    voice = menu.voices[language]
    return response.gather(
        input="dtmf speech", action=action, method="POST", num_digits=1,
        timeout=menu.timeout_s, speech_timeout="auto", language=voice.language,
        hints=",".join(hints) if hints else None, action_on_empty_result=True)


def xml(response: VoiceResponse) -> str:
    return str(response.to_xml())
