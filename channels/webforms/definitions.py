"""Form definitions: data, not code. Supervisors change them through the API; the demo
set-up installs `question`, `complaint` and `callback`.

Each field says what it *means* for the contact (``role``): the customer's name, e-mail
or phone (which identify the customer), the subject, the body; other fields are listed in
the contact's text as "label: value".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Language = Literal["nl", "en"]
FieldType = Literal["text", "email", "phone", "textarea", "select", "checkbox", "date",
                    "file", "number"]
FieldRole = Literal["name", "email", "phone", "customer_number", "subject", "body"]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Texts(BaseModel):
    """One text in Dutch and English."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    nl: Text
    en: Text

    def __call__(self, language: Language) -> str:
        return self.en if language == "en" else self.nl


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label: Texts


class FieldDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Name
    type: FieldType = "text"
    label: Texts
    help: Texts | None = None
    required: bool = False
    max_length: int = Field(default=500, ge=1, le=20_000)
    options: tuple[Option, ...] = ()
    role: FieldRole | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldDef:
        if self.type == "select" and not self.options:
            raise ValueError(f"field {self.name}: a select needs options")
        if self.type != "select" and self.options:
            raise ValueError(f"field {self.name}: only a select has options")
        return self


class FormDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
    title: Texts
    intro: Texts | None = None
    fields: tuple[FieldDef, ...] = Field(min_length=1, max_length=40)
    case_type: Literal["question", "complaint", "request"] = "question"
    queue: str | None = None
    tags: tuple[str, ...] = ()
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    confirmation: Texts
    confirmation_email: bool = False
    max_files: int = Field(default=3, ge=0, le=10)
    max_file_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=25 * 1024 * 1024)

    @model_validator(mode="after")
    def _identifiable(self) -> FormDef:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must differ")
        roles = [f.role for f in self.fields if f.role]
        if len(set(roles)) != len(roles):
            raise ValueError("each role (name, email, phone, …) may be given to one field")
        if not {"email", "phone"} & set(roles):
            raise ValueError("a form needs a field with role email or phone, so the "
                             "customer can be found and answered")
        return self

    def field(self, role: FieldRole) -> FieldDef | None:
        return next((f for f in self.fields if f.role == role), None)


def _t(nl: str, en: str) -> Texts:
    return Texts(nl=nl, en=en)


_NAME = FieldDef(name="name", label=_t("Naam", "Name"), required=True, max_length=200,
                 role="name")
_EMAIL = FieldDef(name="email", type="email", label=_t("E-mailadres", "E-mail address"),
                  required=True, max_length=320, role="email")
_CUSTOMER_NUMBER = FieldDef(name="customer_number", label=_t("Klantnummer", "Customer number"),
                            help=_t("Staat op uw factuur (optioneel).",
                                    "On your invoice (optional)."),
                            max_length=50, role="customer_number")

DEMO_FORMS: tuple[FormDef, ...] = (
    FormDef(
        id="question", title=_t("Stel een vraag", "Ask a question"),
        intro=_t("We antwoorden binnen één werkdag.", "We answer within one working day."),
        fields=(_NAME, _EMAIL, _CUSTOMER_NUMBER,
                FieldDef(name="subject", label=_t("Onderwerp", "Subject"), required=True,
                         max_length=200, role="subject"),
                FieldDef(name="message", type="textarea", label=_t("Uw vraag", "Your question"),
                         required=True, max_length=5000, role="body"),
                FieldDef(name="attachment", type="file", label=_t("Bijlage", "Attachment"))),
        case_type="question", confirmation=_t(
            "Dank u wel. Uw vraag is ontvangen onder nummer {reference}.",
            "Thank you. We received your question as {reference}."),
        confirmation_email=True),
    FormDef(
        id="complaint", title=_t("Een klacht indienen", "Make a complaint"),
        intro=_t("Vervelend dat u niet tevreden bent. Vertel ons wat er misging.",
                 "We are sorry you are not satisfied. Tell us what went wrong."),
        fields=(_NAME, _EMAIL,
                FieldDef(name="phone", type="phone", label=_t("Telefoon", "Phone"),
                         max_length=40, role="phone"),
                _CUSTOMER_NUMBER,
                FieldDef(name="about", type="select", label=_t("Waarover", "About"),
                         required=True, options=(
                             Option(value="delivery", label=_t("Bezorging", "Delivery")),
                             Option(value="invoice", label=_t("Factuur", "Invoice")),
                             Option(value="product", label=_t("Product", "Product")),
                             Option(value="service", label=_t("Service", "Service")))),
                FieldDef(name="message", type="textarea",
                         label=_t("Wat ging er mis?", "What went wrong?"), required=True,
                         max_length=5000, role="body"),
                FieldDef(name="attachment", type="file", label=_t("Foto of document",
                                                                  "Photo or document"))),
        case_type="complaint", tags=("klacht", "webformulier"), priority="high",
        confirmation=_t("Uw klacht is geregistreerd onder nummer {reference}. We nemen "
                        "binnen twee werkdagen contact met u op.",
                        "Your complaint is registered as {reference}. We will contact you "
                        "within two working days."),
        confirmation_email=True),
    FormDef(
        id="callback", title=_t("Bel mij terug", "Call me back"),
        fields=(_NAME,
                FieldDef(name="phone", type="phone", label=_t("Telefoonnummer", "Phone number"),
                         required=True, max_length=40, role="phone"),
                FieldDef(name="when", type="select", label=_t("Wanneer", "When"), required=True,
                         options=(
                             Option(value="morning", label=_t("Ochtend (9-12)",
                                                              "Morning (9-12)")),
                             Option(value="afternoon", label=_t("Middag (12-17)",
                                                                "Afternoon (12-17)")))),
                FieldDef(name="message", type="textarea", label=_t("Waarover?", "About what?"),
                         max_length=2000, role="body")),
        case_type="request", tags=("terugbelverzoek",), confirmation=_t(
            "We bellen u terug. Uw verzoek heeft nummer {reference}.",
            "We will call you back. Your request is {reference}.")),
)
