// The live wallboard: pushed over /supervisor/ws (docs/supervisor-protocol.md), never
// polled. Each `snapshot` replaces the board; ages (longest wait, time in state) are counted
// on in the page from the snapshot's timestamps, so they grow between snapshots.

import {
  api, fmtDuration, fmtPercent, fmtTime, h, label, replace, t,
} from "./console-core.js";

const MAX_EVENTS = 30;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

function tile(name, text) {
  return h("div", { class: "tile", dataset: { tile: name } },
    h("span", { class: "tile-label" }, text),
    h("span", { class: "tile-value" }, "—"),
    h("span", { class: "tile-note" }, ""));
}

function table(caption, columns, body) {
  return h("table", { class: "grid" },
    h("caption", null, caption),
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c)))),
    body);
}

function emptyRow(columns, text) {
  return h("tr", { class: "empty" }, h("td", { colspan: String(columns) }, text));
}

function count(n, kind) {
  return h("span", { class: ["count", n > 0 ? kind : null] }, String(n));
}

export function mountWallboard(panel, context) {
  const connection = h("p", { class: "connection", role: "status", dataset: { state: "connecting" } },
    t("wb.connecting"));
  const tiles = {
    waiting: tile("waiting", t("wb.waiting")),
    longest: tile("longest", t("wb.longestWait")),
    level: tile("service-level", t("wb.serviceLevel")),
    warnings: tile("warnings", t("wb.warnings")),
    breaches: tile("breaches", t("wb.breaches")),
    agents: tile("agents", t("wb.agentsAvailable")),
  };
  const queues = h("tbody", { class: "queues" });
  const agents = h("tbody", { class: "agents" });
  const alerts = h("tbody", { class: "alerts" });
  const events = h("ol", { class: "events", role: "log", "aria-label": t("wb.events") },
    h("li", { class: "empty muted" }, t("wb.noEvents")));
  const updated = h("p", { class: "updated" }, "");

  panel.appendChild(h("div", { class: "panel-head" },
    h("h2", null, t("tab.wallboard")), connection, updated));
  panel.appendChild(h("div", { class: "tiles" }, Object.values(tiles)));
  panel.appendChild(table(t("wb.queues"), [t("wb.queue"), t("wb.waiting"), t("wb.offered"),
    t("wb.longestWait"), t("wb.serviceLevelToday"), t("wb.warnings"), t("wb.breaches")], queues));
  panel.appendChild(table(t("wb.agents"), [t("wb.agent"), t("wb.presence"), t("wb.inState"),
    t("wb.currentWork"), t("wb.capacity")], agents));
  panel.appendChild(h("div", { class: "columns" },
    h("div", null, table(t("wb.alerts"), [t("wb.case"), t("wb.queue"), t("wb.clock"),
      t("wb.state"), t("wb.due")], alerts)),
    h("div", null, h("h3", null, t("wb.events")), events)));

  let skew = 0; // the server's clock minus ours, in ms, from the newest snapshot
  let board = null;
  let socket = null;
  let retry = RETRY_MIN_MS;
  const queueNames = new Map();

  const serverNow = () => Date.now() + skew;

  function setTile(node, value, note = "", kind = null) {
    node.querySelector(".tile-value").textContent = value;
    node.querySelector(".tile-note").textContent = note;
    node.dataset.kind = kind || "";
  }

  function ageCell(className, since) {
    const cell = h("td", { class: className });
    if (since) cell.dataset.since = since;
    cell.textContent = since ? fmtDuration((serverNow() - Date.parse(since)) / 1000) : "—";
    return cell;
  }

  function queueRow(q) {
    const waitingNote = Object.entries(q.waiting || {})
      .map(([channel, n]) => `${label("channel", channel)} ${n}`).join(" · ");
    const level = q.service_level || {};
    const counted = (level.in_target || 0) + (level.late || 0) + (level.overdue || 0);
    return h("tr", { dataset: { queue: q.id } },
      h("th", { scope: "row", class: "name" }, q.name),
      h("td", { class: "waiting" }, count(q.waiting_total, "busy"),
        waitingNote ? h("small", null, waitingNote) : null),
      h("td", { class: "offered" }, String(q.offered)),
      ageCell("longest", q.oldest_waiting_since),
      h("td", { class: "service-level" }, fmtPercent(level.ratio),
        counted ? h("small", null, t("wb.inTargetOf", { n: level.in_target, total: counted })) : null),
      h("td", { class: "warnings" }, count(q.sla.warnings, "warn")),
      h("td", { class: "breaches" }, count(q.sla.breaches, "bad")));
  }

  function workText(w) {
    const parts = [label("channel", w.channel), w.case_reference || ""];
    if (w.state === "offered") parts.push(`(${t("wb.offeredState")})`);
    if (w.state === "after_contact_work") parts.push(`(${t("wb.afterContactWorkState")})`);
    return parts.filter(Boolean).join(" ");
  }

  function agentRow(a) {
    const work = a.work.length
      ? h("ul", { class: "work" }, a.work.map((w) => h("li", { dataset: { case: w.case_id } },
        workText(w), w.since ? h("small", { dataset: { since: w.since } },
          fmtDuration((serverNow() - Date.parse(w.since)) / 1000)) : null)))
      : h("span", { class: "muted" }, t("wb.noWork"));
    return h("tr", { dataset: { agent: a.id } },
      h("th", { scope: "row", class: "name" }, a.name,
        a.teams.length ? h("small", null, a.teams.map((team) => team.name).join(", ")) : null),
      h("td", { class: "presence" },
        h("span", { class: ["badge", `presence-${a.presence}`], dataset: { presence: a.presence } },
          label("presence", a.presence))),
      ageCell("in-state", a.presence_since),
      h("td", { class: "work-cell" }, work),
      h("td", { class: "capacity" }, `${a.capacity.used} / ${a.capacity.total}`));
  }

  function alertRow(a) {
    return h("tr", { dataset: { case: a.case_id, state: a.state } },
      h("th", { scope: "row" }, h("button", {
        type: "button", class: "link", title: t("wb.showTrace"),
        onclick: () => context.open("routing").showTrace(a.case_id),
      }, a.case_reference)),
      h("td", null, queueNames.get(a.queue_id) || a.queue_id || "—"),
      h("td", null, label("clock", a.kind)),
      h("td", null, h("span", { class: ["badge", `sla-${a.state}`] }, label("sla", a.state))),
      h("td", null, fmtTime(a.due_at)));
  }

  function render(message) {
    board = message;
    skew = Date.parse(message.generated_at) - Date.now();
    queueNames.clear();
    for (const q of message.queues) queueNames.set(q.id, q.name);
    const totals = message.totals;
    setTile(tiles.waiting, String(totals.waiting_total),
      totals.offered ? t("wb.offeredNote", { n: totals.offered }) : "", totals.waiting_total ? "busy" : null);
    setTile(tiles.longest, fmtDuration(totals.longest_wait_s));
    tiles.longest.querySelector(".tile-value").dataset.since = totals.oldest_waiting_since || "";
    const level = totals.service_level;
    const counted = level.in_target + level.late + level.overdue;
    setTile(tiles.level, fmtPercent(level.ratio),
      counted ? t("wb.inTargetOf", { n: level.in_target, total: counted }) : t("wb.nothingYet"),
      level.ratio === null ? null : level.ratio >= 0.8 ? "good" : "bad");
    setTile(tiles.warnings, String(totals.sla.warnings), "", totals.sla.warnings ? "warn" : null);
    setTile(tiles.breaches, String(totals.sla.breaches), "", totals.sla.breaches ? "bad" : null);
    const present = Object.entries(totals.agents).filter(([p]) => p !== "offline")
      .reduce((sum, [, n]) => sum + n, 0);
    setTile(tiles.agents, String(totals.agents.available || 0),
      t("wb.agentsNote", { n: present }));

    replace(queues, message.queues.length ? message.queues.map(queueRow)
      : emptyRow(7, t("wb.noQueues")));
    replace(agents, message.agents.length ? message.agents.map(agentRow)
      : emptyRow(5, t("wb.noAgents")));
    replace(alerts, message.sla_alerts.length ? message.sla_alerts.map(alertRow)
      : emptyRow(5, t("wb.noAlerts")));
    updated.textContent = t("wb.updated", { time: fmtTime(message.generated_at) });
    updated.dataset.seq = String(message.seq);
  }

  function event(text, kind, caseId) {
    const item = h("li", { dataset: { kind } },
      h("time", null, fmtTime(new Date().toISOString())), " ",
      caseId ? h("button", {
        type: "button", class: "link", onclick: () => context.open("routing").showTrace(caseId),
      }, text) : text);
    const empty = events.querySelector("li.empty");
    if (empty) empty.remove();
    events.prepend(item);
    while (events.children.length > MAX_EVENTS) events.lastChild.remove();
  }

  function handle(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "snapshot") {
      render(message);
    } else if (message.type === "case_routed") {
      event(t("wb.eventRouted", {
        queue: queueNames.get(message.queue_id) || message.queue_id,
        type: label("caseType", message.case_type),
      }), "routed", message.case_id);
    } else if (message.type === "sla_warning" || message.type === "sla_breached") {
      event(t(message.type === "sla_warning" ? "wb.eventWarning" : "wb.eventBreach", {
        clock: label("clock", message.kind), due: fmtTime(message.due_at),
      }), message.type, message.case_id);
    }
  }

  function say(state) {
    connection.dataset.state = state;
    connection.textContent = t(`wb.${state}`);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    say("connecting");
    socket = new WebSocket(`${scheme}://${window.location.host}/supervisor/ws`);
    socket.addEventListener("open", () => {
      retry = RETRY_MIN_MS;
      say("live");
    });
    socket.addEventListener("message", (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      handle(message);
    });
    socket.addEventListener("close", () => {
      socket = null;
      say("reconnecting");
      // A refused upgrade looks like any drop: asking the API sends an ended session to
      // the login page; otherwise try again, waiting longer each time.
      api("GET", "/api/me").catch(() => {});
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, RETRY_MAX_MS);
    });
  }

  function tick() {
    if (!board) return;
    for (const node of panel.querySelectorAll("[data-since]")) {
      const since = node.dataset.since;
      if (since) node.textContent = fmtDuration((serverNow() - Date.parse(since)) / 1000);
    }
  }

  connect();
  window.setInterval(tick, 1000);
  return {
    refresh() {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "refresh" }));
    },
  };
}
