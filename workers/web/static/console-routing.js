// Routing: edit the draft rule set (the API's 422 reasons appear next to the rule and the
// control they name), simulate the draft against recent contacts and show what would
// change, publish, roll back, and read the decision trace of any case.

import {
  ApiError, api, clear, field, fmtDateTime, fmtPercent, h, label, problem, replace, select,
  showFieldErrors, statusLine, t, tn,
} from "./console-core.js";

const ACTION_SELECTS = ["queue", "priority", "tier", "case_type", "preferred_agent",
  "preferred_team", "sla_policy"];
const PRIORITIES = [1, 2, 3, 4];
const CASE_TYPES = ["question", "complaint", "request"];

function copy(value) {
  return JSON.parse(JSON.stringify(value));
}

/** "complaints:3, billing:2" ⇄ {"complaints": 3, "billing": 2}. Anything unreadable is
 * sent as typed, so the server's reason appears next to the control. */
function skillsText(skills) {
  if (!skills || typeof skills !== "object") return skills ? String(skills) : "";
  return Object.entries(skills).map(([k, v]) => `${k}:${v}`).join(", ");
}

function parseSkills(text) {
  const result = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const match = /^([^:=\s]+)\s*[:=\s]\s*(\d+)$/.exec(part);
    if (!match) return text;
    result[match[1]] = Number(match[2]);
  }
  return result;
}

function parseTags(text) {
  return text.split(",").map((p) => p.trim()).filter(Boolean);
}

