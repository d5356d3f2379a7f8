// Reports: the period's figures from GET /api/reports/summary (docs/reports.md) as tiles,
// charts drawn here as inline SVG (stacked bars for volumes per channel and day, a line for
// the service level per day) and tables per queue and agent, plus the CSV download of the
// period's contacts.

import {
  ApiError, LANG, api, field, fmtDay, fmtDuration, fmtNumber, h, label, problem, replace, s,
  statusLine, t,
} from "./console-core.js";

const CHANNEL_ORDER = ["email", "phone", "chat", "webform", "visit", "letter", "social"];
const MAX_LINE_DAYS = 31; // a service-level point per day costs one summary each
const PARALLEL = 4;
const W = 640;
const H = 240;
const M = { top: 16, right: 24, bottom: 34, left: 44 };

function percent(value) {
  return value === null || value === undefined ? "—" : `${fmtNumber(value, 1)}%`;
}

function seconds(value) {
  return value === null || value === undefined ? "—" : fmtDuration(value);
}

/** A round number at or above `n` for the top of a count axis: four equal steps, each a
 * whole, round number. */
function niceMax(n) {
  const needed = Math.max(1, n / 4);
  const power = 10 ** Math.floor(Math.log10(needed));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const size = step * power;
    if (size >= needed && Number.isInteger(size)) return 4 * size;
  }
  return 4 * Math.ceil(needed);
}

