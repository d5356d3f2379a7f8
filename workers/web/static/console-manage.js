// Manage: agents (skills and levels, tier, teams, queues, capacities, presence), queues and
// teams, SLA policies, business hours, the phone menu's texts, web forms, and — when the
// server offers them — scripts and knowledge snippets. Every form sends to the existing
// API and shows its 422 reasons next to the control they name.

import {
  ApiError, api, field, fmtDuration, h, label, problem, replace, select, showFieldErrors,
  statusLine, t, tn,
} from "./console-core.js";
import { mountTexts } from "./console-texts.js";

const CHANNELS = ["phone", "chat", "email", "webform"];
const CASE_TYPES = ["question", "complaint", "request"];
const ALL_CHANNELS = ["email", "phone", "chat", "webform", "visit", "letter", "social"];
const PRESENCES = ["available", "away", "busy", "after_contact_work", "offline"];
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const LANGS = ["nl", "en"];

function role() {
  const user = document.querySelector('meta[name="user"]');
  return user ? user.dataset.role : "supervisor";
}

function saveFailed(form, status, err) {
  if (err instanceof ApiError && err.status === 422) {
    const unplaced = showFieldErrors(form, err.fields);
    status.say(tn("mg.notSaved", Object.keys(err.fields).length)
      + (unplaced.length ? ` ${unplaced.map(([k, v]) => `${k}: ${v}`).join("; ")}` : ""), "bad");
    const first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  } else {
    status.say(problem(err), "bad");
  }
}

function checkboxes(name, items, chosen, path) {
  return h("fieldset", { class: "checks", "data-path": path },
    h("legend", null, name),
    items.length ? items.map(([value, text]) => h("label", { class: "check" },
      h("input", { type: "checkbox", value, checked: chosen.includes(value) }), text))
      : h("span", { class: "muted" }, "—"));
}

function checked(fieldset) {
  return [...fieldset.querySelectorAll("input[type=checkbox]:checked")].map((i) => i.value);
}

// --- agents -----------------------------------------------------------------------------

