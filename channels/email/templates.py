"""The automatic acknowledgement, in Dutch and English.

Plain ``str.format`` over values we control (the case reference) and the customer's subject,
which only ever lands in the text body and, guarded, in the Subject header.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    subject: str
    text: str


_TEXTS = {
    "nl": Acknowledgement(
        subject="Ontvangen: {subject}",
        text=(
            "Beste {name},\n\n"
            "Dank voor uw bericht. We hebben het ontvangen onder nummer {reference} en "
            "nemen zo snel mogelijk contact met u op.\n\n"
            "Reageert u op deze e-mail als u iets wilt aanvullen; het nummer in het onderwerp "
            "zorgt dat uw reactie bij dezelfde vraag komt.\n\n"
            "Met vriendelijke groet,\n{organisation}\n\n"
            "Dit is een automatisch bericht."
        ),
    ),
    "en": Acknowledgement(
        subject="Received: {subject}",
        text=(
            "Dear {name},\n\n"
            "Thank you for your message. We have received it as {reference} and will get back "
            "to you as soon as we can.\n\n"
            "If you want to add something, reply to this e-mail; the number in the subject "
            "keeps your answer with the same request.\n\n"
            "Kind regards,\n{organisation}\n\n"
            "This is an automatic message."
        ),
    ),
}
_DEAR = {"nl": "klant", "en": "customer"}


def acknowledgement(language: str, *, reference: str, subject: str, name: str | None,
                    organisation: str) -> Acknowledgement:
    language = language if language in _TEXTS else "nl"
    template = _TEXTS[language]
    values = {"reference": reference, "subject": subject or reference,
              "name": name or _DEAR[language], "organisation": organisation}
    return Acknowledgement(subject=template.subject.format(**values),
                           text=template.text.format(**values))