export function mountRouting(panel, context) {
  const state = {
    catalogue: null, overview: null, doc: null, version: null, dirty: false, fields: [],
  };
  const names = { queue: new Map(), agent: new Map(), team: new Map() };

  // --- layout -------------------------------------------------------------------------
  const versionInfo = h("p", { class: "version-info" });
  const summary = h("div", { class: "alert", role: "alert", hidden: true });
  const status = statusLine();
  const defaultQueue = h("select", { "data-path": "default_queue", id: "default-queue" });
  const rulesList = h("ol", { class: "rules", "aria-label": t("rt.rules") });
  const comment = h("input", { type: "text", maxlength: "1000", class: "comment" });
  const last = h("input", { type: "number", min: "1", max: "1000", value: "50", class: "last" });
  const saveButton = h("button", { type: "button", class: "primary" }, t("rt.save"));
  const simulateButton = h("button", { type: "button" }, t("rt.simulate"));
  const publishButton = h("button", { type: "button" }, t("rt.publish"));
  const rollbackButton = h("button", { type: "button" }, t("rt.rollback"));
  const discardButton = h("button", { type: "button", class: "link" }, t("rt.discard"));
  const fieldsHelp = h("tbody");
  const simulation = h("section", { class: "simulation", "aria-labelledby": "sim-title", hidden: true });
  const versionsBody = h("tbody");
  const activationsBody = h("tbody");
  const traceInput = h("input", { type: "text", id: "trace-case", class: "trace-case",
    placeholder: t("rt.tracePlaceholder") });
  const traceRecent = h("select", { class: "trace-recent", "aria-label": t("rt.traceRecent") });
  const traceOut = h("div", { class: "trace-out", "aria-live": "polite" });
  const traceSection = h("section", { class: "trace", "aria-labelledby": "trace-title" });

  const editor = h("section", { class: "editor", "aria-labelledby": "rules-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "rules-title" }, t("rt.title")), versionInfo),
    summary,
    h("div", { class: "row" },
      field(t("rt.defaultQueue"), defaultQueue),
      h("details", { class: "fields-help" }, h("summary", null, t("rt.fieldsHelp")),
        h("table", { class: "grid compact" }, h("thead", null, h("tr", null,
          h("th", { scope: "col" }, t("rt.field")), h("th", { scope: "col" }, t("rt.type")),
          h("th", { scope: "col" }, t("rt.meaning")))), fieldsHelp))),
    rulesList,
    h("p", null, h("button", { type: "button", class: "add", onclick: () => addRule() }, t("rt.addRule"))),
    h("div", { class: "actions" },
      field(t("rt.comment"), comment),
      field(t("rt.last"), last),
      h("div", { class: "buttons" }, saveButton, simulateButton, publishButton, rollbackButton,
        discardButton)),
    status);

  traceSection.append(
    h("h2", { id: "trace-title" }, t("rt.traceTitle")),
    h("form", {
      class: "row trace-form",
      onsubmit: (e) => { e.preventDefault(); lookUp(traceInput.value.trim()); },
    }, field(t("rt.traceCase"), traceInput), traceRecent,
    h("button", { type: "submit" }, t("rt.traceShow"))),
    traceOut);

  panel.append(editor, simulation,
    h("section", { class: "history", "aria-labelledby": "versions-title" },
      h("h2", { id: "versions-title" }, t("rt.versions")),
      h("div", { class: "columns" },
        h("table", { class: "grid versions" }, h("caption", null, t("rt.savedVersions")),
          h("thead", null, h("tr", null, [t("rt.version"), t("rt.author"), t("rt.savedAt"),
            t("rt.comment"), ""].map((c) => h("th", { scope: "col" }, c)))), versionsBody),
        h("table", { class: "grid activations" }, h("caption", null, t("rt.activations")),
          h("thead", null, h("tr", null, [t("rt.at"), t("rt.action"), t("rt.version"),
            t("rt.by"), t("rt.comment")].map((c) => h("th", { scope: "col" }, c)))),
          activationsBody))),
    traceSection);

  // --- the editor ---------------------------------------------------------------------

  function options(kind) {
    const cat = state.catalogue;
    if (kind === "queue") return cat.queues.map((q) => [q.id, q.name]);
    if (kind === "preferred_agent") return cat.agents.map((a) => [a.id, a.name]);
    if (kind === "preferred_team") return cat.teams.map((tm) => [tm.id, tm.name]);
    if (kind === "sla_policy") return cat.slaPolicies.map((p) => [p.id, p.name]);
    if (kind === "priority") return PRIORITIES.map((p) => [p, label("priority", p)]);
    if (kind === "tier") return [[1, t("tier.1")], [2, t("tier.2")]];
    return CASE_TYPES.map((c) => [c, label("caseType", c)]);
  }

  function withCurrent(list, value) {
    // A value the catalogue no longer has (a removed queue) stays visible, so the server's
    // reason for refusing it makes sense.
    if (value === undefined || value === null || value === "") return list;
    return list.some(([v]) => String(v) === String(value)) ? list : [...list, [value, String(value)]];
  }

  function markDirty() {
    state.dirty = true;
    versionInfo.dataset.dirty = "true";
    describeVersion();
    updateButtons();
  }

  function ruleCard(rule, index) {
    const path = `rules[${index}]`;
    const actions = rule.actions && typeof rule.actions === "object" ? rule.actions : (rule.actions = {});
    const heading = h("span", { class: "rule-name" }, rule.name || t("rt.unnamed"));
    const set = (key, value) => {
      if (value === "" || value === null || value === undefined
          || (Array.isArray(value) && !value.length)) delete actions[key];
      else actions[key] = value;
      markDirty();
    };
    const text = (key, props = {}) => h("input", {
      type: "text", value: rule[key] ?? "", "data-path": `${path}.${key}`, ...props,
      oninput: (e) => {
        if (key === "id" && !e.target.value) delete rule.id;
        else rule[key] = e.target.value;
        if (key === "name") heading.textContent = e.target.value || t("rt.unnamed");
        markDirty();
      },
    });
    const actionSelect = (key) => {
      const numeric = key === "priority" || key === "tier";
      return select(withCurrent(options(key), actions[key]), actions[key],
        { "data-path": `${path}.actions.${key}`,
          onchange: (e) => set(key, e.target.value === "" ? null
            : numeric ? Number(e.target.value) : e.target.value) },
        t("rt.unchanged"));
    };
    const flag = (key, text) => h("label", { class: "check" },
      h("input", { type: "checkbox", checked: rule[key] !== false, "data-path": `${path}.${key}`,
        onchange: (e) => { rule[key] = e.target.checked; markDirty(); } }), text);
    const move = (by) => {
      const rules = state.doc.rules;
      const to = index + by;
      if (to < 0 || to >= rules.length) return;
      [rules[index], rules[to]] = [rules[to], rules[index]];
      markDirty();
      renderRules();
      rulesList.children[to].querySelector("button.up, button.down").focus();
    };
    const condition = h("textarea", {
      rows: "2", spellcheck: "false", "data-path": `${path}.condition`, class: "condition",
      oninput: (e) => { rule.condition = e.target.value; markDirty(); },
    });
    condition.value = rule.condition ?? "";

    return h("li", { class: ["rule", rule.enabled === false ? "disabled" : null],
      "data-path": path, dataset: { index } },
    h("div", { class: "rule-head" },
      h("span", { class: "rule-number" }, `${index + 1}.`), heading,
      h("span", { class: "rule-tools" },
        h("button", { type: "button", class: "up", "aria-label": t("rt.moveUp"), title: t("rt.moveUp"),
          disabled: index === 0, onclick: () => move(-1) }, "↑"),
        h("button", { type: "button", class: "down", "aria-label": t("rt.moveDown"),
          title: t("rt.moveDown"), disabled: index === state.doc.rules.length - 1,
          onclick: () => move(1) }, "↓"),
        h("button", { type: "button", class: "remove", onclick: () => {
          state.doc.rules.splice(index, 1);
          markDirty();
          renderRules();
        } }, t("rt.remove")))),
    h("div", { class: "rule-grid" },
      field(t("rt.name"), text("name", { class: "name", maxlength: "200" })),
      field(t("rt.id"), text("id", { class: "rule-id", placeholder: t("rt.idAuto") })),
      h("div", { class: "wide" }, field(t("rt.condition"), condition, t("rt.conditionHint")))),
    h("fieldset", { class: "rule-actions", "data-path": `${path}.actions` },
      h("legend", null, t("rt.actions")),
      ACTION_SELECTS.map((key) => field(label("action", key), actionSelect(key))),
      field(label("action", "skills"), h("input", {
        type: "text", value: skillsText(actions.skills), "data-path": `${path}.actions.skills`,
        placeholder: "complaints:3, nl:2",
        oninput: (e) => set("skills", e.target.value.trim() ? parseSkills(e.target.value) : null),
      })),
      field(label("action", "tags"), h("input", {
        type: "text", value: (Array.isArray(actions.tags) ? actions.tags : []).join(", "),
        "data-path": `${path}.actions.tags`, placeholder: "klacht, vip",
        oninput: (e) => set("tags", parseTags(e.target.value)),
      })),
      field(label("action", "auto_reply_template"), h("input", {
        type: "text", value: actions.auto_reply_template ?? "",
        "data-path": `${path}.actions.auto_reply_template`,
        oninput: (e) => set("auto_reply_template", e.target.value.trim()),
      }))),
    h("div", { class: "rule-flags" }, flag("stop", t("rt.stop")), flag("enabled", t("rt.enabled"))));
  }

  function renderRules() {
    replace(rulesList, state.doc.rules.length
      ? state.doc.rules.map(ruleCard)
      : h("li", { class: "empty" }, t("rt.noRules")));
    replace(defaultQueue, withCurrent(options("queue"), state.doc.default_queue)
      .map(([v, text]) => h("option", { value: v }, text)));
    defaultQueue.value = state.doc.default_queue || "";
  }

  function addRule() {
    state.doc.rules.push({ name: "", condition: "true", actions: {}, stop: true, enabled: true });
    markDirty();
    renderRules();
    const added = rulesList.lastElementChild;
    added.querySelector("input.name").focus();
  }

  defaultQueue.addEventListener("change", () => {
    state.doc.default_queue = defaultQueue.value;
    markDirty();
  });
  // Typing in a control clears the reason shown for it.
  editor.addEventListener("input", (e) => {
    const id = e.target.getAttribute && e.target.getAttribute("aria-errormessage");
    if (id) {
      const note = document.getElementById(id);
      if (note) note.remove();
      e.target.removeAttribute("aria-invalid");
      e.target.removeAttribute("aria-errormessage");
    }
  });

  function describeVersion() {
    const o = state.overview;
    const active = o && o.active ? o.active.version : null;
    const parts = [];
    parts.push(active ? t("rt.activeVersion", { n: active }) : t("rt.noActive"));
    if (state.version && state.version !== active) parts.push(t("rt.draftVersion", { n: state.version }));
    if (state.dirty) parts.push(t("rt.unsaved"));
    versionInfo.textContent = parts.join(" · ");
  }

  function updateButtons() {
    const o = state.overview;
    const active = o && o.active ? o.active.version : null;
    publishButton.disabled = !state.dirty && (!state.version || state.version === active);
    rollbackButton.disabled = !o || o.activations.length === 0
      || !o.activations.some((a) => a.version !== active);
    discardButton.disabled = !state.dirty;
  }

  function errors(err, what) {
    if (err instanceof ApiError && err.status === 422) {
      const unplaced = showFieldErrors(editor, err.fields);
      const total = Object.keys(err.fields).length;
      replace(summary, h("p", null, tn(what, total)),
        unplaced.length ? h("ul", null, unplaced.map(([k, v]) => h("li", null, `${k}: ${v}`))) : null);
      summary.hidden = false;
      const first = editor.querySelector("[aria-invalid=true]");
      if (first) first.focus();
      status.say("", "bad"); // the summary above says it, next to the rules
    } else {
      status.say(problem(err), "bad");
    }
  }

  function clearErrors() {
    showFieldErrors(editor, {});
    summary.hidden = true;
    clear(summary);
  }

  function documentNow() {
    return { default_queue: state.doc.default_queue, rules: state.doc.rules };
  }

  async function save() {
    clearErrors();
    try {
      const saved = await api("PUT", "/api/routing/rules",
        { ...documentNow(), comment: comment.value.trim() });
      state.version = saved.version;
      state.doc = { default_queue: saved.default_queue, rules: saved.rules };
      state.dirty = false;
      delete versionInfo.dataset.dirty;
      renderRules();
      status.say(t("rt.saved", { n: saved.version }), "good");
      await reloadOverview();
      return saved.version;
    } catch (err) {
      errors(err, "rt.notSaved");
      return null;
    }
  }

  async function simulate() {
    clearErrors();
    simulateButton.disabled = true;
    try {
      const n = Math.max(1, Math.min(1000, Number(last.value) || 50));
      const result = await api("POST", "/api/routing/simulate", { rules: documentNow(), last: n });
      renderSimulation(result); // its summary is a status of its own
      status.say("", "info");
    } catch (err) {
      errors(err, "rt.notSimulated");
    } finally {
      simulateButton.disabled = false;
    }
  }

  async function publish() {
    let version = state.version;
    if (state.dirty) {
      version = await save();
      if (version === null) return;
    }
    try {
      await api("POST", "/api/routing/rules/publish", { version, comment: comment.value.trim() });
      status.say(t("rt.published", { n: version }), "good");
      comment.value = "";
      await reloadOverview();
    } catch (err) {
      errors(err, "rt.notPublished");
    }
  }

  async function activate(version, isRollback) {
    try {
      const done = await api("POST", `/api/routing/rules/${isRollback ? "rollback" : "publish"}`,
        version ? { version, comment: comment.value.trim() } : { comment: comment.value.trim() });
      status.say(t(isRollback ? "rt.rolledBack" : "rt.published", { n: done.version }), "good");
      comment.value = "";
      await reloadOverview(!state.dirty);
    } catch (err) {
      status.say(problem(err), "bad");
    }
  }

  saveButton.addEventListener("click", save);
  simulateButton.addEventListener("click", simulate);
  publishButton.addEventListener("click", publish);
  rollbackButton.addEventListener("click", () => activate(null, true));
  discardButton.addEventListener("click", () => {
    clearErrors();
    loadEditor(true);
    status.say(t("rt.discarded"), "info");
  });

  // --- simulation ---------------------------------------------------------------------

  function show(fieldName, value) {
    if (value === null || value === undefined) return "—";
    if (fieldName === "queue") return names.queue.get(value) || String(value);
    if (fieldName === "preferred_agent") return names.agent.get(value) || String(value);
    if (fieldName === "preferred_team") return names.team.get(value) || String(value);
    if (fieldName === "priority") return label("priority", value);
    if (fieldName === "tier") return t(`tier.${value}`);
    if (fieldName === "case_type") return label("caseType", value);
    if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
    if (typeof value === "object") return skillsText(value) || "—";
    return String(value);
  }

  function renderSimulation(result) {
    const onlyChanged = h("input", { type: "checkbox", checked: true });
    const body = h("tbody");
    const fill = () => {
      const rows = result.results.filter((r) => !onlyChanged.checked || r.changed);
      replace(body, rows.length ? rows.map((r) => h("tr", {
        class: r.changed ? "changed" : null, dataset: { case: r.case_id || "", changed: String(r.changed) },
      },
      h("td", null, r.case_id ? h("button", { type: "button", class: "link",
        onclick: () => showTrace(r.case_id) }, t("rt.traceLink")) : "—"),
      h("td", null, r.decided_at ? fmtDateTime(r.decided_at) : "—"),
      h("td", { class: "before" }, r.before ? show("queue", r.before.queue) : "—"),
      h("td", { class: "after" }, show("queue", r.after.queue)),
      h("td", { class: "differences" }, Object.keys(r.differences).length
        ? h("ul", null, Object.entries(r.differences).map(([name, d]) => h("li", null,
          h("span", { class: "diff-field" }, label("action", name)), ": ",
          h("del", null, show(name, d.before)), " → ", h("ins", null, show(name, d.after)))))
        : t("rt.same")))) : h("tr", { class: "empty" }, h("td", { colspan: "5" },
        t("rt.nothingChanges"))));
    };
    onlyChanged.addEventListener("change", fill);
    fill();
    replace(simulation,
      h("h2", { id: "sim-title" }, t("rt.simTitle")),
      h("p", { class: "sim-summary", role: "status" },
        t("rt.simulated", { changed: result.changed, count: result.count })),
      h("label", { class: "check" }, onlyChanged, t("rt.onlyChanged")),
      h("table", { class: "grid sim" },
        h("thead", null, h("tr", null, [t("rt.contact"), t("rt.decidedAt"), t("rt.wentTo"),
          t("rt.wouldGoTo"), t("rt.differences")].map((c) => h("th", { scope: "col" }, c)))),
        body));
    simulation.hidden = false;
  }

  // --- versions and activations -------------------------------------------------------

  async function renderVersions() {
    const found = await api("GET", "/api/routing/rules/versions?limit=20");
    const active = state.overview.active ? state.overview.active.version : null;
    replace(versionsBody, found.items.map((v) => h("tr", { class: v.active ? "active" : null,
      dataset: { version: v.version } },
    h("th", { scope: "row" }, String(v.version), v.active ? h("span", { class: "badge good" }, t("rt.active")) : null),
    h("td", null, v.author), h("td", null, fmtDateTime(v.created_at)), h("td", null, v.comment || "—"),
    h("td", { class: "row-tools" },
      h("button", { type: "button", class: "link", onclick: () => {
        state.doc = { default_queue: v.default_queue, rules: copy(v.rules) };
        state.version = v.version;
        state.dirty = false;
        clearErrors();
        renderRules();
        describeVersion();
        updateButtons();
        status.say(t("rt.opened", { n: v.version }), "info");
        rulesList.scrollIntoView({ block: "start" });
      } }, t("rt.open")),
      v.active ? null : h("button", { type: "button", class: "link",
        onclick: () => activate(v.version, active !== null && v.version < active) },
      active !== null && v.version < active ? t("rt.rollbackTo") : t("rt.publishThis"))))));
    replace(activationsBody, state.overview.activations.map((a) => h("tr", null,
      h("td", null, fmtDateTime(a.at)), h("td", null, label("activation", a.action)),
      h("td", null, String(a.version)), h("td", null, a.by), h("td", null, a.comment || "—"))));
  }

  function loadEditor(force) {
    if (state.dirty && !force) return;
    const o = state.overview;
    const chosen = o.draft || o.active;
    state.doc = chosen ? { default_queue: chosen.default_queue, rules: copy(chosen.rules) }
      : { default_queue: state.catalogue.queues.length ? state.catalogue.queues[0].id : "", rules: [] };
    state.version = chosen ? chosen.version : null;
    state.dirty = false;
    delete versionInfo.dataset.dirty;
    renderRules();
    describeVersion();
    updateButtons();
  }

  async function reloadOverview(reloadEditor = false) {
    state.overview = await api("GET", "/api/routing/rules");
    if (reloadEditor) loadEditor(true);
    describeVersion();
    updateButtons();
    await renderVersions();
  }

  // --- decision traces ----------------------------------------------------------------

  function keyValues(entries) {
    return h("dl", { class: "pairs" }, entries.filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
  }

  function decisionView(d) {
    const outcome = d.outcome || {};
    const cls = d.classification || {};
    const trace = outcome.trace || [];
    const facts = Object.entries(d.facts || {});
    return h("article", { class: "decision" },
      h("h3", null, t("rt.decisionAt", { time: fmtDateTime(d.decided_at), n: d.rule_set_version })),
      keyValues([
        [t("rt.classification"), cls.case_type ? `${label("caseType", cls.case_type)} (${fmtPercent(cls.confidence)}, ${cls.language || "?"}${cls.negative_sentiment ? `, ${t("rt.negative")}` : ""})` : "—"],
        [t("rt.keywords"), (cls.matched || []).join(", ") || "—"],
        [t("rt.queue"), show("queue", outcome.queue)],
        [t("rt.slaPolicy"), outcome.sla_policy || "—"],
        [t("rt.actions"), Object.entries(outcome.actions || {}).map(([k, v]) => `${label("action", k)}: ${show(k, v)}`).join("; ") || "—"],
      ]),
      h("table", { class: "grid rule-trace" },
        h("caption", null, t("rt.ruleTrace")),
        h("thead", null, h("tr", null, [t("rt.rule"), t("rt.outcome"), t("rt.detail")]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, trace.length ? trace.map((r) => h("tr", { dataset: { outcome: r.outcome } },
          h("th", { scope: "row" }, r.name, h("small", null, r.rule_id)),
          h("td", null, h("span", { class: ["badge", `outcome-${r.outcome}`] }, label("outcome", r.outcome))),
          h("td", null, r.detail || (r.applied ? Object.entries(r.applied)
            .map(([k, v]) => `${label("action", k)}: ${show(k, v)}`).join("; ") : ""))))
          : h("tr", { class: "empty" }, h("td", { colspan: "3" }, t("rt.noRulesMatched"))))),
      h("details", { class: "facts" }, h("summary", null, t("rt.facts")),
        h("table", { class: "grid compact" }, h("tbody", null, facts.map(([k, v]) => h("tr", null,
          h("th", { scope: "row" }, k),
          h("td", null, v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v))))))));
  }

  function offerView(o) {
    const trace = o.trace || {};
    const rejected = Object.entries(trace.rejected || {});
    return h("tr", null,
      h("td", null, names.agent.get(o.agent_id) || o.agent_id),
      h("td", null, label("offer", o.status)),
      h("td", null, fmtDateTime(o.created_at)),
      h("td", null, trace.why || "—"),
      h("td", null, rejected.length ? rejected.map(([reason, n]) => `${label("reject", reason)} ${n}`).join(", ") : "—"));
  }

  async function showTrace(caseId) {
    traceInput.value = caseId;
    traceSection.scrollIntoView({ block: "start" });
    replace(traceOut, h("p", { class: "muted" }, t("loading")));
    try {
      const [found, routing] = await Promise.all([
        api("GET", `/api/cases/${encodeURIComponent(caseId)}`),
        api("GET", `/api/cases/${encodeURIComponent(caseId)}/routing`)]);
      replace(traceOut,
        h("h3", { class: "trace-case-title" }, `${found.reference} · `, found.subject || t("rt.noSubject")),
        keyValues([[t("rt.caseType"), label("caseType", found.type)], [t("rt.status"), label("caseStatus", found.status)],
          [t("rt.queue"), show("queue", found.queue)], [t("rt.priority"), label("casePriority", found.priority)]]),
        routing.decisions.length ? routing.decisions.map(decisionView)
          : h("p", { class: "muted" }, t("rt.noDecisions")),
        h("table", { class: "grid offers" }, h("caption", null, t("rt.offers")),
          h("thead", null, h("tr", null, [t("rt.agent"), t("rt.status"), t("rt.offeredAt"), t("rt.why"),
            t("rt.rejected")].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, routing.offers.length ? routing.offers.map(offerView)
            : h("tr", { class: "empty" }, h("td", { colspan: "5" }, t("rt.noOffers"))))));
    } catch (err) {
      replace(traceOut, h("p", { class: "alert" }, err instanceof ApiError && err.status === 404
        ? t("rt.noSuchCase", { id: caseId }) : problem(err)));
    }
  }

  async function lookUp(text) {
    if (!text) return;
    if (/^#?SW[-\s]?\d+$/i.test(text)) {
      // A reference: looked up exactly (the case number's unique index), however old.
      const found = (await api("GET", `/api/cases?reference=${encodeURIComponent(text)}`)).items[0];
      if (!found) {
        replace(traceOut, h("p", { class: "alert" }, t("rt.noSuchCase", { id: text })));
        return;
      }
      text = found.id;
    }
    await showTrace(text);
  }

  async function loadRecent() {
    const recent = await api("GET", "/api/cases?limit=30");
    replace(traceRecent, h("option", { value: "" }, t("rt.traceRecent")),
      recent.items.map((c) => h("option", { value: c.id }, `${c.reference} · ${c.subject || t("rt.noSubject")}`)));
  }
  traceRecent.addEventListener("change", () => {
    if (traceRecent.value) showTrace(traceRecent.value);
  });

  // --- start --------------------------------------------------------------------------

  function useCatalogue(cat) {
    state.catalogue = cat;
    for (const q of cat.queues) names.queue.set(q.id, q.name);
    for (const a of cat.agents) names.agent.set(a.id, a.name);
    for (const tm of cat.teams) names.team.set(tm.id, tm.name);
  }

  async function load() {
    try {
      useCatalogue(await context.catalogue());
      await reloadOverview();
      replace(fieldsHelp, state.overview.fields.map((f) => h("tr", null,
        h("th", { scope: "row" }, h("code", null, f.name)), h("td", null, f.type), h("td", null, f.description))));
      loadEditor(true);
      await loadRecent();
    } catch (err) {
      status.say(problem(err), "bad");
    }
  }

  context.onChange((cat) => {
    useCatalogue(cat);
    if (state.doc) {
      // Keep what is being typed; only the choices change.
      const focused = document.activeElement;
      if (!editor.contains(focused)) renderRules();
    }
  });

  const ready = load();
  return {
    showTrace: (caseId) => ready.then(() => showTrace(caseId)),
    shown: () => { if (state.overview) loadRecent().catch(() => {}); },
  };
}
