// The supervisor console's shared helpers: the page language and its texts, building DOM
// nodes without ever parsing HTML, the API client (session cookie + CSRF header), and
// formatting of times, durations and percentages.
//
// Safety rule for every console module: text that a customer, an agent or a supervisor
// typed (names, subjects, rule names, menu texts…) is only ever set with textContent, a
// text node or an attribute setter. Nothing in the console hands markup to the HTML parser.

import { TEXT } from "./console-text.js";

export const LANG = document.documentElement.lang === "en" ? "en" : "nl";
export const LOCALE = LANG === "en" ? "en-GB" : "nl-NL";

/** The text for `key` in the page language, with {name} placeholders filled in. */
export function t(key, vars) {
  const table = TEXT[LANG];
  let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : TEXT.en[key];
  if (text === undefined) text = key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (all, name) =>
      Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : all);
  }
  return text;
}

/** `key`.one or `key`.other, by the count `n` (also available as {n}). */
export function tn(key, n, vars = {}) {
  return t(`${key}.${n === 1 ? "one" : "other"}`, { n, ...vars });
}

/** A translated label for a value from a fixed list (presence, channel…), else the value. */
export function label(group, value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = `${group}.${value}`;
  const table = TEXT[LANG];
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : String(value);
}

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "open",
  "multiple", "required", "readOnly"]);

function append(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(node, c);
  } else if (child instanceof Node) {
    node.appendChild(child);
  } else {
    node.appendChild(document.createTextNode(String(child)));
  }
}

function apply(node, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) {
      if (PROPERTIES.has(key) && value === false) node[key] = false;
      continue;
    }
    if (key === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "text") {
      node.textContent = String(value);
    } else if (key === "dataset") {
      for (const [name, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) node.dataset[name] = String(v);
      }
    } else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (PROPERTIES.has(key)) {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** An HTML element: h("td", {class: "age"}, "12 s"). Strings become text nodes. */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  apply(node, props);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element, built the same way. */
export function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function replace(node, ...children) {
  clear(node);
  append(node, children);
  return node;
}

let uid = 0;
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// --- the API --------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || null;
    this.fields = error.fields || {};
  }
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

/** Call the API as the logged-in user: JSON in, JSON out, ApiError on failure. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    // The session ended (logged out elsewhere, expired): log in again and come back.
    window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
    throw new ApiError(401, null);
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A human sentence for a failed call, for a status line. */
export function problem(err) {
  if (err instanceof ApiError) {
    if (err.status === 409) return t("error.conflict");
    if (err.status === 403) return t("error.forbidden");
    if (err.status === 404) return t("error.notFound");
    const fields = Object.entries(err.fields);
    if (fields.length) return fields.map(([k, v]) => `${k}: ${v}`).join("; ");
    return err.message;
  }
  return t("error.network");
}

// --- formatting -----------------------------------------------------------------------

const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(LOCALE, { timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short" });

export function fmtDateTime(iso) {
  if (!iso) return "—";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? String(iso) : dateTime.format(at);
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? String(iso) : timeOnly.format(at);
}

export function fmtDay(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? String(iso) : dayFormat.format(at);
}

/** 45 s, 12 m 05 s, 3 u 07 m, 2 d 4 u */
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const total = Math.max(0, Math.floor(seconds));
  const d = Math.floor(total / 86400);
  const hrs = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  const u = t("unit.h");
  if (d > 0) return `${d} d ${hrs} ${u}`;
  if (hrs > 0) return `${hrs} ${u} ${pad(m)} m`;
  if (m > 0) return `${m} m ${pad(sec)} s`;
  return `${sec} s`;
}

export function fmtPercent(ratio) {
  if (ratio === null || ratio === undefined) return "—";
  return `${Math.round(ratio * 1000) / 10}%`.replace(".", LANG === "nl" ? "," : ".");
}

export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits }).format(n);
}

/** A status line (role=status) that says what just happened. */
export function statusLine() {
  const node = h("p", { class: "status-line", role: "status", "aria-live": "polite" });
  node.say = (text, kind = "info") => {
    node.textContent = text;
    node.dataset.kind = kind;
  };
  return node;
}

/** A labelled control with an optional hint. The label points at the control (for=id)
 * instead of wrapping it, so the control's own value is not part of its name. */
export function field(text, control, hint) {
  if (!control.id) control.id = newId("f");
  let hintNode = null;
  if (hint) {
    hintNode = h("small", { class: "hint", id: `${control.id}-hint` }, hint);
    control.setAttribute("aria-describedby", hintNode.id);
  }
  return h("div", { class: "field" },
    h("label", { class: "field-label", for: control.id }, text), control, hintNode);
}

/** A <select> with options [[value, text], …]; "" is the empty choice when `empty` is set. */
export function select(options, value, props = {}, empty = null) {
  const node = h("select", props);
  if (empty !== null) node.appendChild(h("option", { value: "" }, empty));
  for (const [v, text] of options) {
    node.appendChild(h("option", { value: String(v), selected: String(v) === String(value ?? "") }, text));
  }
  node.value = value === null || value === undefined ? "" : String(value);
  return node;
}

/** Clear, then show the API's 422 reasons next to the controls whose data-path they name;
 * whatever names no control is returned to be shown in a summary. */
export function showFieldErrors(root, fields) {
  for (const old of root.querySelectorAll(".field-error")) old.remove();
  for (const bad of root.querySelectorAll("[aria-invalid]")) {
    bad.removeAttribute("aria-invalid");
    bad.removeAttribute("aria-errormessage");
  }
  const unplaced = [];
  const targets = new Map();
  for (const node of root.querySelectorAll("[data-path]")) targets.set(node.dataset.path, node);
  for (const [path, message] of Object.entries(fields || {})) {
    let key = path;
    let target = targets.get(key);
    while (!target && key) {
      // rules[0].actions.skills.x → rules[0].actions.skills → rules[0].actions → rules[0]
      const cut = Math.max(key.lastIndexOf("."), key.lastIndexOf("["));
      key = cut > 0 ? key.slice(0, cut) : "";
      target = key ? targets.get(key) : undefined;
    }
    if (!target) {
      unplaced.push([path, message]);
      continue;
    }
    const id = newId("err");
    const note = h("p", { class: "field-error", id, dataset: { for: path } }, message);
    if (target.matches("input, select, textarea")) {
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-errormessage", id);
      const holder = target.closest(".field, label") || target;
      holder.after(note);
    } else {
      target.appendChild(note);
    }
  }
  return unplaced;
}
