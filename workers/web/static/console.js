// The supervisor console: a tabbed single page (wallboard, routing, manage, complaints,
// reports). Plain JavaScript modules, no build step; see docs/console.md.

import { LANG, api, h, t } from "./console-core.js";
import { mountWallboard } from "./console-wallboard.js";
import { mountRouting } from "./console-routing.js";
import { mountManage } from "./console-manage.js";
import { mountComplaints } from "./console-complaints.js";
import { mountReports } from "./console-reports.js";

const TABS = [
  { id: "wallboard", mount: mountWallboard },
  { id: "routing", mount: mountRouting },
  { id: "manage", mount: mountManage },
  { id: "complaints", mount: mountComplaints },
  { id: "reports", mount: mountReports },
];
const ALIASES = { rules: "routing", board: "wallboard" };

/** What every tab shares: the workforce catalogue (teams, queues, agents, SLA policies),
 * loaded once and reloaded after a change, and a way to open another tab. */
class Context {
  constructor() {
    this.cached = null;
    this.listeners = [];
    this.open = null;
  }

  async catalogue(fresh = false) {
    if (!this.cached || fresh) {
      this.cached = Promise.all([
        api("GET", "/api/queues"), api("GET", "/api/agents"),
        api("GET", "/api/routing/config/sla-policies"),
      ]).then(([queues, agents, sla]) => ({
        teams: queues.teams, queues: queues.queues, agents: agents.items,
        slaPolicies: sla.document,
      }));
      this.cached.catch(() => { this.cached = null; });
    }
    return this.cached;
  }

  /** Something in the catalogue changed: reload it and tell the tabs. */
  async changed() {
    const fresh = await this.catalogue(true);
    for (const listener of this.listeners) listener(fresh);
  }

  onChange(listener) {
    this.listeners.push(listener);
  }
}

function header() {
  const user = document.querySelector('meta[name="user"]');
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const other = LANG === "nl" ? "en" : "nl";
  const switchLanguage = h("button", {
    type: "button", class: "link", lang: other,
    onclick: () => {
      document.cookie = `sb_lang=${other}; path=/; max-age=31536000; samesite=strict`;
      const url = new URL(window.location.href);
      url.searchParams.set("lang", other);
      window.location.assign(url.toString());
    },
  }, t("lang.other"));
  const logout = h("form", { method: "post", action: "/logout", class: "logout" },
    h("input", { type: "hidden", name: "csrf", value: csrf ? csrf.getAttribute("content") : "" }),
    h("button", { type: "submit", class: "link" }, t("logout")));
  return h("header", { class: "console-header" },
    h("h1", null, t("console.title")),
    h("div", { class: "who" },
      user ? h("span", { class: "user" }, user.getAttribute("content")) : null,
      switchLanguage, logout));
}

function start() {
  const root = document.getElementById("console");
  const context = new Context();
  const tablist = h("nav", { class: "tabs", role: "tablist", "aria-label": t("console.tabs") });
  const panels = h("div", { class: "panels" });
  const tabs = new Map();

  function show(id, focus = false) {
    if (ALIASES[id]) id = ALIASES[id];
    if (!tabs.has(id)) id = TABS[0].id;
    for (const [tabId, tab] of tabs) {
      const selected = tabId === id;
      tab.button.setAttribute("aria-selected", String(selected));
      tab.button.tabIndex = selected ? 0 : -1;
      tab.panel.hidden = !selected;
    }
    const tab = tabs.get(id);
    if (!tab.mounted) {
      tab.mounted = tab.def.mount(tab.panel, context) || {};
    }
    if (tab.mounted.shown) tab.mounted.shown();
    if (focus) tab.button.focus();
    if (window.location.hash !== `#${id}`) {
      window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}#${id}`);
    }
    return tab.mounted;
  }
  context.open = show;

  for (const def of TABS) {
    const button = h("button", {
      type: "button", role: "tab", id: `tab-${def.id}`, "aria-controls": `panel-${def.id}`,
      "aria-selected": "false", onclick: () => show(def.id),
    }, t(`tab.${def.id}`));
    const panel = h("section", {
      class: ["panel", `panel-${def.id}`], role: "tabpanel", id: `panel-${def.id}`,
      "aria-labelledby": `tab-${def.id}`, tabindex: "0", hidden: true,
    });
    tabs.set(def.id, { def, button, panel, mounted: null });
    tablist.appendChild(button);
    panels.appendChild(panel);
  }
  tablist.addEventListener("keydown", (event) => {
    const ids = TABS.map((d) => d.id);
    const current = ids.indexOf(document.activeElement && document.activeElement.id.replace("tab-", ""));
    if (current < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = (current + 1) % ids.length;
    if (event.key === "ArrowLeft") next = (current - 1 + ids.length) % ids.length;
    if (event.key === "Home") next = 0;
    if (event.key === "End") next = ids.length - 1;
    if (next !== null) {
      event.preventDefault();
      show(ids[next], true);
    }
  });

  root.appendChild(header());
  root.appendChild(tablist);
  root.appendChild(panels);
  root.removeAttribute("aria-busy");

  const asked = new URLSearchParams(window.location.search).get("tab");
  show(window.location.hash.slice(1) || asked || TABS[0].id);
  window.addEventListener("hashchange", () => show(window.location.hash.slice(1)));
}

start();