function agentsSection(context) {
  const section = h("section", { class: "manage-agents" });
  const status = statusLine();
  const body = h("tbody");
  const editor = h("div", { class: "agent-editor" });
  let catalogue = null;

  function teamNames(ids) {
    return ids.map((id) => (catalogue.teams.find((tm) => tm.id === id) || { name: id }).name).join(", ");
  }

  function queueNames(ids) {
    return ids.map((id) => (catalogue.queues.find((q) => q.id === id) || { name: id }).name).join(", ");
  }

  function render() {
    replace(body, catalogue.agents.map((a) => h("tr", { dataset: { agent: a.id },
      class: a.active ? null : "inactive" },
    h("th", { scope: "row" }, a.name, h("small", null, a.username)),
    h("td", null, t(`tier.${a.tier}`)),
    h("td", null, teamNames(a.teams) || "—"),
    h("td", null, queueNames(a.queues) || "—"),
    h("td", { class: "skills" }, Object.entries(a.skills).map(([k, v]) => `${k} ${v}`).join(", ") || "—"),
    h("td", null, CHANNELS.map((c) => `${label("channel", c)} ${a.capacity[c] ?? 0}`).join(", ")),
    h("td", null, h("span", { class: ["badge", `presence-${a.presence}`] }, label("presence", a.presence))),
    h("td", null, a.active ? t("yes") : t("no")),
    h("td", null, h("button", { type: "button", class: "link edit",
      "aria-label": t("mg.editAgent", { name: a.name }), onclick: () => edit(a) }, t("mg.edit"))))));
  }

  function skillRow(skill = "", level = 3) {
    const row = h("li", { class: "skill-row" },
      h("input", { type: "text", class: "skill-name", value: skill, "aria-label": t("mg.skill"),
        maxlength: "50", "data-path": `skills.${skill}` }),
      select([1, 2, 3, 4, 5].map((n) => [n, String(n)]), level, { class: "skill-level",
        "aria-label": t("mg.level") }),
      h("button", { type: "button", class: "link", onclick: () => row.remove() }, t("mg.remove")));
    return row;
  }

  function edit(agent, said = null) {
    const name = h("input", { type: "text", value: agent.name, "data-path": "name", maxlength: "300" });
    const tier = select([[1, t("tier.1")], [2, t("tier.2")]], agent.tier, { "data-path": "tier" });
    const teams = checkboxes(t("mg.teams"), catalogue.teams.map((tm) => [tm.id, tm.name]), agent.teams, "teams");
    const queues = checkboxes(t("mg.queues"), catalogue.queues.map((q) => [q.id, q.name]), agent.queues, "queues");
    const skills = h("ul", { class: "skills-list", "data-path": "skills" },
      Object.entries(agent.skills).map(([k, v]) => skillRow(k, v)));
    const channels = [...new Set([...CHANNELS, ...Object.keys(agent.capacity)])];
    const capacity = h("fieldset", { class: "capacity", "data-path": "capacity" },
      h("legend", null, t("mg.capacity")),
      channels.map((c) => field(label("channel", c), h("input", {
        type: "number", min: "0", max: "50", value: String(agent.capacity[c] ?? 0),
        dataset: { channel: c }, "data-path": `capacity.${c}`,
      }))));
    const active = h("input", { type: "checkbox", checked: agent.active, "data-path": "active" });
    const presence = select(PRESENCES.map((p) => [p, label("presence", p)]), agent.presence,
      { "data-path": "presence" });
    const formStatus = statusLine();
    const form = h("form", { class: "card", "aria-label": t("mg.editAgent", { name: agent.name }) },
      h("h3", null, t("mg.editAgent", { name: agent.name })),
      h("div", { class: "form-grid" },
        field(t("mg.name"), name), field(t("mg.tier"), tier), field(t("mg.presence"), presence),
        h("label", { class: "check" }, active, t("mg.active"))),
      h("div", { class: "form-grid" }, teams, queues),
      h("fieldset", null, h("legend", null, t("mg.skills")), skills,
        h("button", { type: "button", class: "link", onclick: () => {
          const row = skillRow();
          skills.appendChild(row);
          row.querySelector("input").focus();
        } }, t("mg.addSkill"))),
      capacity,
      h("div", { class: "buttons" },
        h("button", { type: "submit", class: "primary" }, t("mg.save")),
        h("button", { type: "button", class: "link", onclick: () => replace(editor) }, t("mg.close"))),
      formStatus);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const skillMap = {};
      for (const row of skills.querySelectorAll(".skill-row")) {
        const skill = row.querySelector(".skill-name").value.trim();
        row.querySelector(".skill-name").dataset.path = `skills.${skill}`;
        if (skill) skillMap[skill] = Number(row.querySelector(".skill-level").value);
      }
      const cap = {};
      for (const input of capacity.querySelectorAll("input")) cap[input.dataset.channel] = Number(input.value);
      const patch = {
        name: name.value.trim(), tier: Number(tier.value), teams: checked(teams),
        queues: checked(queues), skills: skillMap, capacity: cap, active: active.checked,
      };
      if (presence.value !== agent.presence) patch.presence = presence.value;
      showFieldErrors(form, {});
      try {
        const saved = await api("PATCH", `/api/agents/${encodeURIComponent(agent.id)}`, patch);
        await context.changed();
        edit(saved, t("mg.savedAgent", { name: saved.name })); // what was saved, afresh
      } catch (err) {
        saveFailed(form, formStatus, err);
      }
    });
    replace(editor, form);
    if (said) {
      formStatus.say(said, "good");
      form.querySelector("button[type=submit]").focus();
    } else {
      name.focus();
    }
  }

  function createForm() {
    if (role() !== "admin") return h("p", { class: "muted" }, t("mg.adminCreates"));
    const name = h("input", { type: "text", "data-path": "name", maxlength: "300", required: true });
    const username = h("input", { type: "text", "data-path": "username", maxlength: "100", required: true });
    const formStatus = statusLine();
    const form = h("form", { class: "inline-form" },
      h("h3", null, t("mg.newAgent")), field(t("mg.name"), name), field(t("mg.username"), username),
      h("button", { type: "submit" }, t("mg.create")), formStatus);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      showFieldErrors(form, {});
      try {
        const created = await api("POST", "/api/agents", { name: name.value.trim(), username: username.value.trim() });
        formStatus.say(t("mg.createdAgent", { name: created.name }), "good");
        form.reset();
        await context.changed();
        edit(created);
      } catch (err) {
        saveFailed(form, formStatus, err);
      }
    });
    return form;
  }

  section.append(
    h("h3", null, t("mg.agents")),
    h("table", { class: "grid" }, h("thead", null, h("tr", null,
      [t("mg.agent"), t("mg.tier"), t("mg.teams"), t("mg.queues"), t("mg.skills"), t("mg.capacity"),
        t("mg.presence"), t("mg.active"), ""].map((c) => h("th", { scope: "col" }, c)))), body),
    editor, createForm(), status);

  return {
    section,
    async load(cat) {
      catalogue = cat;
      render();
    },
  };
}

// --- queues and teams -------------------------------------------------------------------

