"""Request models: what the API accepts, field by field (extra fields are refused, so a
client cannot set what it may not)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from core.domain.channels import Channel, Direction
from core.domain.contact import CaseStatus, CaseType, Priority
from core.domain.customer import CustomerKind
from core.domain.workforce import Presence

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50,
                                       pattern=r"^[\w\-:.]+$")]
MetaKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
PriorityName = Literal["low", "normal", "high", "urgent"]
PRIORITIES = {"low": Priority.LOW, "normal": Priority.NORMAL, "high": Priority.HIGH,
              "urgent": Priority.URGENT}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyIn(Strict):
    name: Short | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    visitor_id: Short | None = None
    crm_id: Short | None = None
    claimed_email: Annotated[str, StringConstraints(max_length=320)] | None = Field(
        default=None, description="An address typed by an unauthenticated person: shown to "
                                  "agents, never used to link to an existing customer.")

    @model_validator(mode="after")
    def _someone(self) -> PartyIn:
        if not any((self.email, self.phone, self.visitor_id, self.crm_id, self.claimed_email)):
            raise ValueError("give at least one of email, phone, visitor_id, crm_id")
        return self


class ContactIn(Strict):
    channel: Channel
    direction: Direction = Direction.INBOUND
    external_id: Short = Field(description="The channel's own id; idempotency key with channel.")
    from_: PartyIn = Field(alias="from")
    subject: Annotated[str, StringConstraints(max_length=1000)] | None = None
    summary: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    body: Annotated[str, StringConstraints(max_length=500_000)] | None = None
    transcript: Annotated[str, StringConstraints(max_length=500_000)] | None = None
    occurred_at: AwareDatetime | None = None
    case_id: Short | None = None
    case_type: CaseType | None = None
    priority: PriorityName | None = None
    queue: Short | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    metadata: dict[MetaKey, Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=dict, max_length=20,
        description="Channel facts routing rules can test, e.g. mailbox, form, ivr_choice.")


class CustomerSearch(Strict):
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                        max_length=100)] | None = None
    limit: int = Field(default=20, ge=1, le=100)


class Page(Strict):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class MergeIn(Strict):
    other_id: Short


class DuringContact(Strict):
    contact: Short | None = Field(
        default=None, description="The contact the change is made during (one of this "
                                  "customer's): the audit log links the edit to it.")


class CaseListQuery(Page):
    status: CaseStatus | None = None
    type: CaseType | None = None
    queue: Short | None = None
    customer: Short | None = None
    held_by: Short | None = Field(
        default=None, description="An agent id, or `me`: only the cases whose work that "
                                  "agent holds now (accepted, not wrapped up); one page.")
    reference: Short | None = Field(
        default=None, description="A case reference, SW-1234: that case or none (an "
                                  "exact lookup; the other filters do not apply).")


class CasePatch(Strict):
    status: CaseStatus | None = None
    priority: PriorityName | None = None
    owner: Short | None = Field(default=None, description="Agent id; null clears the owner.")
    type: CaseType | None = None
    queue: Short | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _something(self) -> CasePatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class OrganisationIn(Strict):
    name: Short
    registration_number: Short | None = None
    vat_number: Short | None = None


class HouseholdIn(Strict):
    name: Short | None = None
    members: int | None = Field(default=None, ge=1, le=100)
    address: Annotated[str, StringConstraints(max_length=500)] | None = None


class CustomerPatch(Strict):
    display_name: Short | None = None
    kind: CustomerKind | None = None
    organisation: OrganisationIn | None = None
    household: HouseholdIn | None = None
    segment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=50)] | None = None
    value: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] | None = None
    preferred_channel: Channel | None = None

    @model_validator(mode="after")
    def _something(self) -> CustomerPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class RulesIn(Strict):
    default_queue: Short
    rules: list[dict[str, Any]] = Field(max_length=5000)
    comment: Comment = ""


class ActivateIn(Strict):
    version: int | None = Field(default=None, ge=1)
    comment: Comment = ""


class RulesDocument(Strict):
    default_queue: Short
    rules: list[dict[str, Any]] = Field(max_length=5000)


class SimulateIn(Strict):
    rules: RulesDocument | None = Field(
        default=None, description="The draft to try; the newest saved version if omitted.")
    last: int | None = Field(default=None, ge=1, le=1000,
                             description="Replay the newest N routed contacts.")
    case_ids: list[Short] = Field(default_factory=list, max_length=100)
    facts: dict[str, Any] | None = Field(
        default=None, description="A hypothetical contact, as the fields rules can test.")

    @model_validator(mode="after")
    def _something(self) -> SimulateIn:
        if not (self.last or self.case_ids or self.facts is not None):
            raise ValueError("give last, case_ids or facts to simulate against")
        return self


class ConfigIn(Strict):
    document: Any
    revision: int | None = Field(
        default=None, ge=0, description="The revision you read; refused if it moved on.")


class Limit(Strict):
    limit: int = Field(default=50, ge=1, le=500)


Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50,
                                         pattern=r"^[\w\-]+$")]


class AgentIn(Strict):
    name: Short
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                               max_length=100, pattern=r"^[\w.\-@]+$")]
    tier: Literal[1, 2] = 1
    teams: list[Short] = Field(default_factory=list, max_length=20)
    queues: list[Short] = Field(default_factory=list, max_length=200)
    skills: dict[Skill, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict,
                                                                    max_length=100)
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=50)]] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class AgentPatch(Strict):
    name: Short | None = None
    tier: Literal[1, 2] | None = None
    teams: list[Short] | None = Field(default=None, max_length=20)
    queues: list[Short] | None = Field(default=None, max_length=200)
    skills: dict[Skill, Annotated[int, Field(ge=1, le=5)]] | None = Field(default=None,
                                                                           max_length=100)
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=50)]] | None = None
    active: bool | None = None
    presence: Presence | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None  # "" removes it

    @model_validator(mode="after")
    def _something(self) -> AgentPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class PresenceIn(Strict):
    status: Presence


class ReplyAttachmentIn(Strict):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(
        max_length=100, pattern=r"^[a-zA-Z0-9][\w.+\-]*/[a-zA-Z0-9][\w.+\-]*$")] = (
        "application/octet-stream")
    content_base64: Annotated[str, StringConstraints(max_length=15_000_000)]


class ReplyIn(Strict):
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    attachments: list[ReplyAttachmentIn] = Field(default_factory=list, max_length=10)


class QuarantineQuery(Strict):
    status: Literal["retrying", "quarantined", "released"] | None = None
    limit: int = Field(default=50, ge=1, le=200)


WorkforceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=40, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


class TeamIn(Strict):
    id: WorkforceId
    name: Short


class QueueIn(Strict):
    id: WorkforceId
    name: Short
    team: WorkforceId | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None


class QueuePatch(Strict):
    name: Short | None = None
    team: WorkforceId | None = Field(default=None, description="Team id; null: no team.")
    description: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="null removes it.")

    @model_validator(mode="after")
    def _something(self) -> QueuePatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("a queue keeps a name")
        return self


class ChatMessageIn(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class ChatEndIn(Strict):
    transcript: bool = False


class CtiEventIn(Strict):
    event: Literal["ringing", "answered", "ended"]
    call_id: Annotated[str, StringConstraints(min_length=1, max_length=100,
                                              pattern=r"^[\w.:@\-]+$")]
    caller: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    dialled: Annotated[str, StringConstraints(max_length=64)] | None = None
    agent: Annotated[str, StringConstraints(max_length=100)] | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    at: AwareDatetime | None = None


class CallIn(Strict):
    number: Annotated[str, StringConstraints(min_length=3, max_length=40)] | None = None
    customer_id: Short | None = None
    agent_id: Short | None = Field(
        default=None, description="Whose phone rings first; default: the calling agent.")
