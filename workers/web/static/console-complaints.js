// Complaints: every open complaint (new, open or pending) with its age, oldest first, from
// GET /api/cases?type=complaint&status=…; the customer's name, and their latest survey
// answer (CSAT/NPS with the comment, shown as text), are looked up per case.

import {
  api, fmtDateTime, fmtDuration, h, label, problem, replace, statusLine, t,
} from "./console-core.js";

const OPEN = ["new", "open", "pending"];
const PAGE = 100;
const MAX_PAGES = 20; // per status: 2,000 open complaints is a crisis the table can show
const DAY = 86400;

export function mountComplaints(panel, context) {
  const status = statusLine();
  const body = h("tbody");
  const queueFilter = h("select", { class: "queue-filter", "aria-label": t("cp.queue") });
  const counts = h("p", { class: "counts" });
  const customers = new Map(); // id -> { name, survey } (or a promise of it)
  let complaints = [];
  let catalogue = null;

  async function all(statusName) {
    const found = [];
    let cursor = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const query = new URLSearchParams({ type: "complaint", status: statusName, limit: String(PAGE) });
      if (cursor) query.set("cursor", cursor);
      const result = await api("GET", `/api/cases?${query}`);
      found.push(...result.items);
      cursor = result.next_cursor;
      if (!cursor) break;
    }
    return found;
  }

  function ageS(c) {
    return Math.max(0, (Date.now() - Date.parse(c.created_at)) / 1000);
  }

  function due(iso, done) {
    if (!iso) return h("td", null, "—");
    const late = !done && Date.parse(iso) < Date.now();
    return h("td", { class: late ? "overdue" : null }, fmtDateTime(iso),
      late ? h("small", null, t("cp.overdue")) : null);
  }

  function satisfaction(survey) {
    if (!survey) return null;
    const scores = [
      typeof survey.score === "number" ? t("cp.csat", { n: survey.score }) : null,
      typeof survey.nps === "number" ? t("cp.nps", { n: survey.nps }) : null,
    ].filter(Boolean).join(" · ");
    return h("div", { class: "survey", title: t("cp.surveyOn", { date: fmtDateTime(survey.answered_at) }) },
      h("span", { class: survey.score != null && survey.score <= 2 ? "low" : null }, scores),
      survey.comment ? h("q", null, survey.comment) : null);
  }

  function showCustomer(cell, known) {
    cell.replaceChildren(known.name, satisfaction(known.survey) || "");
  }

  function customerCell(c) {
    const cell = h("td", { class: "customer" });
    const known = customers.get(c.customer_id);
    if (known && !(known instanceof Promise)) showCustomer(cell, known);
    else cell.textContent = "…";
    if (!customers.has(c.customer_id)) {
      customers.set(c.customer_id, api("GET", `/api/customers/${encodeURIComponent(c.customer_id)}`)
        .then((found) => ({ name: found.display_name || t("cp.unknownName"),
          survey: found.surveys?.items?.[0] || null }))
        .catch(() => ({ name: t("cp.unknownName"), survey: null }))
        .then((found) => {
          customers.set(c.customer_id, found);
          for (const node of body.querySelectorAll(`tr[data-customer="${CSS.escape(c.customer_id)}"] td.customer`)) {
            showCustomer(node, found);
          }
          return found;
        }));
    }
    return cell;
  }

  function render() {
    const queueNames = new Map(catalogue.queues.map((q) => [q.id, q.name]));
    const agentNames = new Map(catalogue.agents.map((a) => [a.id, a.name]));
    const shown = complaints.filter((c) => !queueFilter.value || c.queue === queueFilter.value);
    const older = (days) => shown.filter((c) => ageS(c) >= days * DAY).length;
    counts.textContent = t("cp.counts", { n: shown.length, day: older(1), week: older(7) });
    replace(body, shown.length ? shown.map((c) => h("tr", {
      dataset: { case: c.id, customer: c.customer_id, status: c.status },
      class: ageS(c) >= 7 * DAY ? "old" : null,
    },
    h("th", { scope: "row" }, h("button", { type: "button", class: "link", title: t("wb.showTrace"),
      onclick: () => context.open("routing").showTrace(c.id) }, c.reference)),
    h("td", { class: "subject" }, c.subject || "—"),
    customerCell(c),
    h("td", null, h("span", { class: ["badge", `status-${c.status}`] }, label("caseStatus", c.status))),
    h("td", null, label("casePriority", c.priority)),
    h("td", null, queueNames.get(c.queue) || c.queue || "—"),
    h("td", null, c.owner ? agentNames.get(c.owner) || c.owner : "—"),
    h("td", { class: "age", dataset: { created: c.created_at } }, fmtDuration(ageS(c))),
    due(c.first_response_due_at, !!c.first_responded_at),
    due(c.resolution_due_at, false)))
      : h("tr", { class: "empty" }, h("td", { colspan: "10" }, t("cp.none"))));
  }

  async function load() {
    status.say(t("loading"), "info");
    try {
      catalogue = await context.catalogue();
      const lists = await Promise.all(OPEN.map(all));
      complaints = lists.flat().sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
      const chosen = queueFilter.value;
      replace(queueFilter, h("option", { value: "" }, t("cp.allQueues")),
        catalogue.queues.map((q) => h("option", { value: q.id }, q.name)));
      queueFilter.value = chosen;
      render();
      status.say(t("cp.loaded", { time: fmtDateTime(new Date().toISOString()) }), "info");
    } catch (err) {
      status.say(problem(err), "bad");
    }
  }

  queueFilter.addEventListener("change", render);
  panel.append(
    h("div", { class: "panel-head" }, h("h2", null, t("cp.title")), counts),
    h("div", { class: "row" }, queueFilter,
      h("button", { type: "button", class: "refresh", onclick: load }, t("cp.refresh"))),
    h("table", { class: "grid complaints" },
      h("thead", null, h("tr", null, [t("cp.case"), t("cp.subject"), t("cp.customer"), t("cp.status"),
        t("cp.priority"), t("cp.queue"), t("cp.owner"), t("cp.age"), t("cp.firstResponseDue"),
        t("cp.resolutionDue")].map((c) => h("th", { scope: "col" }, c)))),
      body),
    status);

  window.setInterval(() => {
    for (const cell of body.querySelectorAll("td.age")) {
      cell.textContent = fmtDuration((Date.now() - Date.parse(cell.dataset.created)) / 1000);
    }
  }, 30000);

  return {
    // Fresh every time the tab is opened: complaints change while one looks elsewhere.
    shown: load,
  };
}
