"""Automatic mail texts, in Dutch and English: the acknowledgement and the satisfaction
survey invitation.

Plain ``str.format`` over values we control (the case reference, the survey link) and the
customer's subject and name, which only ever land in the text body and, guarded, in the
Subject header.
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


_SURVEY_TEXTS = {
    "nl": Acknowledgement(
        subject="Hoe hebben we u geholpen? [#{reference}]",
        text=(
            "Beste {name},\n\n"
            "Uw vraag {reference} is afgehandeld. Wilt u ons laten weten hoe tevreden u bent? "
            "Het kost u een halve minuut:\n\n"
            "    {link}\n\n"
            "De link is persoonlijk en {valid_days} dagen geldig. Wilt u zulke vragen niet "
            "meer krijgen? Dat kunt u op dezelfde pagina aangeven.\n\n"
            "Met vriendelijke groet,\n{organisation}\n\n"
            "Dit is een automatisch bericht."
        ),
    ),
    "en": Acknowledgement(
        subject="How did we do? [#{reference}]",
        text=(
            "Dear {name},\n\n"
            "Your request {reference} has been dealt with. Would you tell us how satisfied "
            "you are? It takes half a minute:\n\n"
            "    {link}\n\n"
            "The link is personal and valid for {valid_days} days. Rather not be asked "
            "again? You can say so on the same page.\n\n"
            "Kind regards,\n{organisation}\n\n"
            "This is an automatic message."
        ),
    ),
}


def survey_invitation(language: str, *, reference: str, name: str | None, link: str,
                      valid_days: int, organisation: str) -> Acknowledgement:
    """The e-mail asking how we did, with the survey's personal link."""
    language = language if language in _SURVEY_TEXTS else "nl"
    template = _SURVEY_TEXTS[language]
    values = {"reference": reference, "name": name or _DEAR[language], "link": link,
              "valid_days": valid_days, "organisation": organisation}
    return Acknowledgement(subject=template.subject.format(**values),
                           text=template.text.format(**values))