function queuesSection(context) {
  const section = h("section", { class: "manage-queues" });
  const queuesBody = h("tbody");
  const teamsBody = h("tbody");
  const status = statusLine();
  const teamChoice = h("select", { "data-path": "team" });
  let catalogue = null;

  function editRow(q, row) {
    const name = h("input", { type: "text", value: q.name, "data-path": "name", maxlength: "300",
      "aria-label": t("mg.name") });
    const team = select(catalogue.teams.map((tm) => [tm.id, tm.name]), q.team,
      { "data-path": "team", "aria-label": t("mg.team") }, t("mg.noTeam"));
    const description = h("input", { type: "text", value: q.description || "", maxlength: "1000",
      "data-path": "description", "aria-label": t("mg.description") });
    const rowStatus = statusLine();
    const editing = h("tr", { class: "editing", dataset: { queue: q.id } },
      h("td", null, name), h("td", null, h("code", null, q.id)), h("td", null, team),
      h("td", null, description, rowStatus),
      h("td", { class: "row-tools" },
        h("button", { type: "button", class: "primary", onclick: async () => {
          showFieldErrors(editing, {});
          try {
            const saved = await api("PATCH", `/api/queues/${encodeURIComponent(q.id)}`, {
              name: name.value.trim(), team: team.value || null,
              description: description.value.trim() || null });
            await context.changed();
            status.say(t("mg.savedQueue", { name: saved.name }), "good");
          } catch (err) {
            saveFailed(editing, rowStatus, err);
          }
        } }, t("mg.save")),
        h("button", { type: "button", class: "link", onclick: () => editing.replaceWith(row) },
          t("mg.cancel"))));
    row.replaceWith(editing);
    name.focus();
  }

  // Removing asks once more in the row itself; the server refuses (409) while work waits in
  // the queue or anything routes to it, and says what (shown as text).
  function confirmRemove(q, tools) {
    const rowStatus = statusLine();
    const keep = Array.from(tools.childNodes);
    const back = () => tools.replaceChildren(...keep);
    tools.replaceChildren(h("span", null, t("mg.removeQueueAsk", { name: q.name }), " "),
      h("button", { type: "button", class: "danger", onclick: async () => {
        try {
          await api("DELETE", `/api/queues/${encodeURIComponent(q.id)}`);
          await context.changed();
          status.say(t("mg.removedQueue", { name: q.name }), "good");
        } catch (err) {
          rowStatus.say(err instanceof ApiError && err.status === 409
            ? t("mg.queueInUse", { reason: err.message }) : problem(err), "bad");
        }
      } }, t("mg.removeQueue")),
      h("button", { type: "button", class: "link", onclick: back }, t("mg.cancel")), rowStatus);
  }

  function renameTeam(tm, row) {
    const name = h("input", { type: "text", value: tm.name, maxlength: "200", required: true,
      "data-path": "name", "aria-label": t("mg.name") });
    const rowStatus = statusLine();
    const editing = h("tr", { class: "editing", dataset: { team: tm.id } },
      h("td", null, name, rowStatus), h("td", null, h("code", null, tm.id)),
      h("td", { class: "row-tools" },
        h("button", { type: "button", class: "primary", onclick: async () => {
          showFieldErrors(editing, {});
          try {
            const saved = await api("PATCH", `/api/teams/${encodeURIComponent(tm.id)}`,
              { name: name.value.trim() });
            await context.changed();
            status.say(t("mg.savedTeam", { name: saved.name }), "good");
          } catch (err) {
            if (err instanceof ApiError && err.status === 409) rowStatus.say(t("mg.teamNameTaken"), "bad");
            else saveFailed(editing, rowStatus, err);
          }
        } }, t("mg.save")),
        h("button", { type: "button", class: "link", onclick: () => editing.replaceWith(row) },
          t("mg.cancel"))));
    row.replaceWith(editing);
    name.focus();
  }

  function render() {
    const teamName = (id) => (catalogue.teams.find((tm) => tm.id === id) || { name: id || "—" }).name;
    replace(queuesBody, catalogue.queues.map((q) => {
      const row = h("tr", { dataset: { queue: q.id } },
        h("th", { scope: "row" }, q.name), h("td", null, h("code", null, q.id)),
        h("td", null, teamName(q.team)), h("td", null, q.description || "—"));
      const tools = h("td", { class: "row-tools" }, h("button", { type: "button", class: "link",
        "aria-label": t("mg.editName", { name: q.name }), onclick: () => editRow(q, row) }, t("mg.edit")),
      h("button", { type: "button", class: "link",
        "aria-label": t("mg.removeName", { name: q.name }), onclick: () => confirmRemove(q, tools) },
      t("mg.remove")));
      row.appendChild(tools);
      return row;
    }));
    replace(teamsBody, catalogue.teams.map((tm) => {
      const row = h("tr", { dataset: { team: tm.id } },
        h("th", { scope: "row" }, tm.name), h("td", null, h("code", null, tm.id)));
      row.appendChild(h("td", null, h("button", { type: "button", class: "link",
        "aria-label": t("mg.editName", { name: tm.name }), onclick: () => renameTeam(tm, row) }, t("mg.edit"))));
      return row;
    }));
    replace(teamChoice, h("option", { value: "" }, t("mg.noTeam")),
      catalogue.teams.map((tm) => h("option", { value: tm.id }, tm.name)));
  }

  function creator(title, inputs, path, build) {
    const formStatus = statusLine();
    const form = h("form", { class: "inline-form" }, h("h3", null, title),
      inputs.map(([text, control]) => field(text, control)),
      h("button", { type: "submit" }, t("mg.create")), formStatus);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      showFieldErrors(form, {});
      try {
        const created = await api("POST", path, build());
        formStatus.say(t("mg.created", { name: created.name }), "good");
        form.reset();
        await context.changed();
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) formStatus.say(t("mg.idTaken"), "bad");
        else saveFailed(form, formStatus, err);
      }
    });
    return form;
  }

  const qId = h("input", { type: "text", "data-path": "id", required: true, maxlength: "40",
    pattern: "[a-z0-9][a-z0-9_\\-]*", placeholder: "q_retail" });
  const qName = h("input", { type: "text", "data-path": "name", required: true, maxlength: "300" });
  const qDescription = h("input", { type: "text", "data-path": "description", maxlength: "1000" });
  const tId = h("input", { type: "text", "data-path": "id", required: true, maxlength: "40",
    pattern: "[a-z0-9][a-z0-9_\\-]*", placeholder: "team_retail" });
  const tName = h("input", { type: "text", "data-path": "name", required: true, maxlength: "300" });

  section.append(
    h("h3", null, t("mg.queues")),
    h("table", { class: "grid" }, h("thead", null, h("tr", null,
      [t("mg.name"), t("mg.id"), t("mg.team"), t("mg.description"), ""].map((c) => h("th", { scope: "col" }, c)))),
    queuesBody),
    status,
    creator(t("mg.newQueue"), [[t("mg.id"), qId], [t("mg.name"), qName], [t("mg.team"), teamChoice],
      [t("mg.description"), qDescription]], "/api/queues", () => ({
      id: qId.value.trim(), name: qName.value.trim(), team: teamChoice.value || null,
      description: qDescription.value.trim() || null,
    })),
    h("h3", null, t("mg.teams")),
    h("table", { class: "grid" }, h("thead", null, h("tr", null,
      [t("mg.name"), t("mg.id"), ""].map((c) => h("th", { scope: "col" }, c)))), teamsBody),
    creator(t("mg.newTeam"), [[t("mg.id"), tId], [t("mg.name"), tName]], "/api/teams",
      () => ({ id: tId.value.trim(), name: tName.value.trim() })));

  return {
    section,
    async load(cat) {
      catalogue = cat;
      render();
    },
  };
}

