// Manage › Scripts and Manage › Knowledge: the screen-pop's suggested scripts and knowledge
// snippets (GET/PUT /api/scripts and /api/knowledge, docs/scripts.md). Each is one
// revisioned document: saving replaces the whole list and names the revision it read.

import {
  ApiError, api, field, h, label, problem, replace, select, showFieldErrors, statusLine, t, tn,
} from "./console-core.js";

const CASE_TYPES = ["question", "complaint", "request"];
const LANGUAGES = ["nl", "en"];

function words(text) {
  return text.split(",").map((w) => w.trim()).filter(Boolean);
}

/** The section for `kind`: "scripts" or "knowledge". */
export function mountTexts(context, kind) {
  const scripts = kind === "scripts";
  const path = scripts ? "/api/scripts" : "/api/knowledge";
  const listKey = scripts ? "scripts" : "snippets";
  const section = h("section", { class: `manage-${kind}` });
  const status = statusLine();
  const list = h("ol", { class: "texts-list" });
  const help = h("ul", { class: "placeholders" });
  const form = h("form", { class: "texts-form" });
  let revision = 0;
  let queues = [];

  function card(item, index) {
    const at = `${listKey}.${index}`;
    const text = h("textarea", { rows: scripts ? "5" : "3", class: "t-text", "data-path": `${at}.text` });
    text.value = item.text || "";
    const common = [
      field(t("tx.title"), h("input", { type: "text", class: "t-title", value: item.title || "",
        maxlength: "120", "data-path": `${at}.title` })),
      field(t("tx.id"), h("input", { type: "text", class: "t-id", value: item.id || "", maxlength: "60",
        "data-path": `${at}.id`, placeholder: scripts ? "welkom-klacht" : "retour-termijn" })),
      field(t("tx.language"), select(LANGUAGES.map((l) => [l, label("lang", l)]), item.language,
        { class: "t-language", "data-path": `${at}.language` }, t("mg.any"))),
    ];
    const node = h("li", { class: "card text-item", "data-path": at },
      h("div", { class: "form-grid" }, common,
        scripts ? [
          field(t("mg.queue"), select(queues.map((q) => [q.id, q.name]), item.queue,
            { class: "t-queue", "data-path": `${at}.queue` }, t("mg.any"))),
          field(t("mg.caseType"), select(CASE_TYPES.map((c) => [c, label("caseType", c)]), item.case_type,
            { class: "t-case-type", "data-path": `${at}.case_type` }, t("mg.any"))),
        ] : [
          field(t("tx.url"), h("input", { type: "url", class: "t-url", value: item.url || "",
            "data-path": `${at}.url`, placeholder: "https://…" })),
          field(t("tx.keywords"), h("input", { type: "text", class: "t-keywords",
            value: (item.keywords || []).join(", "), "data-path": `${at}.keywords` })),
          field(t("tx.tags"), h("input", { type: "text", class: "t-tags",
            value: (item.tags || []).join(", "), "data-path": `${at}.tags` })),
        ]),
      scripts ? null : h("div", { class: "form-grid" },
        h("fieldset", { class: "checks t-case-types", "data-path": `${at}.case_types` },
          h("legend", null, t("tx.caseTypes")),
          CASE_TYPES.map((c) => h("label", { class: "check" }, h("input", { type: "checkbox", value: c,
            checked: (item.case_types || []).includes(c) }), label("caseType", c)))),
        h("fieldset", { class: "checks t-queues", "data-path": `${at}.queues` },
          h("legend", null, t("mg.queues")),
          queues.map((q) => h("label", { class: "check" }, h("input", { type: "checkbox", value: q.id,
            checked: (item.queues || []).includes(q.id) }), q.name)))),
      h("div", { class: "wide" }, field(t("tx.text"), text)),
      h("button", { type: "button", class: "link", onclick: () => { node.remove(); } }, t("mg.remove")));
    return node;
  }

  function collect() {
    return [...list.querySelectorAll("li.text-item")].map((node) => {
      const value = (cls) => node.querySelector(cls).value.trim();
      const item = { id: value(".t-id"), title: value(".t-title"),
        text: node.querySelector(".t-text").value, language: value(".t-language") || null };
      if (scripts) {
        item.queue = value(".t-queue") || null;
        item.case_type = value(".t-case-type") || null;
      } else {
        item.url = value(".t-url") || null;
        item.keywords = words(value(".t-keywords"));
        item.tags = words(value(".t-tags"));
        item.case_types = [...node.querySelectorAll(".t-case-types input:checked")].map((i) => i.value);
        item.queues = [...node.querySelectorAll(".t-queues input:checked")].map((i) => i.value);
      }
      return item;
    });
  }

  async function load(catalogue) {
    queues = catalogue.queues;
    const stored = await api("GET", path);
    revision = stored.revision;
    replace(help, Object.entries(stored.placeholders || {}).map(([name, meaning]) =>
      h("li", null, h("code", null, `{${name}}`), ` — ${meaning}`)));
    replace(list, stored[listKey].map(card));
    replace(form,
      h("p", { class: "hint" }, t(scripts ? "tx.scriptsHint" : "tx.knowledgeHint")),
      h("details", null, h("summary", null, t("tx.placeholders")), help),
      list,
      h("button", { type: "button", class: "link add", onclick: () => {
        const node = card({}, list.children.length);
        list.appendChild(node);
        node.querySelector(".t-title").focus();
      } }, t(scripts ? "tx.addScript" : "tx.addSnippet")),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("mg.save")),
        h("button", { type: "button", class: "link", onclick: () => load(catalogue)
          .then(() => status.say(t("mg.reloaded"), "info")) }, t("mg.reload"))),
      status);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    // Paths follow the order on screen: renumber after removals.
    [...list.querySelectorAll("li.text-item")].forEach((node, i) => {
      for (const target of [node, ...node.querySelectorAll("[data-path]")]) {
        target.dataset.path = target.dataset.path.replace(/^(scripts|snippets)\.\d+/, `${listKey}.${i}`);
      }
    });
    showFieldErrors(form, {});
    try {
      const saved = await api("PUT", path, { [listKey]: collect(), revision });
      revision = saved.revision;
      status.say(t("mg.savedConfig", { n: saved.revision }), "good");
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        status.say(t("mg.staleConfig"), "bad");
      } else if (err instanceof ApiError && err.status === 422) {
        const unplaced = showFieldErrors(form, err.fields);
        status.say(tn("mg.notSaved", Object.keys(err.fields).length)
          + (unplaced.length ? ` ${unplaced.map(([k, v]) => `${k}: ${v}`).join("; ")}` : ""), "bad");
      } else {
        status.say(problem(err), "bad");
      }
    }
  });

  section.append(h("h3", null, t(scripts ? "mg.section.scripts" : "mg.section.knowledge")), form);
  return { section, load };
}
