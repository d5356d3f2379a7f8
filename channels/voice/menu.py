"""The phone menu as data: a tree of nodes, each with a prompt per language and options
chosen by a key or a spoken word. A leaf says where the call goes (case type, queue,
skills, priority) or which self-service runs. Supervisors change it without code; the
demo set-up installs the one below.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Language = Literal["nl", "en"]
Key = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]


class Said(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    nl: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    en: Annotated[str, StringConstraints(min_length=1, max_length=1000)]

    def __call__(self, language: Language) -> str:
        return self.en if language == "en" else self.nl


class Route(BaseModel):
    """Where a leaf sends the caller: a case like any other contact, routed by the rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    case_type: Literal["question", "complaint", "request"] = "question"
    queue: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    tags: tuple[str, ...] = ()
    topic: str | None = None  # the ivr_choice routing rules and classification see


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: Key
    keywords: tuple[str, ...] = ()  # spoken alternatives, both languages
    label: Said  # "for a question about your invoice"
    goto: str | None = None  # a sub-menu node
    route: Route | None = None
    self_service: Literal["case_status", "preferred_channel", "link_number"] | None = None
    language: Language | None = None  # "for English, press 9"

    @model_validator(mode="after")
    def _one_action(self) -> Option:
        chosen = [x for x in (self.goto, self.route, self.self_service, self.language)
                  if x is not None]
        if len(chosen) != 1:
            raise ValueError(f"option {self.key}: give exactly one of goto, route, "
                             "self_service, language")
        return self


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    prompt: Said
    options: tuple[Option, ...] = Field(min_length=1, max_length=12)


class Voice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    language: str  # the BCP 47 code Twilio's <Say> and <Gather> take
    voice: str


_VOICES: dict[Language, Voice] = {"nl": Voice(language="nl-NL", voice="Polly.Lotte"),
                                  "en": Voice(language="en-GB", voice="Polly.Amy")}


class Menu(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    greeting: Said  # "{name}" is the caller's name when known, else empty
    closed: Said  # outside business hours, before the voicemail beep
    invalid: Said
    agent_route: Route = Route()  # "0" or no choice after the retries
    voices: dict[Language, Voice] = Field(default_factory=lambda: dict(_VOICES))
    timeout_s: int = Field(default=6, ge=2, le=30)
    retries: int = Field(default=2, ge=0, le=5)
    nodes: dict[str, Node]

    @model_validator(mode="after")
    def _connected(self) -> Menu:
        if "root" not in self.nodes:
            raise ValueError("the menu needs a node named root")
        for name, node in self.nodes.items():
            keys = [o.key for o in node.options]
            if len(set(keys)) != len(keys):
                raise ValueError(f"node {name}: a key is used twice")
            for option in node.options:
                if option.goto is not None and option.goto not in self.nodes:
                    raise ValueError(f"node {name}, option {option.key}: no node "
                                     f"{option.goto!r}")
        return self

    def choose(self, node: str, *, digits: str | None, speech: str | None) -> Option | None:
        """The option the caller picked by key, else by a spoken keyword."""
        options = self.nodes[node].options if node in self.nodes else ()
        if digits:
            return next((o for o in options if o.key == digits[:1]), None)
        heard = _fold(speech or "")
        if heard:
            return next((o for o in options if any(_fold(k) in heard for k in o.keywords)),
                        None)
        return None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _s(nl: str, en: str) -> Said:
    return Said(nl=nl, en=en)


DEMO_MENU = Menu(
    greeting=_s("Welkom bij de klantenservice van De Voorbeeld{name}.",
                "Welcome to De Voorbeeld customer service{name}."),
    closed=_s("We zijn nu gesloten. Onze openingstijden zijn maandag tot en met vrijdag van "
              "negen tot zes. Spreek na de toon uw naam en uw vraag in, dan bellen we u terug.",
              "We are closed now. We are open Monday to Friday from nine to six. Please leave "
              "your name and question after the tone and we will call you back."),
    invalid=_s("Dat heb ik niet begrepen.", "Sorry, I did not understand that."),
    agent_route=Route(queue="q_general", topic="agent"),
    nodes={
        "root": Node(prompt=_s("Maak een keuze.", "Please choose."), options=(
            Option(key="1", keywords=("factuur", "rekening", "invoice", "bill"),
                   label=_s("Voor vragen over uw factuur, toets 1.",
                            "For questions about your invoice, press 1."),
                   route=Route(queue="q_billing", topic="invoice")),
            Option(key="2", keywords=("klacht", "complaint"),
                   label=_s("Voor een klacht, toets 2.", "To make a complaint, press 2."),
                   route=Route(case_type="complaint", queue="q_complaints", priority="high",
                               tags=("klacht", "telefoon"), topic="complaint")),
            Option(key="3", keywords=("status", "stand van zaken"),
                   label=_s("Voor de status van uw vraag of klacht, toets 3.",
                            "For the status of your question or complaint, press 3."),
                   self_service="case_status"),
            Option(key="4", keywords=("voorkeur", "preference"),
                   label=_s("Om door te geven hoe we u het liefst benaderen, toets 4.",
                            "To tell us how you prefer to be contacted, press 4."),
                   self_service="preferred_channel"),
            Option(key="5", keywords=("klantnummer", "customer number"),
                   label=_s("Om dit telefoonnummer aan uw klantnummer te koppelen, toets 5.",
                            "To link this phone number to your customer number, press 5."),
                   self_service="link_number"),
            Option(key="0", keywords=("medewerker", "agent", "operator"),
                   label=_s("Voor een medewerker, toets 0.", "To speak to an agent, press 0."),
                   route=Route(queue="q_general", topic="agent")),
            Option(key="9", keywords=("english", "engels"),
                   label=_s("For English, press 9.", "Voor Nederlands, toets 9."),
                   language="en"),
        )),
    },
)