// --- configuration documents (SLA policies, calendars) ----------------------------------

function configSection(context, key, title, renderDocument, collect) {
  const section = h("section", { class: `manage-${key}` });
  const status = statusLine();
  const form = h("form", { class: "config-form" });
  let revision = 0;
  let documentNow = null;
  let calendars = [];
  let catalogue = null;

  async function load(cat) {
    if (cat) catalogue = cat;
    const [stored, cal] = await Promise.all([api("GET", `/api/routing/config/${key}`),
      key === "sla-policies" ? api("GET", "/api/routing/config/calendars") : Promise.resolve(null)]);
    revision = stored.revision;
    documentNow = stored.document;
    calendars = cal ? cal.document : [];
    replace(form, renderDocument(documentNow, { calendars, catalogue }),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("mg.save")),
        h("button", { type: "button", class: "link", onclick: () => load().then(() => status.say(t("mg.reloaded"), "info")) },
          t("mg.reload"))),
      status);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showFieldErrors(form, {});
    try {
      const saved = await api("PUT", `/api/routing/config/${key}`, { document: collect(form), revision });
      revision = saved.revision;
      status.say(t("mg.savedConfig", { n: saved.revision }), "good");
      if (key === "sla-policies") await context.changed();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) status.say(t("mg.staleConfig"), "bad");
      else saveFailed(form, status, err);
    }
  });

  section.append(h("h3", null, title), form);
  return { section, load };
}

const HOUR = 3600;

function hoursInput(seconds, path) {
  return h("input", { type: "number", min: "0", step: "0.25", class: "hours", "data-path": path,
    value: seconds === null || seconds === undefined ? "" : String(seconds / HOUR) });
}

