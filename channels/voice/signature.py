"""Is this request from Twilio? ``X-Twilio-Signature`` checked with the `twilio` library
against the public URL Twilio called (configured, because a TLS proxy in front changes the
scheme and port the service sees). The library compares in constant time."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


class TwilioSignatures:
    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_url.rstrip("/")

    def url_for(self, path_qs: str) -> str:
        return f"{self._base}{path_qs}"

    def valid(self, path_qs: str, params: Mapping[str, str], signature: str | None) -> bool:
        # validate() raises TypeError on a missing signature: that is simply "not valid".
        if not signature:
            return False
        return bool(self._validator.validate(self.url_for(path_qs), dict(params), signature))