function axes(svg, max, format) {
  const plotH = H - M.top - M.bottom;
  for (let i = 0; i <= 4; i += 1) {
    const value = (max * i) / 4;
    const y = M.top + plotH - (plotH * i) / 4;
    svg.appendChild(s("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "grid-line" }));
    svg.appendChild(s("text", { x: M.left - 6, y: y + 4, class: "axis-label", "text-anchor": "end" }, format(value)));
  }
}

function xLabels(svg, days, x) {
  const every = Math.max(1, Math.ceil(days.length / 10));
  days.forEach((day, i) => {
    if (i % every === 0 || i === days.length - 1) {
      svg.appendChild(s("text", { x: x(i), y: H - M.bottom + 16, class: "axis-label", "text-anchor": "middle" },
        fmtDay(`${day}T12:00:00Z`)));
    }
  });
}

function chart(title, description, draw, legend) {
  const id = `chart-${title.replace(/\W+/g, "-").toLowerCase()}`;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-labelledby": `${id}-title ${id}-desc` },
  s("title", { id: `${id}-title` }, title), s("desc", { id: `${id}-desc` }, description));
  draw(svg);
  return h("figure", { class: "chart-box" }, h("figcaption", null, title), svg, legend || null);
}

function legendOf(keys, group) {
  return h("ul", { class: "legend" }, keys.map((k) => h("li", null,
    h("span", { class: ["swatch", `ch-${k}`], "aria-hidden": "true" }), label(group, k))));
}

/** Stacked bars: one per day, a segment per channel. */
export function volumeChart(byDay) {
  const keys = CHANNEL_ORDER.filter((c) => byDay.some((d) => d.by_channel[c]));
  for (const d of byDay) {
    for (const c of Object.keys(d.by_channel)) if (!keys.includes(c)) keys.push(c);
  }
  const max = niceMax(Math.max(0, ...byDay.map((d) => d.total)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const band = plotW / Math.max(1, byDay.length);
  const barW = Math.max(2, Math.min(40, band * 0.7));
  const x = (i) => M.left + band * i + band / 2;
  const description = byDay.map((d) => `${d.date}: ${d.total}`).join(", ");
  return chart(t("rp.volumesPerDay"), description, (svg) => {
    axes(svg, max, (v) => fmtNumber(v));
    byDay.forEach((d, i) => {
      let y = M.top + plotH;
      const group = s("g", { class: "bar", "data-date": d.date, "data-total": d.total });
      for (const key of keys) {
        const n = d.by_channel[key] || 0;
        if (!n) continue;
        const height = (plotH * n) / max;
        y -= height;
        group.appendChild(s("rect", { x: x(i) - barW / 2, y, width: barW, height, class: `seg ch-${key}` },
          s("title", null, `${fmtDay(`${d.date}T12:00:00Z`)} · ${label("channel", key)}: ${n}`)));
      }
      svg.appendChild(group);
    });
    xLabels(svg, byDay.map((d) => d.date), x);
  }, legendOf(keys, "channel"));
}

/** Bars of one total per key (channels or case types). */
export function totalsChart(title, totals, group) {
  const entries = Object.entries(totals);
  const max = niceMax(Math.max(0, ...entries.map(([, n]) => n)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const band = plotW / Math.max(1, entries.length);
  const barW = Math.min(60, band * 0.6);
  return chart(title, entries.map(([k, n]) => `${label(group, k)}: ${n}`).join(", "), (svg) => {
    axes(svg, max, (v) => fmtNumber(v));
    entries.forEach(([key, n], i) => {
      const height = (plotH * n) / max;
      const cx = M.left + band * i + band / 2;
      svg.appendChild(s("rect", { x: cx - barW / 2, y: M.top + plotH - height, width: barW, height,
        class: `seg ch-${group === "channel" ? key : "other"}`, "data-key": key },
      s("title", null, `${label(group, key)}: ${n}`)));
      svg.appendChild(s("text", { x: cx, y: H - M.bottom + 16, class: "axis-label", "text-anchor": "middle" },
        label(group, key)));
    });
  });
}

/** Lines of percentages per day; null is a gap. */
export function serviceLevelChart(points, series) {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const step = points.length > 1 ? plotW / (points.length - 1) : 0;
  const x = (i) => (points.length > 1 ? M.left + step * i : M.left + plotW / 2);
  const y = (v) => M.top + plotH - (plotH * v) / 100;
  const description = series.map((sr) => `${sr.label}: ${points.map((p) => `${p.date} ${percent(p[sr.key])}`).join(", ")}`).join("; ");
  return chart(t("rp.serviceLevelPerDay"), description, (svg) => {
    axes(svg, 100, (v) => `${v}%`);
    for (const sr of series) {
      let run = [];
      const flush = () => {
        if (run.length > 1) svg.appendChild(s("polyline", { points: run.join(" "), class: `line ${sr.className}` }));
        run = [];
      };
      points.forEach((p, i) => {
        const v = p[sr.key];
        if (v === null || v === undefined) {
          flush();
          return;
        }
        run.push(`${x(i)},${y(v)}`);
        svg.appendChild(s("circle", { cx: x(i), cy: y(v), r: 3.5, class: `dot ${sr.className}`, "data-date": p.date },
          s("title", null, `${fmtDay(`${p.date}T12:00:00Z`)} · ${sr.label}: ${percent(v)}`)));
      });
      flush();
    }
    xLabels(svg, points.map((p) => p.date), x);
  }, h("ul", { class: "legend" }, series.map((sr) => h("li", null,
    h("span", { class: ["swatch", sr.className], "aria-hidden": "true" }), sr.label))));
}

function tile(name, value, note) {
  return h("div", { class: "tile", dataset: { tile: name } },
    h("span", { class: "tile-label" }, t(`rp.${name}`)),
    h("span", { class: "tile-value" }, value),
    h("span", { class: "tile-note" }, note || ""));
}

function days(from, to) {
  const found = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    found.push(d.toISOString().slice(0, 10));
  }
  return found;
}

async function inBatches(items, work) {
  const results = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(runners);
  return results;
}

export function mountReports(panel) {
  const status = statusLine();
  const from = h("input", { type: "date", class: "from", "data-path": "from" });
  const to = h("input", { type: "date", class: "to", "data-path": "to" });
  const within = h("input", { type: "number", min: "1", max: "3600", value: "20", class: "within" });
  const sep = h("select", { class: "sep" },
    h("option", { value: "semicolon", selected: LANG === "nl" }, t("rp.sepSemicolon")),
    h("option", { value: "comma", selected: LANG !== "nl" }, t("rp.sepComma")));
  const download = h("a", { class: "button download", download: "" }, t("rp.download"));
  const tiles = h("div", { class: "tiles" });
  const charts = h("div", { class: "charts" });
  const lineHolder = h("div", { class: "line-holder" });
  const tables = h("div", { class: "report-tables" });
  const unavailable = h("p", { class: "alert", hidden: true }, t("rp.unavailable"));

  function updateDownload() {
    const query = new URLSearchParams({ sep: sep.value });
    if (from.value) query.set("from", from.value);
    if (to.value) query.set("to", to.value);
    download.setAttribute("href", `/api/reports/contacts.csv?${query}`);
  }

  function query(first, last) {
    const q = new URLSearchParams({ answer_within_s: within.value || "20" });
    if (first) q.set("from", first);
    if (last) q.set("to", last);
    return q;
  }

  function renderTables(report) {
    const queueRows = report.queues.map((q) => h("tr", { dataset: { queue: q.id || "" } },
      h("th", { scope: "row" }, q.name || q.id || t("rp.noQueue")),
      h("td", null, String(q.routed)), h("td", null, String(q.accepted)),
      h("td", null, seconds(q.average_answer_s)), h("td", null, seconds(q.average_handle_s)),
      h("td", null, percent(q.first_response.percent)),
      h("td", null, percent(q.calls.service_level_percent)),
      h("td", null, String(q.calls.abandoned)),
      h("td", null, percent(q.first_contact_resolution.percent))));
    const agentRows = report.agents.map((a) => h("tr", { dataset: { agent: a.id } },
      h("th", { scope: "row" }, a.name || a.id),
      h("td", null, String(a.accepted)), h("td", null, seconds(a.average_answer_s)),
      h("td", null, String(a.handled)), h("td", null, seconds(a.average_handle_s))));
    const empty = (n) => h("tr", { class: "empty" }, h("td", { colspan: String(n) }, t("rp.nothing")));
    replace(tables,
      h("table", { class: "grid" }, h("caption", null, t("rp.perQueue")),
        h("thead", null, h("tr", null, [t("rp.queue"), t("rp.routed"), t("rp.accepted"), t("rp.speedOfAnswer"),
          t("rp.handleTime"), t("rp.firstResponse"), t("rp.callsServiceLevel"), t("rp.abandoned"), t("rp.fcr")]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, queueRows.length ? queueRows : empty(9))),
      h("table", { class: "grid" }, h("caption", null, t("rp.perAgent")),
        h("thead", null, h("tr", null, [t("rp.agent"), t("rp.accepted"), t("rp.speedOfAnswer"), t("rp.handled"),
          t("rp.handleTime")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, agentRows.length ? agentRows : empty(5))));
  }

  function render(report) {
    const sl = report.service_level;
    const sat = report.satisfaction;
    replace(tiles,
      tile("contacts", fmtNumber(report.volumes.total)),
      tile("callsServiceLevel", percent(sl.calls.percent),
        t("rp.withinNote", { n: sl.calls.answered_within_target, total: sl.calls.offered, s: sl.calls.target_s })),
      tile("firstResponse", percent(sl.first_response.email_and_webform.percent),
        t("rp.metNote", { met: sl.first_response.email_and_webform.met,
          total: sl.first_response.email_and_webform.met + sl.first_response.email_and_webform.missed })),
      tile("speedOfAnswer", seconds(report.speed_of_answer.total.average_s)),
      tile("handleTime", seconds(report.handle_time.total.average_s),
        t("rp.handleNote", { talk: seconds(report.handle_time.total.talk_average_s),
          acw: seconds(report.handle_time.total.after_contact_work_average_s) })),
      tile("abandonment", percent(report.abandonment.calls.percent),
        t("rp.chatsAbandoned", { p: percent(report.abandonment.chats.percent) })),
      tile("fcr", percent(report.first_contact_resolution.percent),
        t("rp.fcrNote", { n: report.first_contact_resolution.first_contact, total: report.first_contact_resolution.wrapped_up })),
      tile("csat", sat && sat.csat && sat.csat.average !== null && sat.csat.average !== undefined
        ? fmtNumber(sat.csat.average, 1) : "—",
      sat && sat.nps ? t("rp.npsNote", { nps: sat.nps.score ?? "—", n: sat.nps.count ?? 0 }) : t("rp.noSurveys")));
    const byChannel = {};
    for (const [c, v] of Object.entries(report.volumes.by_channel)) byChannel[c] = v.total;
    replace(charts,
      volumeChart(report.volumes.by_day),
      lineHolder,
      totalsChart(t("rp.volumesPerChannel"), byChannel, "channel"),
      totalsChart(t("rp.volumesPerCaseType"), report.volumes.by_case_type, "caseType"));
    renderTables(report);
  }

  async function drawLine(period) {
    const all = days(period.from, period.to);
    if (all.length > MAX_LINE_DAYS) {
      replace(lineHolder, h("p", { class: "muted" }, t("rp.lineTooLong", { n: MAX_LINE_DAYS })));
      return;
    }
    replace(lineHolder, h("p", { class: "muted" }, t("loading")));
    const perDay = await inBatches(all, (day) => api("GET", `/api/reports/summary?${query(day, day)}`));
    const points = perDay.map((r, i) => ({
      date: all[i],
      written: r.service_level.first_response.email_and_webform.percent,
      calls: r.service_level.calls.percent,
    }));
    replace(lineHolder, serviceLevelChart(points, [
      { key: "written", label: t("rp.firstResponse"), className: "sl-written" },
      { key: "calls", label: t("rp.callsServiceLevel"), className: "sl-calls" },
    ]));
  }

  async function load() {
    status.say(t("loading"), "info");
    try {
      const report = await api("GET", `/api/reports/summary?${query(from.value, to.value)}`);
      from.value = report.period.from;
      to.value = report.period.to;
      updateDownload();
      render(report);
      status.say(t("rp.period", { from: report.period.from, to: report.period.to, tz: report.period.timezone }), "info");
      await drawLine(report.period);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && !err.fields.from) {
        unavailable.hidden = false;
        status.say("", "info");
        return;
      }
      status.say(problem(err), "bad");
    }
  }

  const form = h("form", { class: "row report-form", onsubmit: (e) => { e.preventDefault(); load(); } },
    field(t("rp.from"), from), field(t("rp.to"), to), field(t("rp.within"), within),
    h("button", { type: "submit", class: "primary" }, t("rp.show")),
    field(t("rp.separator"), sep), download);
  for (const input of [from, to, sep]) input.addEventListener("change", updateDownload);
  updateDownload();

  panel.append(h("div", { class: "panel-head" }, h("h2", null, t("tab.reports"))), unavailable, form, status,
    tiles, charts, tables);
  let loaded = false;
  return {
    shown() {
      if (!loaded) {
        loaded = true;
        load();
      }
    },
  };
}