function slaDocument(doc, { calendars }) {
  const rows = h("tbody", { class: "policies" });
  const row = (p, index) => {
    const path = `policies[${index}]`;
    const tr = h("tr", { class: "policy", "data-path": path },
      h("td", null, h("input", { type: "text", class: "p-name", value: p.name || "", "data-path": `${path}.name`,
        "aria-label": t("mg.name") }),
      h("input", { type: "text", class: "p-id", value: p.id || "", "data-path": `${path}.id`,
        "aria-label": t("mg.id"), placeholder: "sla_…" })),
      h("td", null, select(calendars.map((c) => [c.id, c.name]), p.calendar_id, { class: "p-calendar",
        "data-path": `${path}.calendar_id`, "aria-label": t("mg.calendar") })),
      h("td", null, select(CASE_TYPES.map((c) => [c, label("caseType", c)]), p.case_type,
        { class: "p-case-type", "data-path": `${path}.case_type`, "aria-label": t("mg.caseType") }, t("mg.any"))),
      h("td", null, select([1, 2, 3, 4].map((n) => [n, label("priority", n)]), p.priority,
        { class: "p-priority", "data-path": `${path}.priority`, "aria-label": t("mg.priority") }, t("mg.any"))),
      h("td", null, h("input", { type: "text", class: "p-segment", value: p.segment || "",
        "data-path": `${path}.segment`, "aria-label": t("mg.segment"), placeholder: t("mg.any") })),
      h("td", null, select(ALL_CHANNELS.map((c) => [c, label("channel", c)]), p.channel,
        { class: "p-channel", "data-path": `${path}.channel`, "aria-label": t("mg.channel") }, t("mg.any"))),
      h("td", null, hoursInput(p.first_response_s, `${path}.first_response_s`),
        h("small", null, fmtDuration(p.first_response_s))),
      h("td", null, hoursInput(p.resolution_s, `${path}.resolution_s`),
        h("small", null, fmtDuration(p.resolution_s))),
      h("td", null, h("input", { type: "number", min: "1", max: "99", class: "p-warn",
        value: String(Math.round((p.warn_at_fraction ?? 0.8) * 100)), "data-path": `${path}.warn_at_fraction`,
        "aria-label": t("mg.warnAt") })),
      h("td", null, h("button", { type: "button", class: "link", onclick: () => tr.remove() }, t("mg.remove"))));
    return tr;
  };
  doc.forEach((p, i) => rows.appendChild(row(p, i)));
  return h("div", null,
    h("p", { class: "hint" }, t("mg.slaHint")),
    h("table", { class: "grid edit-grid" }, h("thead", null, h("tr", null,
      [t("mg.name"), t("mg.calendar"), t("mg.caseType"), t("mg.priority"), t("mg.segment"),
        t("mg.channel"), t("mg.firstResponseH"), t("mg.resolutionH"), t("mg.warnAt"), ""]
        .map((c) => h("th", { scope: "col" }, c)))), rows),
    h("button", { type: "button", class: "link", onclick: () => {
      rows.appendChild(row({ calendar_id: calendars.length ? calendars[0].id : "", warn_at_fraction: 0.8 },
        rows.children.length));
    } }, t("mg.addPolicy")));
}

function collectSla(form) {
  const number = (input, scale = 1) => (input.value === "" ? null : Math.round(Number(input.value) * scale));
  return [...form.querySelectorAll("tr.policy")].map((tr) => ({
    id: tr.querySelector(".p-id").value.trim(),
    name: tr.querySelector(".p-name").value.trim(),
    calendar_id: tr.querySelector(".p-calendar").value,
    case_type: tr.querySelector(".p-case-type").value || null,
    priority: tr.querySelector(".p-priority").value ? Number(tr.querySelector(".p-priority").value) : null,
    segment: tr.querySelector(".p-segment").value.trim() || null,
    channel: tr.querySelector(".p-channel").value || null,
    first_response_s: number(tr.querySelectorAll("input.hours")[0], HOUR),
    resolution_s: number(tr.querySelectorAll("input.hours")[1], HOUR),
    warn_at_fraction: tr.querySelector(".p-warn").value === "" ? 0.8 : Number(tr.querySelector(".p-warn").value) / 100,
  }));
}

