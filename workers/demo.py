"""The demo set-up that `make run` loads: a small Dutch contact centre.

Safe to run again: what exists is left alone; fresh API tokens are printed each time
(only their hashes are stored, so old ones cannot be shown again).
"""

from __future__ import annotations

from datetime import timedelta

from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.audit import Actor
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.contact import CaseType
from core.domain.workforce import Agent, Queue, Role, Team, Tier
from core.services.ingest import IngestResult
from core.services.screen_pop import KNOWLEDGE_KEY, SCRIPTS_KEY
from routing.scripts import DEMO_KNOWLEDGE, DEMO_SCRIPTS
from workers.services import Services

DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - printed for the demo on purpose
DEMO = Actor(id=None, name="demo", role=None)  # who the audit log says loaded the demo

TEAMS = [Team(id="team_first_line", name="Eerste lijn"),
         Team(id="team_second_line", name="Tweede lijn")]
QUEUES = [
    Queue(id="q_general", name="Algemeen", team_id="team_first_line",
          description="Questions and requests in Dutch and English"),
    Queue(id="q_billing", name="Facturen", team_id="team_first_line",
          description="Invoices and payments"),
    Queue(id="q_complaints", name="Klachten", team_id="team_second_line",
          description="Complaints, handled by second line"),
]


def _agents(services: Services) -> list[Agent]:
    now = services.clock.now()
    return [
        Agent(id="agent_anna", name="Anna de Jong", username="anna", tier=Tier.FIRST_LINE,
              team_ids=["team_first_line"], skills={"nl": 5, "en": 4, "general": 4},
              queue_ids=["q_general", "q_billing"], presence_since=now),
        Agent(id="agent_bram", name="Bram Visser", username="bram", tier=Tier.FIRST_LINE,
              team_ids=["team_first_line"], skills={"nl": 5, "billing": 4},
              queue_ids=["q_billing", "q_general"], presence_since=now),
        Agent(id="agent_chris", name="Chris Bakker", username="chris", tier=Tier.SECOND_LINE,
              team_ids=["team_second_line"], skills={"nl": 5, "en": 5, "complaints": 5},
              queue_ids=["q_complaints", "q_general"], presence_since=now),
    ]


# Order matters: gold customers get priority and carry on; complaints stop at 2nd line
# before the invoice rule could send a complaint about an invoice to first line.
DEMO_RULES: dict[str, object] = {
    "default_queue": "q_general",
    "rules": [
        {"id": "gold", "name": "Gold customers go first", "condition": 'segment == "gold"',
         "actions": {"priority": 3, "tags": ["gold"]}, "stop": False},
        {"id": "complaints", "name": "Complaints to 2nd line",
         "condition": 'classification == "complaint" or case_type == "complaint"',
         "actions": {"queue": "q_complaints", "tier": 2, "skills": {"complaints": 3},
                     "case_type": "complaint", "tags": ["klacht"]}, "stop": True},
        {"id": "invoices", "name": "Invoices to billing",
         "condition": '"factuur" in words or "invoice" in words or "betaling" in words',
         "actions": {"queue": "q_billing", "skills": {"billing": 2}}, "stop": True},
    ],
}


async def load(services: Services) -> str:
    created = await _workforce(services)
    rules = await _rules(services)
    history = await _history(services)
    forms = await _forms(services)
    scripts = await _scripts(services)
    admin = await services.access.create_token(role=Role.ADMIN, name="demo admin")
    supervisor = await services.access.create_token(role=Role.SUPERVISOR,
                                                    name="demo supervisor")
    agent = await services.access.create_token(role=Role.AGENT, name="Anna de Jong",
                                               agent_id="agent_anna")
    lines = [
        "Demo set-up " + ("loaded" if created else "already present") + ":",
        "  teams:  " + ", ".join(t.name for t in TEAMS),
        "  queues: " + ", ".join(f"{q.name} ({q.id})" for q in QUEUES),
        "  agents: anna (1st line), bram (1st line, billing), chris (2nd line, complaints)"
        f"; supervisor: sanne; web password for each: {DEMO_PASSWORD}",
        f"  agent desktop: http://127.0.0.1:{services.settings.http_port}/desk  "
        f"supervisor console: http://127.0.0.1:{services.settings.http_port}/console",
        f"  customer Jan de Vries ({history.customer_id}) with an e-mail and a phone contact",
        f"  routing rules: version {rules} active (gold first, complaints to 2nd line, "
        "invoices to billing)",
        f"  screen-pop: {scripts} (GET/PUT /api/scripts, /api/knowledge)",
        "  web forms: " + ", ".join(
            f"http://127.0.0.1:{services.settings.http_port}/forms/{f}" for f in forms),
        "API tokens (shown once):",
        f"  admin:      {admin}",
        f"  supervisor: {supervisor}",
        f"  agent anna: {agent}",
        "Try: curl -H 'Authorization: Bearer <token>' "
        f"http://127.0.0.1:{services.settings.http_port}/api/customers/{history.customer_id}",
    ]
    return "\n".join(lines)


