"""The supervisor console in a real browser (Debian's headless Chromium through Playwright)
against the real service: the HTTP API, the workers and the supervisor WebSocket.

A supervisor logs in through ``/login``; the page then works with the session cookie alone
(the CSRF header on every change, the cookie on the wallboard's WebSocket). Nothing sleeps:
every wait is Playwright's ``expect``/``wait_for`` with a deadline.

``SWITCHBOARD_SCREENSHOTS=1`` writes the screenshots of the main tabs to
``docs/screenshots/console-*.png`` (the committed ones come from there); otherwise they go
to the test's temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.channels import Channel
from core.domain.workforce import Role
from core.storage.tables import teams
from tests.support.centre import ALL_WORKERS, Centre, available, running_centre
from workers import demo

# A Tuesday morning in office hours: 10:30 in Amsterdam.
START = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
WAIT_MS = 10_000
PASSWORD = "correct horse battery"
HOSTILE = '<img src=x onerror="window.__xss=1">'
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RULES: dict[str, Any] = {
    "default_queue": "q_general",
    "rules": [
        {"id": "complaints", "name": "Complaints to 2nd line",
         "condition": 'classification == "complaint" or case_type == "complaint"',
         "actions": {"queue": "q_complaints", "tier": 2, "tags": ["klacht"]}, "stop": True},
        {"id": "invoices", "name": "Invoices to billing",
         "condition": '"factuur" in words', "actions": {"queue": "q_billing"}, "stop": True},
    ],
}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def sqlite_only(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    from tests.conftest import sqlite_url

    return sqlite_url(request, tmp_path)


@pytest.fixture
async def centre(sqlite_only: str) -> AsyncIterator[Centre]:
    async with running_centre(sqlite_only, START, workers=ALL_WORKERS,
                              queues=("q_general", "q_complaints", "q_billing")) as running:
        async with running.services.uow() as uow:
            for form in DEMO_FORMS:
                await catalogue.save(uow, form, by="test", at=running.services.clock.now())
            await uow.commit()
        await running.services.access.create_user(username="sanne", password=PASSWORD,
                                                  role=Role.SUPERVISOR)
        await running.publish(RULES)
        yield running


@dataclass
class Screen:
    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def tab(self, name: str) -> Any:
        return self.page.get_by_role("tab", name=name)

    async def open(self, name: str) -> Any:
        await self.tab(name).click()
        panel = self.page.get_by_role("tabpanel", name=name)
        await panel.wait_for(timeout=WAIT_MS)
        return panel

    async def nothing_ran(self) -> None:
        assert await self.page.evaluate("window.__xss === undefined")
        assert self.errors == []
        assert self.dialogs == []


def url(centre: Centre, path: str) -> str:
    return str(centre.client.make_url(path))


async def log_in(browser: Any, centre: Centre, *, next_path: str = "/console",
                 lang: str = "nl", username: str = "sanne",
                 password: str = PASSWORD) -> Screen:
    page = await browser.new_page(locale="nl-NL" if lang == "nl" else "en-GB",
                                  viewport={"width": 1360, "height": 900})
    screen = Screen(page)
    page.on("pageerror", lambda err: screen.errors.append(str(err)))
    page.on("dialog", lambda d: screen.dialogs.append(d.message))
    await page.goto(url(centre, f"/login?lang={lang}&next={quote(next_path, safe='')}"))
    await page.get_by_label("Gebruikersnaam" if lang == "nl" else "User name").fill(username)
    await page.get_by_label("Wachtwoord" if lang == "nl" else "Password").fill(password)
    await page.get_by_role("button", name="Inloggen" if lang == "nl" else "Log in").click()
    await page.wait_for_url("**/console**", timeout=WAIT_MS)
    await page.locator("#console[aria-busy]").wait_for(state="detached", timeout=WAIT_MS)
    return screen


async def contact(centre: Centre, n: int, *, subject: str, body: str = "",
                  case_type: str | None = None, name: str = "Klant") -> dict[str, Any]:
    return await centre.contact(
        channel="email", external_id=f"<c{n}@mail.example>",
        **{"from": {"email": f"klant{n}@example.nl", "name": name}}, subject=subject,
        body=body, **({"case_type": case_type} if case_type else {}))


async def shoot(page: Any, name: str, tmp_path: Path) -> None:
    wanted = os.environ.get("SWITCHBOARD_SCREENSHOTS")
    folder = SCREENSHOTS if wanted else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"console-{name}.png"), full_page=True)


async def test_the_console_speaks_english_and_switches_to_dutch(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    screen = await log_in(browser, centre, lang="en", next_path="/console?tab=rules")
    page = screen.page
    await expect(page.get_by_role("heading", name="Supervisor console")).to_be_visible()
    await expect(screen.tab("Routing")).to_have_attribute("aria-selected", "true")
    routing = page.get_by_role("tabpanel", name="Routing")
    await expect(routing.locator(".version-info")).to_have_text("Active: version 1",
                                                                timeout=WAIT_MS)
    await page.get_by_role("button", name="Nederlands").click()
    await expect(page.get_by_role("heading", name="Supervisorconsole")).to_be_visible(
        timeout=WAIT_MS)
    await expect(screen.tab("Routering")).to_have_attribute("aria-selected", "true")
    await page.goto(url(centre, "/console"))  # remembered without ?lang
    await expect(page.get_by_role("tab", name="Klachten")).to_be_visible(timeout=WAIT_MS)
    await screen.nothing_ran()


# --- routing ------------------------------------------------------------------------------


async def test_a_supervisor_edits_a_rule_simulates_publishes_and_rolls_back(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    screen = await log_in(browser, centre)
    board = screen.page.get_by_role("tabpanel", name="Wallboard")
    # Two contacts are routed by the active rules: an invoice question and a complaint.
    invoice = await contact(centre, 1, subject="Vraag over mijn factuur")
    parcel = await contact(centre, 2, subject="Mijn pakket", case_type="complaint")
    for queue in ("q_billing", "q_complaints"):
        await expect(board.locator(f'tr[data-queue="{queue}"] td.waiting .count')).to_have_text(
            "1", timeout=WAIT_MS)

    panel = await screen.open("Routering")
    rules = panel.locator("li.rule")
    await expect(rules).to_have_count(2, timeout=WAIT_MS)
    await expect(panel.locator(".version-info")).to_have_text("Actief: versie 1")

    # An invalid rule is refused, and the reason is shown at the rule and its condition.
    second = rules.nth(1)
    condition = second.locator("textarea.condition")
    await condition.fill('"factuur" in wordz')
    await second.get_by_label("Wachtrij", exact=True).select_option("q_general")
    await panel.get_by_role("button", name="Concept opslaan").click()
    reason = second.locator(".field-error")
    await expect(reason).to_have_text("unknown field 'wordz' (did you mean 'words'?)",
                                      timeout=WAIT_MS)
    await expect(condition).to_have_attribute("aria-invalid", "true")
    await expect(panel.get_by_role("alert")).to_contain_text("Niet opgeslagen: één probleem")
    assert await rules.nth(0).locator(".field-error").count() == 0
    overview = await (await centre.client.get("/api/routing/rules",
                                              headers=centre.supervisor)).json()
    assert overview["draft"] is None  # nothing was saved

    # Corrected, it simulates: the invoice would now go to the general queue.
    await condition.fill('"factuur" in words')
    await expect(reason).to_have_count(0)  # typing clears the reason
    await panel.get_by_role("button", name="Simuleren").click()
    simulation = panel.locator("section.simulation")
    await expect(simulation.get_by_role("status")).to_have_text(
        "1 van 2 contacten zouden anders gaan.", timeout=WAIT_MS)
    changed = simulation.locator(f'tr[data-case="{invoice["case_id"]}"]')
    await expect(changed.locator("td.before")).to_have_text("q_billing")
    await expect(changed.locator("td.after")).to_have_text("q_general")
    await expect(changed.locator("td.differences")).to_contain_text(
        "Wachtrij: q_billing → q_general")

    # Publish saves the draft as version 2 and makes it active.
    await panel.get_by_label("Toelichting").fill("facturen naar algemeen")
    await panel.locator(".editor .buttons").get_by_role("button", name="Publiceren").click()
    await expect(panel.locator(".editor .status-line")).to_have_text("Versie 2 is nu actief.",
                                                                     timeout=WAIT_MS)
    await expect(panel.locator(".version-info")).to_have_text("Actief: versie 2")
    overview = await (await centre.client.get("/api/routing/rules",
                                              headers=centre.supervisor)).json()
    assert overview["active"]["version"] == 2
    assert overview["active"]["rules"][1]["actions"]["queue"] == "q_general"
    assert overview["activations"][0]["comment"] == "facturen naar algemeen"

    # Roll back to version 1, then read why the invoice went where it went.
    await panel.get_by_role("button", name="Terugdraaien").click()
    await expect(panel.locator(".editor .status-line")).to_have_text(
        "Teruggedraaid: versie 1 is weer actief.", timeout=WAIT_MS)
    overview = await (await centre.client.get("/api/routing/rules",
                                              headers=centre.supervisor)).json()
    assert overview["active"]["version"] == 1
    await changed.get_by_role("button", name="uitleg").click()
    trace = panel.locator("section.trace")
    await expect(trace.locator(".trace-case-title")).to_contain_text("Vraag over mijn factuur",
                                                                     timeout=WAIT_MS)
    matched = trace.locator('.rule-trace tr[data-outcome="matched"]')
    await expect(matched).to_contain_text("Invoices to billing")

    # Another case by its reference, written as people write it: an exact lookup.
    reference = (await (await centre.client.get(f"/api/cases/{parcel['case_id']}",
                                                headers=centre.supervisor)).json())["reference"]
    await panel.get_by_label("Zaak (id of nummer SW-…)").fill(reference.lower())
    await panel.get_by_role("button", name="Uitleg tonen").click()
    await expect(trace.locator(".trace-case-title")).to_have_text(f"{reference} · Mijn pakket",
                                                                  timeout=WAIT_MS)
    await screen.nothing_ran()


# --- the wallboard ------------------------------------------------------------------------


async def test_the_wallboard_changes_when_contacts_arrive_and_agents_change_presence(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    anna_id, anna = await centre.agent("Anna", tier=1, skills={},
                                       queues=["q_general"])
    screen = await log_in(browser, centre)
    page = screen.page
    board = page.get_by_role("tabpanel", name="Wallboard")
    await expect(board.locator(".connection")).to_have_text("Live", timeout=WAIT_MS)
    general = board.locator('tr[data-queue="q_general"]')
    complaints = board.locator('tr[data-queue="q_complaints"]')
    agent_row = board.locator(f'tr[data-agent="{anna_id}"]')
    await expect(general.locator("td.waiting .count")).to_have_text("0", timeout=WAIT_MS)
    await expect(agent_row.locator("td.presence")).to_have_text("Afgemeld")

    # A contact through the API waits in the general queue: nobody is available.
    question = await contact(centre, 1, subject="Waar blijft mijn pakket?")
    await expect(general.locator("td.waiting .count")).to_have_text("1", timeout=WAIT_MS)
    await expect(board.locator('[data-tile="waiting"] .tile-value')).to_have_text("1")
    await expect(board.get_by_role("log")).to_contain_text("Nieuwe zaak naar q_general (vraag)")

    # A complaint through the web form lands in the complaints queue.
    submitted = await centre.client.post("/forms/complaint", json={
        "name": "Jan de Vries", "email": "jan@example.nl", "about": "delivery",
        "message": "Het pakket was kapot."})
    assert submitted.status == 201, await submitted.text()
    await expect(complaints.locator("td.waiting .count")).to_have_text("1", timeout=WAIT_MS)
    await expect(board.locator('[data-tile="waiting"] .tile-value')).to_have_text("2")

    # Anna goes available on her desktop: her presence changes and the work is offered.
    ws = await available(centre, anna)
    try:
        await expect(agent_row.locator("td.presence")).to_have_text("Beschikbaar",
                                                                    timeout=WAIT_MS)
        await expect(agent_row.locator("td.work-cell")).to_contain_text("(aangeboden)",
                                                                        timeout=WAIT_MS)
        case = await (await centre.client.get(f"/api/cases/{question['case_id']}",
                                              headers=centre.supervisor)).json()
        await expect(agent_row.locator("td.work-cell")).to_contain_text(case["reference"])
        await expect(general.locator("td.offered")).to_have_text("1")
        await expect(board.locator('[data-tile="agents"] .tile-value')).to_have_text("1")
    finally:
        await ws.close()

    # A day later nobody has answered: the SLA timer reports breaches, the board shows them.
    centre.clock.set(datetime(2026, 11, 18, 11, 0, tzinfo=UTC))  # Wednesday 12:00
    centre.services.wakeups.sla.set()
    alert = board.locator(f'tr[data-case="{question["case_id"]}"][data-state="breach"]')
    await expect(alert).to_contain_text(case["reference"], timeout=WAIT_MS)
    await expect(alert).to_contain_text("overschreden")
    await expect(board.get_by_role("log")).to_contain_text("SLA overschreden: eerste reactie")
    await expect(general.locator("td.breaches")).to_have_text("1")
    await screen.nothing_ran()


async def test_the_wallboard_socket_takes_the_session_cookie_only_from_this_site(
        centre: Centre, browser: Any) -> None:
    screen = await log_in(browser, centre)
    # The page's own upgrade was accepted (the board is live); one from another origin is
    # refused even though the browser would send the cookie.
    opened = await screen.page.evaluate("""() => new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/supervisor/ws`);
        ws.onmessage = (e) => { resolve(JSON.parse(e.data).type); ws.close(); };
        ws.onerror = () => resolve("error");
    })""")
    assert opened == "snapshot"
    cookies = await screen.page.context.cookies()
    session = next(c["value"] for c in cookies if c["name"] == "sb_session")
    from aiohttp import WSServerHandshakeError

    with pytest.raises(WSServerHandshakeError) as refused:
        await centre.client.ws_connect("/supervisor/ws", headers={
            "Origin": "https://evil.example", "Cookie": f"sb_session={session}"})
    assert refused.value.status == 403
    await screen.nothing_ran()


# --- hostile names ------------------------------------------------------------------------


async def test_hostile_names_and_texts_are_shown_as_text_everywhere(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    admin, supervisor = centre.admin, centre.supervisor
    for path, body, headers in [
        ("/api/teams", {"id": "team_evil", "name": HOSTILE}, supervisor),
        ("/api/queues", {"id": "q_evil", "name": HOSTILE, "team": "team_evil",
                         "description": HOSTILE}, supervisor),
        ("/api/agents", {"name": HOSTILE, "username": "evil", "queues": ["q_evil"],
                         "teams": ["team_evil"], "skills": {"nl": 3}}, admin),
    ]:
        response = await centre.client.post(path, json=body, headers=headers)
        assert response.status == 201, await response.text()
    rules = {"default_queue": "q_general", "rules": [
        {"id": "evil", "name": HOSTILE, "condition": f"subject == {HOSTILE!r}",
         "actions": {"queue": "q_evil", "tags": [HOSTILE]}, "stop": True},
        *RULES["rules"]]}
    await centre.publish(rules)
    evil = await contact(centre, 1, subject=HOSTILE, body=HOSTILE, case_type="complaint",
                         name=HOSTILE)
    # The complainant rated an earlier answer, in hostile words: the complaints list shows it.
    asked = await centre.services.surveys.start(customer_id=evil["customer_id"],
                                                channel=Channel.EMAIL,
                                                contact_id=evil["contact_id"])
    assert asked is not None
    await centre.services.surveys.record_answer(asked.id, channel=Channel.EMAIL, score=1,
                                                comment=HOSTILE, language="nl")
    menu = await (await centre.client.get("/api/voice/menu", headers=supervisor)).json()
    menu["greeting"]["nl"] = HOSTILE
    stored = await centre.client.put("/api/voice/menu", json=menu, headers=supervisor)
    assert stored.status == 200, await stored.text()

    screen = await log_in(browser, centre)
    page = screen.page
    board = page.get_by_role("tabpanel", name="Wallboard")
    evil_queue = board.locator('tr[data-queue="q_evil"]')
    await expect(evil_queue.locator("th")).to_have_text(HOSTILE, timeout=WAIT_MS)
    await expect(evil_queue.locator("td.waiting .count")).to_have_text("1", timeout=WAIT_MS)
    await expect(board.locator("tr[data-agent] th").filter(has_text=HOSTILE)).to_have_count(1)

    routing = await screen.open("Routering")
    first = routing.locator("li.rule").first
    await expect(first.locator(".rule-name")).to_have_text(HOSTILE, timeout=WAIT_MS)
    await expect(first.get_by_label("Naam", exact=True)).to_have_value(HOSTILE)
    await routing.get_by_role("button", name="Simuleren").click()
    await routing.locator("section.simulation tbody tr").first.wait_for(timeout=WAIT_MS)
    await routing.locator("select.trace-recent").select_option(evil["case_id"])
    trace = routing.locator("section.trace")
    await expect(trace.locator(".trace-case-title")).to_contain_text(HOSTILE, timeout=WAIT_MS)
    await expect(trace.locator(".rule-trace tbody th").first).to_contain_text(HOSTILE)

    manage = await screen.open("Beheer")
    await expect(manage.locator("tr[data-agent] th").filter(has_text=HOSTILE)).to_have_count(
        1, timeout=WAIT_MS)
    await manage.get_by_role("button", name=f"{HOSTILE} wijzigen").click()
    await expect(manage.get_by_role("form")).to_contain_text(HOSTILE)
    for section in ("Wachtrijen en teams", "SLA-beleid", "Openingstijden", "Telefoonmenu",
                    "Webformulieren"):
        await manage.locator(".subnav").get_by_role("button", name=section).click()
        await manage.locator(".subpanel form, .subpanel table").first.wait_for(timeout=WAIT_MS)
    await manage.locator(".subnav").get_by_role("button", name="Telefoonmenu").click()
    await expect(manage.get_by_label("Begroeting (nl)")).to_have_value(HOSTILE, timeout=WAIT_MS)

    complaints = await screen.open("Klachten")
    row = complaints.locator(f'tr[data-case="{evil["case_id"]}"]')
    await expect(row.locator("td.subject")).to_have_text(HOSTILE, timeout=WAIT_MS)
    await expect(row.locator("td.customer .survey q")).to_have_text(HOSTILE, timeout=WAIT_MS)
    await expect(row.locator("td.customer")).to_contain_text(HOSTILE + "tevreden 1/5")

    assert await page.locator("#console img").count() == 0
    await screen.nothing_ran()


# --- managing -----------------------------------------------------------------------------


async def test_a_supervisor_manages_agents_queues_sla_hours_the_menu_and_forms(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    anna_id, _ = await centre.agent("Anna", tier=1, skills={"nl": 3}, queues=["q_general"])
    screen = await log_in(browser, centre, next_path="/console#manage")
    page = screen.page
    manage = page.get_by_role("tabpanel", name="Beheer")
    supervisor = centre.supervisor

    async def get(path: str) -> Any:
        response = await centre.client.get(path, headers=supervisor)
        assert response.status == 200, await response.text()
        return await response.json()

    # An agent: tier, queues, a new skill (refused until it has a proper name), capacity.
    await manage.get_by_role("button", name="Anna wijzigen").click(timeout=WAIT_MS)
    form = manage.get_by_role("form", name="Anna wijzigen")
    await form.get_by_label("Lijn", exact=True).select_option("2")
    await form.get_by_role("checkbox", name="q_complaints").check()
    await form.get_by_role("button", name="Vaardigheid toevoegen").click()
    skill = form.locator(".skill-row").last
    await skill.get_by_label("Vaardigheid").fill("bad skill")
    await skill.get_by_label("Niveau").select_option("4")
    await form.get_by_label("Chat", exact=True).fill("2")
    await form.get_by_role("button", name="Opslaan").click()
    await expect(form.locator(".field-error")).to_have_count(1, timeout=WAIT_MS)
    await expect(skill.get_by_label("Vaardigheid")).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_role("status")).to_contain_text("Niet opgeslagen: één probleem")
    await skill.get_by_label("Vaardigheid").fill("complaints")
    await form.get_by_role("button", name="Opslaan").click()
    await expect(form.get_by_role("status")).to_have_text("Anna is opgeslagen.", timeout=WAIT_MS)
    anna = await get(f"/api/agents/{anna_id}")
    assert (anna["tier"], sorted(anna["queues"]), anna["skills"], anna["capacity"]["chat"]) == (
        2, ["q_complaints", "q_general"], {"nl": 3, "complaints": 4}, 2)

    # A queue: created once; the same id again is refused.
    subnav = manage.locator(".subnav")
    await subnav.get_by_role("button", name="Wachtrijen en teams").click()
    new_queue = manage.locator("form.inline-form").filter(has_text="Nieuwe wachtrij")
    await new_queue.get_by_label("Id").fill("q_retail")
    await new_queue.get_by_label("Naam").fill("Winkels")
    await new_queue.get_by_label("Team").select_option("team_2")
    await new_queue.get_by_role("button", name="Aanmaken").click()
    await expect(new_queue.get_by_role("status")).to_have_text("Winkels is aangemaakt.",
                                                                timeout=WAIT_MS)
    await expect(manage.locator('tr[data-queue="q_retail"]')).to_contain_text("Tweede lijn")
    await new_queue.get_by_label("Id").fill("q_retail")
    await new_queue.get_by_label("Naam").fill("Nog eens")
    await new_queue.get_by_role("button", name="Aanmaken").click()
    await expect(new_queue.get_by_role("status")).to_have_text("Dat id bestaat al.",
                                                                timeout=WAIT_MS)
    # ...and renamed in its row, moved out of its team, given a description.
    await manage.get_by_role("button", name="Winkels wijzigen").click()
    editing = manage.locator('tr.editing[data-queue="q_retail"]')
    await editing.get_by_label("Naam").fill("Winkels Noord")
    await editing.get_by_label("Team").select_option("")
    await editing.get_by_label("Omschrijving").fill("Filialen boven de rivieren")
    await editing.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator('tr[data-queue="q_retail"] th')).to_have_text("Winkels Noord",
                                                                               timeout=WAIT_MS)
    queues = {q["id"]: q for q in (await get("/api/queues"))["queues"]}
    assert queues["q_retail"] == {"id": "q_retail", "name": "Winkels Noord", "team": None,
                                  "description": "Filialen boven de rivieren", "archived_at": None}

    # A team renamed in its row.
    await manage.get_by_role("button", name="Tweede lijn wijzigen").click()
    team = manage.locator('tr.editing[data-team="team_2"]')
    await team.get_by_label("Naam").fill("Tweede lijn Zuid")
    await team.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator('tr[data-team="team_2"] th')).to_have_text("Tweede lijn Zuid",
                                                                            timeout=WAIT_MS)
    teams = (await get("/api/queues"))["teams"]
    assert {t["id"]: t["name"] for t in teams}["team_2"] == "Tweede lijn Zuid"

    # SLA policies: a policy without a name is refused at its place; then 6 hours.
    await subnav.get_by_role("button", name="SLA-beleid").click()
    standard = manage.locator("tr.policy").nth(3)
    await expect(standard.get_by_label("Id")).to_have_value("sla_standard", timeout=WAIT_MS)
    await standard.get_by_label("Naam").fill("")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(standard.locator(".field-error")).to_have_count(1, timeout=WAIT_MS)
    await expect(standard.get_by_label("Naam")).to_have_attribute("aria-invalid", "true")
    await standard.get_by_label("Naam").fill("Standaard")
    await standard.get_by_label("Waarschuwen bij %").fill("75")
    await standard.locator("input.hours").first.fill("6")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_have_text("Opgeslagen (revisie 1).",
                                                                   timeout=WAIT_MS)
    policies = (await get("/api/routing/config/sla-policies"))["document"]
    assert [(p["first_response_s"], p["warn_at_fraction"]) for p in policies
            if p["id"] == "sla_standard"] == [(6 * 3600, 0.75)]

    # Business hours: a closed day before Christmas.
    await subnav.get_by_role("button", name="Openingstijden").click()
    office = manage.locator("fieldset.calendar").first
    await office.get_by_label("Extra gesloten dagen").fill("2026-12-24", timeout=WAIT_MS)
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_have_text("Opgeslagen (revisie 1).",
                                                                   timeout=WAIT_MS)
    calendars = (await get("/api/routing/config/calendars"))["document"]
    assert calendars[0]["closed_dates"] == ["2026-12-24"]

    # Disposition codes: "auto" is the system's; a return code only for complaints.
    await subnav.get_by_role("button", name="Afhandelcodes").click()
    codes = manage.locator("tr.disposition")
    await expect(codes.first.get_by_label("Code")).to_have_value("answered", timeout=WAIT_MS)
    await manage.get_by_role("button", name="Code toevoegen").click()
    added = codes.last
    await added.get_by_label("Code").fill("auto")
    await added.get_by_label("Omschrijving (nl)").fill("Retour gestart")
    await added.get_by_label("Omschrijving (en)").fill("Return started")
    await added.get_by_role("checkbox", name="q_complaints").check()
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(added.get_by_label("Code")).to_have_attribute("aria-invalid", "true",
                                                              timeout=WAIT_MS)
    await added.get_by_label("Code").fill("retour")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_have_text("Opgeslagen (revisie 1).",
                                                                   timeout=WAIT_MS)
    dispositions = (await get("/api/routing/config/dispositions"))["document"]
    assert dispositions[-1] == {"code": "retour", "queues": ["q_complaints"],
                                "labels": {"nl": "Retour gestart", "en": "Return started"}}
    assert [d["code"] for d in (await get("/api/dispositions?queue=q_general"))["items"]] \
        == [d["code"] for d in dispositions[:-1]]

    # The phone menu's English greeting.
    await subnav.get_by_role("button", name="Telefoonmenu").click()
    await manage.get_by_label("Begroeting (en)").fill("Welcome to our shop{name}.",
                                                      timeout=WAIT_MS)
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_contain_text(
        "Het telefoonmenu is opgeslagen", timeout=WAIT_MS)
    assert (await get("/api/voice/menu"))["greeting"]["en"] == "Welcome to our shop{name}."

    # A web form's Dutch title.
    await subnav.get_by_role("button", name="Webformulieren").click()
    await manage.get_by_label("Formulier", exact=True).select_option("complaint",
                                                                     timeout=WAIT_MS)
    await manage.get_by_label("Titel (nl)").fill("Klacht indienen")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_have_text(
        "Formulier complaint is opgeslagen.", timeout=WAIT_MS)
    forms = {f["id"]: f for f in (await get("/api/forms"))["items"]}
    assert forms["complaint"]["title"] == {"nl": "Klacht indienen", "en": "Make a complaint"}

    # The routing editor offers the new queue.
    routing = await screen.open("Routering")
    choices = routing.locator("li.rule").first.get_by_label("Wachtrij", exact=True)
    await expect(choices.locator('option[value="q_retail"]')).to_have_text("Winkels Noord",
                                                                            timeout=WAIT_MS)

    # A queue the phone menu sends callers to is kept, and the page says why; the new
    # queue, which nothing uses, goes after asking once more.
    manage = await screen.open("Beheer")
    await manage.locator(".subnav").get_by_role("button", name="Wachtrijen en teams").click()
    general = manage.locator('tr[data-queue="q_general"]')
    await general.get_by_role("button", name="q_general verwijderen").click()
    await general.get_by_role("button", name="Ja, verwijderen").click()
    await expect(general.get_by_role("status")).to_contain_text(
        "Deze wachtrij is nog in gebruik", timeout=WAIT_MS)
    await expect(general.get_by_role("status")).to_contain_text("the phone menu")
    retail = manage.locator('tr[data-queue="q_retail"]')
    await retail.get_by_role("button", name="Winkels Noord verwijderen").click()
    await retail.get_by_role("button", name="Ja, verwijderen").click()
    await expect(retail).to_have_count(0, timeout=WAIT_MS)
    await expect(manage.locator(".manage-queues > [role=status]")).to_have_text(
        "Wachtrij Winkels Noord is verwijderd; de geschiedenis blijft.")
    listed = await get("/api/queues?archived=true")
    assert {q["id"]: q["archived_at"] is not None for q in listed["queues"]}["q_retail"]
    await screen.nothing_ran()


async def test_a_supervisor_keeps_the_screen_pops_scripts_and_knowledge(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    screen = await log_in(browser, centre, next_path="/console#manage")
    manage = screen.page.get_by_role("tabpanel", name="Beheer")

    await manage.locator(".subnav").get_by_role("button", name="Scripts").click(timeout=WAIT_MS)
    await manage.get_by_role("button", name="Script toevoegen").click(timeout=WAIT_MS)
    script = manage.locator("li.text-item").last
    await script.get_by_label("Titel").fill("Klacht: eerst erkennen")
    await script.get_by_label("Id").fill("klacht-nl")
    await script.get_by_label("Wachtrij").select_option("q_complaints")
    await script.get_by_label("Soort zaak").select_option("complaint")
    await script.get_by_label("Taal").select_option("nl")
    await script.get_by_label("Tekst").fill("Goedemiddag {customer.shoe}, vervelend dat …")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(script.locator(".field-error")).to_contain_text("{customer.shoe}",
                                                                 timeout=WAIT_MS)
    await expect(script.get_by_label("Tekst")).to_have_attribute("aria-invalid", "true")
    await script.get_by_label("Tekst").fill("Goedemiddag {customer.first_name}, vervelend dat …")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_have_text("Opgeslagen (revisie 1).",
                                                                   timeout=WAIT_MS)
    stored = await (await centre.client.get("/api/scripts", headers=centre.supervisor)).json()
    assert [(x["id"], x["queue"], x["case_type"], x["language"]) for x in stored["scripts"]] == [
        ("klacht-nl", "q_complaints", "complaint", "nl")]

    await manage.locator(".subnav").get_by_role("button", name="Kennisbank").click()
    await manage.get_by_role("button", name="Fragment toevoegen").click(timeout=WAIT_MS)
    snippet = manage.locator("li.text-item").last
    await snippet.get_by_label("Titel").fill("Retourtermijn")
    await snippet.get_by_label("Id").fill("retour")
    await snippet.get_by_label("Tekst").fill("U mag 30 dagen retourneren.")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(snippet.locator(".field-error")).to_contain_text("never suggested",
                                                                  timeout=WAIT_MS)
    await snippet.get_by_label("Trefwoorden (komma's)").fill("retour, terugsturen")
    await manage.get_by_role("button", name="Opslaan").click()
    await expect(manage.locator(".status-line").last).to_have_text("Opgeslagen (revisie 1).",
                                                                   timeout=WAIT_MS)
    stored = await (await centre.client.get("/api/knowledge", headers=centre.supervisor)).json()
    assert stored["snippets"][0]["keywords"] == ["retour", "terugsturen"]
    await screen.nothing_ran()


# --- the main tabs, as a new user sees them with the demo ---------------------------------


async def test_the_main_tabs_with_the_demo_data(
        sqlite_only: str, browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    # The browser counts ages on its own clock: the service starts at the real time here.
    now = datetime.now(UTC).replace(microsecond=0)
    async with running_centre(sqlite_only, now, workers=ALL_WORKERS, queues=()) as centre:
        async with centre.services.engine.begin() as conn:  # the demo brings its own teams
            await conn.execute(teams.delete())
        await demo.load(centre.services)
        for n, (name, subject, case_type) in enumerate([
                ("Piet Jansen", "Vraag over mijn factuur", None),
                ("Fatima el Amrani", "Pakket niet ontvangen", "complaint"),
                ("Daan Smit", "Adreswijziging", None),
                ("Zoë de Wit", "Klacht over de bezorger", "complaint")]):
            await contact(centre, n, subject=subject, case_type=case_type, name=name)
        token = await centre.services.access.create_token(role=Role.AGENT, name="Anna",
                                                          agent_id="agent_anna")
        ws = await available(centre, {"Authorization": f"Bearer {token}"})
        try:
            screen = await log_in(browser, centre, password=demo.DEMO_PASSWORD)
            page = screen.page
            board = page.get_by_role("tabpanel", name="Wallboard")
            await expect(board.locator(".connection")).to_have_text("Live", timeout=WAIT_MS)
            await expect(board.locator('tr[data-agent="agent_anna"] td.presence')).to_have_text(
                "Beschikbaar", timeout=WAIT_MS)
            await expect(board.locator('tr[data-agent="agent_anna"] td.work-cell')).to_contain_text(
                "SW-", timeout=WAIT_MS)
            await shoot(page, "wallboard", tmp_path)

            routing = await screen.open("Routering")
            await expect(routing.locator("li.rule")).to_have_count(3, timeout=WAIT_MS)
            invoices = routing.locator("li.rule").nth(2)
            await invoices.get_by_label("Wachtrij", exact=True).select_option("q_general")
            await routing.get_by_role("button", name="Simuleren").click()
            await expect(routing.locator("section.simulation tr.changed")).to_have_count(
                2, timeout=WAIT_MS)
            await shoot(page, "routing", tmp_path)

            manage = await screen.open("Beheer")
            await manage.get_by_role("button", name="Anna de Jong wijzigen").click(
                timeout=WAIT_MS)
            await shoot(page, "manage", tmp_path)

            complaints = await screen.open("Klachten")
            await expect(complaints.locator("tr[data-case]")).to_have_count(3, timeout=WAIT_MS)
            await expect(complaints.locator("td.customer").first).not_to_have_text(
                "…", timeout=WAIT_MS)
            await shoot(page, "complaints", tmp_path)

            reports = await screen.open("Rapportages")
            contacts = reports.locator('[data-tile="contacts"] .tile-value')
            await expect(contacts).to_have_text("6", timeout=WAIT_MS)  # the demo's two + four
            bars = reports.locator("svg.chart g.bar")
            await expect(bars).to_have_count(7)  # the last seven days
            await expect(bars.last).to_have_attribute("data-total", "6")  # all received today
            await expect(reports.locator("figure").filter(has_text="Serviceniveau per dag")
                         .locator("svg.chart")).to_be_visible(timeout=WAIT_MS)
            download = reports.get_by_role("link", name="Contacten downloaden (CSV)")
            href = await download.get_attribute("href")
            today = now.date().isoformat()
            assert href is not None and f"to={today}" in href and "sep=semicolon" in href
            exported = await page.request.get(url(centre, href))
            assert exported.status == 200
            lines = (await exported.text()).lstrip("\ufeff").splitlines()
            assert lines[0].startswith("contact_id;received_at;channel")
            assert len(lines) == 7
            await shoot(page, "reports", tmp_path)
            await screen.nothing_ran()
        finally:
            await ws.close()