// Disposition codes: what agents record at wrap-up, labelled in Dutch and English, for
// every queue or only some (docs/routing.md, "After-contact work and wrap-up").
function dispositionDocument(doc, { catalogue }) {
  const queues = catalogue ? catalogue.queues.map((q) => [q.id, q.name]) : [];
  const rows = h("tbody", { class: "dispositions" });
  const row = (d, index) => {
    const path = `dispositions[${index}]`;
    const text = (value, cls, sub, name, extra = {}) => h("input", { type: "text", class: cls,
      value: value || "", "data-path": `${path}.${sub}`, "aria-label": name, ...extra });
    const tr = h("tr", { class: "disposition", "data-path": path },
      h("td", null, text(d.code, "d-code", "code", t("mg.code"),
        { maxlength: "40", placeholder: "answered" })),
      h("td", null, text(d.labels?.nl, "d-nl", "labels.nl", t("mg.labelNl"), { maxlength: "100" })),
      h("td", null, text(d.labels?.en, "d-en", "labels.en", t("mg.labelEn"), { maxlength: "100" })),
      h("td", null, checkboxes(t("mg.dispositionQueues"), queues, d.queues || [], `${path}.queues`)),
      h("td", null, h("button", { type: "button", class: "link", onclick: () => tr.remove() }, t("mg.remove"))));
    return tr;
  };
  doc.forEach((d, i) => rows.appendChild(row(d, i)));
  return h("div", null,
    h("p", { class: "hint" }, t("mg.dispositionHint")),
    h("table", { class: "grid edit-grid" }, h("thead", null, h("tr", null,
      [t("mg.code"), t("mg.labelNl"), t("mg.labelEn"), t("mg.dispositionQueues"), ""]
        .map((c) => h("th", { scope: "col" }, c)))), rows),
    h("button", { type: "button", class: "link", onclick: () => {
      rows.appendChild(row({}, rows.children.length));
    } }, t("mg.addDisposition")));
}

function collectDispositions(form) {
  return [...form.querySelectorAll("tr.disposition")].map((tr) => ({
    code: tr.querySelector(".d-code").value.trim(),
    labels: { nl: tr.querySelector(".d-nl").value.trim(), en: tr.querySelector(".d-en").value.trim() },
    queues: checked(tr.querySelector("fieldset.checks")),
  }));
}

function calendarDocument(doc) {
  const list = h("div", { class: "calendars" });
  const hoursRow = (hrs, path) => {
    const li = h("li", { class: "opening" },
      select(WEEKDAYS.map((d) => [d, label("weekday", d)]), hrs.weekday, { class: "c-weekday",
        "aria-label": t("mg.weekday"), "data-path": `${path}.weekday` }),
      h("input", { type: "time", class: "c-opens", value: hrs.opens || "09:00", "aria-label": t("mg.opens"),
        "data-path": `${path}.opens` }),
      "–",
      h("input", { type: "time", class: "c-closes", value: hrs.closes || "17:00", "aria-label": t("mg.closes"),
        "data-path": `${path}.closes` }),
      h("button", { type: "button", class: "link", onclick: () => li.remove() }, t("mg.remove")));
    return li;
  };
  const card = (c, index) => {
    const path = `calendars[${index}]`;
    const hours = h("ul", { class: "hours-list", "data-path": `${path}.hours` },
      (c.hours || []).map((hrs, i) => hoursRow(hrs, `${path}.hours[${i}]`)));
    const node = h("fieldset", { class: "calendar card", "data-path": path },
      h("legend", null, c.name || c.id || t("mg.newCalendar")),
      h("div", { class: "form-grid" },
        field(t("mg.name"), h("input", { type: "text", class: "c-name", value: c.name || "", "data-path": `${path}.name` })),
        field(t("mg.id"), h("input", { type: "text", class: "c-id", value: c.id || "", "data-path": `${path}.id` })),
        field(t("mg.timezone"), h("input", { type: "text", class: "c-timezone", value: c.timezone || "Europe/Amsterdam",
          "data-path": `${path}.timezone` })),
        h("label", { class: "check" }, h("input", { type: "checkbox", class: "c-always", checked: !!c.always_open,
          "data-path": `${path}.always_open` }), t("mg.alwaysOpen"))),
      h("h4", null, t("mg.openingHours")), hours,
      h("button", { type: "button", class: "link", onclick: () => hours.appendChild(hoursRow({ weekday: "monday" },
        `${path}.hours[${hours.children.length}]`)) }, t("mg.addHours")),
      h("div", { class: "form-grid" },
        field(t("mg.holidayCountry"), h("input", { type: "text", class: "c-country", maxlength: "3",
          value: c.holiday_country || "", "data-path": `${path}.holiday_country` })),
        field(t("mg.holidaySubdivision"), h("input", { type: "text", class: "c-subdivision",
          value: c.holiday_subdivision || "", "data-path": `${path}.holiday_subdivision` })),
        field(t("mg.closedDates"), h("input", { type: "text", class: "c-closed", placeholder: "2026-12-31, 2027-01-02",
          value: (c.closed_dates || []).join(", "), "data-path": `${path}.closed_dates` }))),
      h("button", { type: "button", class: "link", onclick: () => node.remove() }, t("mg.removeCalendar")));
    return node;
  };
  doc.forEach((c, i) => list.appendChild(card(c, i)));
  return h("div", null, h("p", { class: "hint" }, t("mg.calendarHint")), list,
    h("button", { type: "button", class: "link", onclick: () => list.appendChild(card({ hours: [] },
      list.children.length)) }, t("mg.addCalendar")));
}