async def _workforce(services: Services) -> bool:
    async with services.uow() as uow:
        if await uow.workforce.get_queue(QUEUES[0].id) is not None:
            return False
        for team in TEAMS:
            await uow.workforce.add_team(team)
        for queue in QUEUES:
            await uow.workforce.add_queue(queue)
        for agent in _agents(services):
            await uow.workforce.add_agent(agent)
        await uow.commit()
    for agent in _agents(services):
        await services.access.create_user(username=agent.username, password=DEMO_PASSWORD,
                                          role=Role.AGENT, agent_id=agent.id)
    await services.access.create_user(username="sanne", password=DEMO_PASSWORD,
                                      role=Role.SUPERVISOR)
    return True


async def _forms(services: Services) -> list[str]:
    """The question, complaint and callback forms; a form changed by a supervisor stays."""
    async with services.uow() as uow:
        present = await catalogue.forms(uow)
        for form in DEMO_FORMS:
            if form.id not in present:
                await catalogue.save(uow, form.model_copy(update={"queue": _FORM_QUEUES.get(
                    form.id)}), by="demo", at=services.clock.now())
        await uow.commit()
    return [f.id for f in DEMO_FORMS]


_FORM_QUEUES = {"complaint": "q_complaints", "question": "q_general", "callback": "q_general"}


async def _scripts(services: Services) -> str:
    """Dutch and English scripts and knowledge snippets; what a supervisor saved stays."""
    async with services.uow() as uow:
        for key, document in ((SCRIPTS_KEY, DEMO_SCRIPTS), (KNOWLEDGE_KEY, DEMO_KNOWLEDGE)):
            if await uow.routing.get_document(key) is None:
                await uow.routing.put_document(key, document, expected_revision=0, by="demo",
                                               at=services.clock.now())
        await uow.commit()
    return (f"{len(DEMO_SCRIPTS['scripts'])} scripts and "
            f"{len(DEMO_KNOWLEDGE['snippets'])} knowledge snippets in Dutch and English")


async def _rules(services: Services) -> int:
    overview = await services.rules_admin.overview()
    if overview.active is not None:
        return overview.active.number
    saved = await services.rules_admin.save_draft(DEMO_RULES, actor=DEMO,
                                                  comment="demo rule set")
    await services.rules_admin.publish(version=saved.number, actor=DEMO,
                                       comment="demo rule set")
    return saved.number


async def _history(services: Services) -> IngestResult:
    now = services.clock.now()
    await services.ingestion.ingest(IngestContact(
        channel=Channel.EMAIL, direction=Direction.INBOUND, external_id="<demo-1@example.nl>",
        party=Party(name="Jan de Vries", email="jan.devries@example.nl"),
        occurred_at=now - timedelta(days=1), subject="Vraag over mijn factuur",
        body="Goedemiddag, ik begrijp het bedrag op mijn laatste factuur niet.",
        from_address="jan.devries@example.nl", case_type=CaseType.QUESTION,
        queue_id="q_billing"))
    return await services.ingestion.ingest(IngestContact(
        channel=Channel.PHONE, direction=Direction.INBOUND, external_id="demo-call-1",
        party=Party(name="Jan de Vries", email="jan.devries@example.nl", phone="06 12345678"),
        occurred_at=now - timedelta(hours=2),
        summary="Belt over dezelfde factuur; is ontevreden over de wachttijd.",
        from_address="+31612345678", case_type=CaseType.COMPLAINT, queue_id="q_complaints"))