function collectCalendars(form) {
  return [...form.querySelectorAll("fieldset.calendar")].map((node) => ({
    id: node.querySelector(".c-id").value.trim(),
    name: node.querySelector(".c-name").value.trim(),
    timezone: node.querySelector(".c-timezone").value.trim(),
    always_open: node.querySelector(".c-always").checked,
    hours: [...node.querySelectorAll("li.opening")].map((li) => ({
      weekday: li.querySelector(".c-weekday").value,
      opens: li.querySelector(".c-opens").value,
      closes: li.querySelector(".c-closes").value,
    })),
    holiday_country: node.querySelector(".c-country").value.trim() || null,
    holiday_subdivision: node.querySelector(".c-subdivision").value.trim() || null,
    closed_dates: node.querySelector(".c-closed").value.split(/[\s,]+/).filter(Boolean),
  }));
}

// --- the phone menu ---------------------------------------------------------------------

/** Inputs for a {nl, en} text at `path`; `menu[path]` is updated as the supervisor types. */
function bilingual(text, value, path, onInput, rows = 2) {
  return h("fieldset", { class: "bilingual", "data-path": path },
    h("legend", null, text),
    LANGS.map((lang) => {
      const area = h("textarea", { rows: String(rows), lang, "data-path": `${path}.${lang}`,
        "aria-label": `${text} (${lang})`, oninput: (e) => onInput(lang, e.target.value) });
      area.value = (value && value[lang]) || "";
      return field(label("lang", lang), area);
    }));
}

function menuSection() {
  const section = h("section", { class: "manage-menu" });
  const status = statusLine();
  const form = h("form", { class: "menu-form" });
  let menu = null;

  function setter(target, key) {
    return (lang, value) => {
      target[key] = { ...(target[key] || {}), [lang]: value };
    };
  }

  async function load() {
    menu = await api("GET", "/api/voice/menu");
    const nodes = Object.entries(menu.nodes || {});
    replace(form,
      h("p", { class: "hint" }, t("mg.menuHint")),
      ["greeting", "closed", "invalid"].map((key) => bilingual(t(`mg.menu.${key}`), menu[key], key, setter(menu, key))),
      nodes.map(([id, node]) => h("fieldset", { class: "menu-node card", dataset: { node: id } },
        h("legend", null, t("mg.menuNode", { id })),
        bilingual(t("mg.prompt"), node.prompt, `nodes.${id}.prompt`, setter(node, "prompt")),
        (node.options || []).map((option, i) => bilingual(t("mg.option", { key: option.key }), option.label,
          `nodes.${id}.options.${i}.label`, setter(option, "label"), 1)))),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("mg.save")),
        h("button", { type: "button", class: "link", onclick: () => load().then(() => status.say(t("mg.reloaded"), "info")) },
          t("mg.reload"))),
      status);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showFieldErrors(form, {});
    try {
      menu = await api("PUT", "/api/voice/menu", menu);
      status.say(t("mg.savedMenu"), "good");
    } catch (err) {
      saveFailed(form, status, err);
    }
  });

  section.append(h("h3", null, t("mg.menu")), form);
  return { section, load };
}

// --- web forms --------------------------------------------------------------------------

function formsSection(context) {
  const section = h("section", { class: "manage-forms" });
  const status = statusLine();
  const chooser = h("select", { class: "form-choice", "aria-label": t("mg.chooseForm") });
  const form = h("form", { class: "webform-form" });
  let forms = [];
  let catalogue = null;

  function edit(def) {
    const setter = (target, key) => (lang, value) => { target[key] = { ...(target[key] || {}), [lang]: value }; };
    const queue = select(catalogue.queues.map((q) => [q.id, q.name]), def.queue, { "data-path": "queue",
      onchange: (e) => { def.queue = e.target.value || null; } }, t("mg.defaultRouting"));
    const caseType = select(CASE_TYPES.map((c) => [c, label("caseType", c)]), def.case_type,
      { "data-path": "case_type", onchange: (e) => { def.case_type = e.target.value; } });
    replace(form,
      h("p", { class: "hint" }, t("mg.formHint"), " ",
        h("a", { href: `/forms/${encodeURIComponent(def.id)}`, target: "_blank", rel: "noopener" }, `/forms/${def.id}`)),
      h("div", { class: "form-grid" }, field(t("mg.queue"), queue), field(t("mg.caseType"), caseType)),
      bilingual(t("mg.formTitle"), def.title, "title", setter(def, "title"), 1),
      bilingual(t("mg.formIntro"), def.intro, "intro", setter(def, "intro")),
      bilingual(t("mg.formConfirmation"), def.confirmation, "confirmation", setter(def, "confirmation")),
      (def.fields || []).map((f, i) => h("fieldset", { class: "form-field card", dataset: { field: f.name } },
        h("legend", null, t("mg.formField", { name: f.name, type: f.type })),
        bilingual(t("mg.fieldLabel"), f.label, `fields.${i}.label`, setter(f, "label"), 1),
        bilingual(t("mg.fieldHelp"), f.help, `fields.${i}.help`, setter(f, "help"), 1),
        (f.options || []).map((o, j) => bilingual(t("mg.fieldOption", { value: o.value }), o.label,
          `fields.${i}.options.${j}.label`, setter(o, "label"), 1)))),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("mg.save"))),
      status);
    form.onsubmit = async (e) => {
      e.preventDefault();
      showFieldErrors(form, {});
      // An emptied optional text is no text.
      if (def.intro && !def.intro.nl && !def.intro.en) def.intro = null;
      for (const f of def.fields || []) {
        if (f.help && !f.help.nl && !f.help.en) f.help = null;
      }
      try {
        const saved = await api("PUT", `/api/forms/${encodeURIComponent(def.id)}`, def);
        forms = forms.map((x) => (x.id === saved.id ? saved : x));
        status.say(t("mg.savedForm", { id: saved.id }), "good");
      } catch (err) {
        saveFailed(form, status, err);
      }
    };
  }

  chooser.addEventListener("change", () => {
    const def = forms.find((f) => f.id === chooser.value);
    if (def) edit(JSON.parse(JSON.stringify(def)));
  });

  section.append(h("h3", null, t("mg.forms")), field(t("mg.chooseForm"), chooser), form);
  return {
    section,
    async load(cat) {
      catalogue = cat;
      forms = (await api("GET", "/api/forms")).items;
      const current = chooser.value;
      replace(chooser, forms.map((f) => h("option", { value: f.id }, `${(f.title && (f.title.nl || f.title.en)) || f.id} (${f.id})`)));
      if (forms.length) {
        chooser.value = forms.some((f) => f.id === current) ? current : forms[0].id;
        edit(JSON.parse(JSON.stringify(forms.find((f) => f.id === chooser.value))));
      } else {
        replace(form, h("p", { class: "muted" }, t("mg.noForms")));
      }
    },
  };
}

// --- the tab ----------------------------------------------------------------------------

export function mountManage(panel, context) {
  const sections = [
    { id: "agents", make: () => agentsSection(context), catalogue: true },
    { id: "queues", make: () => queuesSection(context), catalogue: true },
    { id: "sla", make: () => configSection(context, "sla-policies", t("mg.sla"), slaDocument, collectSla) },
    { id: "hours", make: () => configSection(context, "calendars", t("mg.hours"), calendarDocument, collectCalendars) },
    { id: "dispositions", catalogue: true, make: () => configSection(context, "dispositions",
      t("mg.dispositions"), dispositionDocument, collectDispositions) },
    { id: "menu", make: menuSection },
    { id: "forms", make: () => formsSection(context), catalogue: true },
    { id: "scripts", make: () => mountTexts(context, "scripts"), catalogue: true, optional: "/api/scripts" },
    { id: "knowledge", make: () => mountTexts(context, "knowledge"), catalogue: true,
      optional: "/api/knowledge" },
  ];
  const nav = h("nav", { class: "subnav", "aria-label": t("tab.manage") });
  const holder = h("div", { class: "subpanel" });
  const status = statusLine();
  const built = new Map();
  let current = null;

  async function open(id) {
    const def = sections.find((s) => s.id === id) || sections[0];
    current = def.id;
    for (const button of nav.querySelectorAll("button")) {
      button.setAttribute("aria-current", button.dataset.section === def.id ? "page" : "false");
    }
    if (!built.has(def.id)) built.set(def.id, def.make());
    const part = built.get(def.id);
    replace(holder, part.section);
    try {
      await part.load(def.catalogue ? await context.catalogue() : undefined);
      status.say("", "info");
    } catch (err) {
      status.say(problem(err), "bad");
    }
  }

  async function addButtons() {
    for (const def of sections) {
      if (def.optional) {
        // Scripts and knowledge snippets appear once the server offers them.
        try {
          await api("GET", def.optional);
        } catch (err) {
          if (err instanceof ApiError && (err.status === 404 || err.status === 405)) continue;
        }
      }
      nav.appendChild(h("button", { type: "button", dataset: { section: def.id }, "aria-current": "false",
        onclick: () => open(def.id) }, t(`mg.section.${def.id}`)));
    }
  }

  context.onChange((cat) => {
    const def = sections.find((s) => s.id === current);
    if (def && def.catalogue && built.has(def.id)) built.get(def.id).load(cat);
  });

  panel.append(h("div", { class: "panel-head" }, h("h2", null, t("tab.manage"))), nav, status, holder);
  addButtons().then(() => open("agents"));
  return {};
}
