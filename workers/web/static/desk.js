/* Switchboard agent desktop (GET /desk). A plain ES module, no build step.
 *
 * Talks to the agent WebSocket /agent/ws (docs/agent-protocol.md): presence, offers with
 * their screen-pop, accept/decline, wrap-up, transfer, live chat; and to the API with the
 * session cookie and the page's CSRF token (docs/api.md).
 *
 * Safety rule of this file: everything that comes from the server is set with textContent
 * or an attribute setter (h() below). Nothing is ever parsed as HTML; links are built from
 * our own ids, and a URL from data is used only when it is http(s). HTML mail is shown only
 * in a sandboxed frame served by /api/contacts/{id}/html with its own strict CSP. */

const LANG = document.documentElement.lang === "en" ? "en" : "nl";
const LOCALE = LANG === "en" ? "en-GB" : "nl-NL";

const TEXT = {
  nl: {
    desk: "Werkplek", status: "Status", logout: "Uitloggen",
    presence: { available: "Beschikbaar", away: "Afwezig", busy: "Bezet",
      after_contact_work: "Nawerk", offline: "Offline" },
    connecting: "Verbinden…", online: "Verbonden", offline: "Verbinding verbroken; opnieuw verbinden…",
    newOffer: "Nieuw aanbod: {0}, {1}.", unread: "nieuwe berichten",
    offers: "Aangeboden werk", myWork: "Mijn werk", workPanel: "Zaak in behandeling", noWork: "Geen werk in behandeling.",
    pickWork: "Neem een aangeboden contact aan of kies een zaak uit Mijn werk.",
    accept: "Aannemen", decline: "Weigeren", expiresIn: "nog {0}", expired: "verlopen",
    offerExpired: "Het aanbod is verlopen.", offerWithdrawn: "Het aanbod is ingetrokken.",
    channels: { email: "E-mail", phone: "Telefoon", chat: "Chat", webform: "Webformulier",
      visit: "Bezoek", letter: "Brief", social: "Social media" },
    unknownCustomer: "Onbekende klant", customer: "Klant", segment: "Segment", tier: "Niveau",
    value: "Waarde", language: "Taal", preferredChannel: "Voorkeurskanaal", kind: "Soort",
    kinds: { person: "Persoon", organisation: "Organisatie" },
    organisation: "Organisatie", household: "Huishouden",
    identifiers: "Gegevens", idKinds: { email: "e-mail", phone: "telefoon",
      chat_visitor: "chatbezoeker", crm: "klantnummer" },
    verified: "geverifieerd", doubts: { claimed: "opgegeven, niet bevestigd", invalid: "ongeldig",
      look_alike: "lijkt op een ander adres", possible_duplicate: "ook bij een andere klant" },
    warningCodes: { uncertain_identity: "Identiteit onzeker.", possible_duplicate: "Mogelijk dubbel.",
      open_complaint: "Open klacht.", sla_breached: "Termijn verstreken." },
    uncertain: "Identiteit niet zeker: {0} {1} — {2}", seeWarning: "zie Let op",
    preferences: "Voorkeuren", entitlements: "Producten en contracten",
    satisfaction: "Tevredenheid (laatste enquête)", csatScore: "tevreden {0}/5", npsScore: "aanbevelen {0}/10",
    surveysOptedOut: "Wil geen enquêtes meer.",
    openCases: "Open zaken", noOpenCases: "Geen andere open zaken.",
    lastContacts: "Laatste contact per kanaal", noContacts: "Nog geen eerder contact.",
    classification: "Classificatie", confidence: "zekerheid {0}", negative: "negatieve toon",
    keywords: "trefwoorden: {0}", thisContact: "Dit contact", script: "Voorgestelde tekst",
    knowledge: "Kennisbank", warnings: "Let op",
    sla: { first_response: "eerste reactie", resolution: "oplossing" },
    left: "nog {0}", overdue: "{0} te laat", paused: "gepauzeerd",
    types: { question: "Vraag", complaint: "Klacht", request: "Verzoek" },
    statuses: { new: "Nieuw", open: "Open", pending: "Wacht op klant", resolved: "Opgelost",
      closed: "Gesloten" },
    priorities: { low: "Laag", normal: "Normaal", high: "Hoog", urgent: "Spoed" },
    type: "Soort zaak", caseStatus: "Status", priority: "Prioriteit", tags: "Labels",
    tagsHint: "gescheiden door komma's", save: "Opslaan", saved: "Opgeslagen.",
    cancel: "Annuleren", history: "Geschiedenis", noHistory: "Geen contacten.",
    notes: "Interne notities", noNotes: "Nog geen notities.", newNote: "Nieuwe notitie",
    addNote: "Notitie toevoegen", deleteNote: "Notitie verwijderen",
    deleteNoteHint: "Verwijderen kan tot {0}; daarna hoort de notitie bij het dossier.",
    popNotes: "Notities van collega's",
    reply: "Antwoord per e-mail", replyLabel: "Uw antwoord", send: "Versturen",
    replyQueued: "Antwoord aan {0} staat klaar voor verzending.",
    noEmail: "Deze zaak heeft geen e-mail van de klant om op te antwoorden.",
    htmlView: "Opgemaakte e-mail (veilig weergegeven)", attachments: "Bijlagen",
    chat: "Chatgesprek", chatLabel: "Uw bericht", visitorTyping: "Klant typt…",
    endChat: "Chat beëindigen", transcript: "Gesprek mailen naar de klant",
    chatEnded: "Het gesprek is beëindigd.", you: "U", visitor: "Klant",
    joined: "{0} neemt deel aan het gesprek.", agentLeft: "De medewerker heeft het gesprek verlaten.",
    ended: "Het gesprek is beëindigd ({0}).",
    call: "Telefoongesprek", caller: "Beller", menuPath: "Gekozen in het keuzemenu",
    waitTime: "Wachttijd", callState: "Status gesprek", talkTime: "Gespreksduur",
    callStatuses: { queued: "in de wacht", initiated: "gestart", ringing: "gaat over",
      "in-progress": "in gesprek", completed: "beëindigd", busy: "bezet", failed: "mislukt",
      "no-answer": "niet opgenomen", canceled: "afgebroken" },
    callNumber: "Bel {0}", calling: "Uw telefoon gaat over; daarna wordt {0} gebeld.",
    hangUp: "Ophangen", hangingUp: "Het gesprek wordt beëindigd.",
    transfer: "Doorzetten", toQueue: "Naar wachtrij", secondLine: "Naar de tweede lijn",
    chooseQueue: "Kies een wachtrij", transferred: "{0} is doorgezet.",
    wrapUp: "Afronden", disposition: "Afhandelcode", outcome: "Uitkomst",
    outcomes: { resolved: "Opgelost", follow_up: "Wacht op klant (opvolging)",
      callback_planned: "Terugbellen gepland", open: "Blijft open" },
    chooseDisposition: "Kies een afhandelcode", callbackAt: "Terugbellen op",
    startWrapUp: "Afronden…", wrapDone: "{0} is afgerond.",
    autoWrapped: "{0} is automatisch afgerond: de nawerktijd was om.",
    callbackPlanned: "Terugbellen gepland: {0}.",
    acw: "Nawerk", acwLeft: "nawerk nog {0}", acwUp: "nawerktijd om", acwNoLimit: "Nawerk (geen tijdslimiet).",
    editCustomer: "Gegevens corrigeren", name: "Naam",
    supervisorOnly: "Segment en waarde wijzigt een supervisor.",
    customerSaved: "Klantgegevens opgeslagen (de wijziging is vastgelegd).",
    duplicates: "Mogelijke dubbele klant", mergeBySupervisor: "Samenvoegen kan alleen een supervisor; meld het als het om dezelfde klant gaat.",
    reason: "Reden", dismissed: "afgewezen",
    incomingCall: "Inkomend gesprek", dismiss: "Sluiten",
    notConnected: "Niet verbonden met de server.", failed: "Dat lukte niet: {0}",
    presenceBy: "Uw status is gewijzigd naar {0} ({1}).",
    inbound: "ontvangen", outbound: "verzonden", from: "Van", subject: "Onderwerp",
    loading: "Laden…", none: "—", open: "Openen", noSubject: "(geen onderwerp)",
  },
  en: {
    desk: "Agent desktop", status: "Status", logout: "Log out",
    presence: { available: "Available", away: "Away", busy: "Busy",
      after_contact_work: "After-contact work", offline: "Offline" },
    connecting: "Connecting…", online: "Connected", offline: "Connection lost; reconnecting…",
    newOffer: "New offer: {0}, {1}.", unread: "new messages",
    offers: "Offered work", myWork: "My work", workPanel: "Case in hand", noWork: "No work in hand.",
    pickWork: "Accept an offered contact or pick a case from My work.",
    accept: "Accept", decline: "Decline", expiresIn: "{0} left", expired: "expired",
    offerExpired: "The offer expired.", offerWithdrawn: "The offer was withdrawn.",
    channels: { email: "E-mail", phone: "Phone", chat: "Chat", webform: "Web form",
      visit: "Visit", letter: "Letter", social: "Social media" },
    unknownCustomer: "Unknown customer", customer: "Customer", segment: "Segment", tier: "Tier",
    value: "Value", language: "Language", preferredChannel: "Preferred channel", kind: "Kind",
    kinds: { person: "Person", organisation: "Organisation" },
    organisation: "Organisation", household: "Household",
    identifiers: "Details", idKinds: { email: "e-mail", phone: "phone",
      chat_visitor: "chat visitor", crm: "customer number" },
    verified: "verified", doubts: { claimed: "given, not confirmed", invalid: "invalid",
      look_alike: "looks like another address", possible_duplicate: "also on another customer" },
    warningCodes: { uncertain_identity: "Identity uncertain.", possible_duplicate: "Possible duplicate.",
      open_complaint: "Open complaint.", sla_breached: "Deadline passed." },
    uncertain: "Identity not certain: {0} {1} — {2}", seeWarning: "see Mind",
    preferences: "Preferences", entitlements: "Products and contracts",
    satisfaction: "Satisfaction (latest survey)", csatScore: "satisfied {0}/5", npsScore: "recommend {0}/10",
    surveysOptedOut: "Wants no more surveys.",
    openCases: "Open cases", noOpenCases: "No other open cases.",
    lastContacts: "Last contact per channel", noContacts: "No earlier contact yet.",
    classification: "Classification", confidence: "confidence {0}", negative: "negative tone",
    keywords: "keywords: {0}", thisContact: "This contact", script: "Suggested script",
    knowledge: "Knowledge", warnings: "Mind",
    sla: { first_response: "first response", resolution: "resolution" },
    left: "{0} left", overdue: "{0} overdue", paused: "paused",
    types: { question: "Question", complaint: "Complaint", request: "Request" },
    statuses: { new: "New", open: "Open", pending: "Waiting on customer", resolved: "Resolved",
      closed: "Closed" },
    priorities: { low: "Low", normal: "Normal", high: "High", urgent: "Urgent" },
    type: "Case type", caseStatus: "Status", priority: "Priority", tags: "Tags",
    tagsHint: "separated by commas", save: "Save", saved: "Saved.",
    cancel: "Cancel", history: "History", noHistory: "No contacts.",
    notes: "Internal notes", noNotes: "No notes yet.", newNote: "New note",
    addNote: "Add note", deleteNote: "Delete note",
    deleteNoteHint: "You can delete it until {0}; after that the note is part of the record.",
    popNotes: "Colleagues' notes",
    reply: "Reply by e-mail", replyLabel: "Your reply", send: "Send",
    replyQueued: "Reply to {0} queued for sending.",
    noEmail: "This case has no e-mail from the customer to reply to.",
    htmlView: "Formatted e-mail (shown safely)", attachments: "Attachments",
    chat: "Chat", chatLabel: "Your message", visitorTyping: "Customer is typing…",
    endChat: "End chat", transcript: "E-mail the conversation to the customer",
    chatEnded: "The chat has ended.", you: "You", visitor: "Customer",
    joined: "{0} joined the chat.", agentLeft: "The agent left the chat.",
    ended: "The chat has ended ({0}).",
    call: "Phone call", caller: "Caller", menuPath: "Chosen in the phone menu",
    waitTime: "Wait time", callState: "Call status", talkTime: "Talk time",
    callStatuses: { queued: "queued", initiated: "started", ringing: "ringing",
      "in-progress": "in progress", completed: "ended", busy: "busy", failed: "failed",
      "no-answer": "not answered", canceled: "cancelled" },
    callNumber: "Call {0}", calling: "Your phone rings; then {0} is called.",
    hangUp: "Hang up", hangingUp: "The call is being ended.",
    transfer: "Transfer", toQueue: "To queue", secondLine: "To second line",
    chooseQueue: "Choose a queue", transferred: "{0} was transferred.",
    wrapUp: "Wrap up", disposition: "Disposition", outcome: "Outcome",
    outcomes: { resolved: "Resolved", follow_up: "Waiting on customer (follow-up)",
      callback_planned: "Callback planned", open: "Stays open" },
    chooseDisposition: "Choose a disposition", callbackAt: "Call back at",
    startWrapUp: "Wrap up…", wrapDone: "{0} is wrapped up.",
    autoWrapped: "{0} was wrapped up automatically: the after-contact work time ran out.",
    callbackPlanned: "Callback planned: {0}.",
    acw: "After-contact work", acwLeft: "after-contact work, {0} left", acwUp: "after-contact work time is up",
    acwNoLimit: "After-contact work (no time limit).",
    editCustomer: "Correct details", name: "Name",
    supervisorOnly: "A supervisor changes segment and value.",
    customerSaved: "Customer details saved (the change is recorded).",
    duplicates: "Possible duplicate customer", mergeBySupervisor: "Only a supervisor can merge; report it if it is the same customer.",
    reason: "Reason", dismissed: "dismissed",
    incomingCall: "Incoming call", dismiss: "Close",
    notConnected: "Not connected to the server.", failed: "That did not work: {0}",
    presenceBy: "Your status was changed to {0} ({1}).",
    inbound: "received", outbound: "sent", from: "From", subject: "Subject",
    loading: "Loading…", none: "—", open: "Open", noSubject: "(no subject)",
  },
};
const T = TEXT[LANG];
const PRESENCES = ["available", "away", "busy", "after_contact_work", "offline"];
const LANGUAGES = { nl: "Nederlands", en: "English", de: "Deutsch", fr: "Français" };

/* ---------------------------------------------------------------- small helpers */

function fmt(template, ...args) {
  return template.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

function label(table, key) {
  return (key != null && Object.hasOwn(table, key)) ? table[key] : String(key ?? T.none);
}

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "selected", "open"]);

/* The one way this file makes elements: text children become text nodes, attributes are
 * set with setAttribute (so nothing is parsed as HTML). */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? "" : String(value);
}

function safeUrl(value) {
  try {
    const url = new URL(String(value), location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function enc(id) { return encodeURIComponent(String(id)); }

let controls = 0;

/* A form control with its own label (a sibling, so the label is the control's whole name). */
function control(caption, input, { cls = "", after = null } = {}) {
  if (!input.id) input.id = `c${++controls}`;
  return h("div", { class: `control ${cls}`.trim() }, h("label", { for: input.id }, caption), input, after);
}

const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" });
const number = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const clockTime = new Intl.DateTimeFormat(LOCALE, { timeStyle: "short" });

function when(iso) {
  const at = iso ? new Date(iso) : null;
  return at && !Number.isNaN(at.getTime()) ? dateTime.format(at) : T.none;
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} ${LANG === "nl" ? "u" : "h"} ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} ${LANG === "nl" ? "u" : "h"}`;
}

/* Live clocks: every element with data-clock ("offer" or "due": a deadline; "since": a
 * start) and data-at is rewritten every second, on the server's time. */
function clock(kind, iso, extra = {}) {
  const node = h("time", { class: `clock clock-${kind}`, datetime: iso, ...extra });
  node.dataset.clock = kind;
  node.dataset.at = iso;
  tickOne(node, serverNow());
  return node;
}

/* The server's clock is the truth: offers carry the moment they were sent. */
function serverNow() { return Date.now() - state.skewMs; }

function tickOne(node, now) {
  const at = Date.parse(node.dataset.at);
  if (Number.isNaN(at)) return;
  const kind = node.dataset.clock;
  if (kind === "since") {
    node.textContent = duration(now - at);
    return;
  }
  const left = at - now;
  if (kind === "acw") {  // after-contact work: wrapped up automatically at the deadline
    node.textContent = left > 0 ? fmt(T.acwLeft, duration(left)) : T.acwUp;
    node.classList.toggle("urgent", left < 30_000);
    return;
  }
  if (kind === "offer") {
    node.textContent = left > 0 ? fmt(T.expiresIn, duration(left)) : T.expired;
    node.classList.toggle("urgent", left < 10_000);
    node.closest(".pop")?.classList.toggle("lapsed", left <= 0);
    return;
  }
  node.textContent = left >= 0 ? fmt(T.left, duration(left)) : fmt(T.overdue, duration(-left));
  node.classList.toggle("late", left < 0);
  node.classList.toggle("soon", left >= 0 && left < 3_600_000);
}

setInterval(() => {
  const now = serverNow();
  for (const node of document.querySelectorAll("[data-clock]")) tickOne(node, now);
}, 1000);

/* ---------------------------------------------------------------- the API */

const CSRF = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    location.assign(`/login?next=${enc(location.pathname)}`);
    throw new ApiError("logged out", 401);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    const fields = Object.entries(error.fields ?? {}).map(([k, v]) => `${k}: ${v}`);
    throw new ApiError([text(error.message) || response.statusText, ...fields].join("; "),
      response.status);
  }
  return data;
}

/* ---------------------------------------------------------------- page skeleton */

const root = document.getElementById("desk");
const state = {
  agent: null, presence: "offline", socket: null, retry: 0, skewMs: 0,
  offers: new Map(),       // offer_id -> element
  work: new Map(),         // case_id -> case (held work)
  names: new Map(),        // customer_id -> display name, learnt from pops and panels
  unread: new Set(),       // case ids with chat messages not seen yet
  open: null,              // the case in the work panel: {id, chat, ...}
  queues: null,
};

const els = {};

function skeleton() {
  els.name = h("span", { class: "agent-name" });
  els.presence = h("select", { id: "presence", onchange: () => setPresence(els.presence.value) },
    PRESENCES.map((p) => h("option", { value: p }, T.presence[p])));
  els.connection = h("span", { class: "connection", role: "status" }, T.connecting);
  const logout = h("form", { method: "post", action: "/logout", class: "logout" },
    h("input", { type: "hidden", name: "csrf", value: CSRF }),
    h("button", { type: "submit", class: "quiet" }, T.logout));
  const bar = h("header", { class: "desk-bar" },
    h("h1", {}, "Switchboard ", h("span", { class: "muted" }, T.desk)),
    els.name,
    control(T.status, els.presence, { cls: "presence" }),
    els.connection, logout);
  els.offers = h("section", { class: "offers", "aria-label": T.offers });
  els.workList = h("ul", { class: "work-list" });
  const work = h("nav", { class: "work", "aria-labelledby": "my-work" },
    h("h2", { id: "my-work" }, T.myWork), els.workList);
  els.panel = h("section", { class: "panel", "aria-label": T.workPanel, tabindex: "-1" },
    h("p", { class: "muted" }, T.pickWork));
  els.notices = h("div", { class: "notices info", role: "status", "aria-live": "polite" });
  els.alerts = h("div", { class: "notices alerts", role: "alert" });
  els.announce = h("p", { class: "sr-only", "aria-live": "assertive" });
  root.replaceChildren(bar, els.notices, els.alerts, els.announce,
    h("div", { class: "desk-main" }, work, h("div", { class: "desk-focus" }, els.offers, els.panel)));
  root.removeAttribute("aria-busy");
  renderWork();
}

function notice(message, { error = false, actions = [] } = {}) {
  const item = h("p", { class: error ? "notice alert" : "notice" }, message, " ", actions,
    h("button", { type: "button", class: "quiet dismiss", "aria-label": T.dismiss,
      onclick: () => item.remove() }, "×"));
  (error ? els.alerts : els.notices).append(item);
  if (!error && actions.length === 0) setTimeout(() => item.remove(), 8000);
  return item;
}

function failed(err) {
  notice(fmt(T.failed, err?.message ?? String(err)), { error: true });
}

/* ---------------------------------------------------------------- the socket */

function connect() {
  const url = new URL("/agent/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.retry = 0;
    els.connection.textContent = T.online;
    els.connection.classList.remove("down");
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message && typeof message.type === "string") receive(message);
  });
  socket.addEventListener("close", (event) => {
    state.socket = null;
    if (event.code === 4401) {  // this session logged out (maybe in another tab)
      location.assign("/login?bye=1");
      return;
    }
    els.connection.textContent = T.offline;
    els.connection.classList.add("down");
    // Pending offers are sent again on reconnect; drop the stale pops.
    for (const id of [...state.offers.keys()]) removeOffer(id);
    state.retry += 1;
    if (state.retry >= 3) checkLogin();
    setTimeout(connect, Math.min(30_000, 500 * 2 ** Math.min(state.retry, 6)));
  });
}

async function checkLogin() {
  try { await api("GET", "/api/cases?held_by=me&limit=1"); } catch { /* api() redirects on 401 */ }
}

function send(message) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) {
    notice(T.notConnected, { error: true });
    return false;
  }
  state.socket.send(JSON.stringify(message));
  return true;
}

const HANDLERS = {
  hello(m) {
    state.agent = m.agent ?? {};
    els.name.textContent = text(state.agent.name);
    showPresence(state.agent.presence);
    loadWork();
    if (state.open?.chat) loadChat(state.open.chat);  // catch up on what a drop missed
  },
  presence(m) {
    showPresence(m.status);
    // After-contact work starting and ending is shown by the wrap-up panel itself.
    if (m.reason && !["agent", "after-contact work", "wrapped up"].includes(m.reason)) {
      notice(fmt(T.presenceBy, label(T.presence, m.status), text(m.reason)));
    }
  },
  offer(m) {
    const sent = Date.parse(m.sent_at);
    if (!Number.isNaN(sent)) state.skewMs = Date.now() - sent;
    addOffer(m);
  },
  offer_withdrawn(m) {
    if (removeOffer(m.offer_id)) notice(m.reason === "expired" ? T.offerExpired : T.offerWithdrawn);
  },
  accepted(m) {
    removeOffer(m.offer_id);
    loadWork().then(() => openCase(m.case_id));
  },
  declined: (m) => removeOffer(m.offer_id),
  after_contact_work: (m) => afterContactWork(m),
  wrapped_up(m) {
    const reference = state.work.get(m.case_id)?.reference ?? "";
    dropWork(m.case_id);
    notice(fmt(m.automatic ? T.autoWrapped : T.wrapDone, reference));
    if (m.callback_at) notice(fmt(T.callbackPlanned, when(m.callback_at)));
  },
  transferred(m) {
    const reference = state.work.get(m.case_id)?.reference ?? "";
    dropWork(m.case_id);
    notice(fmt(T.transferred, reference));
  },
  chat_message: (m) => chatFrame(m),
  chat_typing: (m) => chatTyping(m),
  screen_pop: (m) => addCallPop(m),
  error(m) {
    if (m.ref === "chat_typing") return;  // a hint, not worth an alert
    failed({ message: text(m.message) });
    if (m.ref === "accept" || m.ref === "decline") {
      for (const pop of state.offers.values()) pop.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  },
};

function receive(message) {
  const handler = Object.hasOwn(HANDLERS, message.type) ? HANDLERS[message.type] : null;
  if (handler) handler(message);
}

function showPresence(status) {
  state.presence = status;
  els.presence.value = status;
  root.dataset.presence = status;
}

function setPresence(status) {
  if (!send({ type: "presence", status })) els.presence.value = state.presence;
}

/* ---------------------------------------------------------------- screen-pop */

function field(name, value) {
  if (value === null || value === undefined || value === "") return null;
  return h("div", { class: "field" }, h("dt", {}, name), h("dd", {}, value));
}

function badge(content, kind = "") {
  return h("span", { class: `badge ${kind}`.trim() }, content);
}

function channelBadge(channel) {
  return badge(label(T.channels, channel), `channel channel-${text(channel)}`);
}

/* The identity block shared by the pop and the work panel. */
function customerCard(customer, options = {}) {
  const c = customer ?? {};
  const { tier = null } = options;
  const name = text(c.display_name) || T.unknownCustomer;
  // The screen-pop brings its own identifier checks and warnings; elsewhere they are
  // worked out from the record and its duplicates.
  const identifiers = Array.isArray(options.identifiers) ? options.identifiers
    : Array.isArray(c.identifiers) ? c.identifiers : [];
  // Each doubt is told once, as a warning; an identifier's row only points at it. The
  // screen-pop's warnings come from the server; elsewhere they are worked out here, and a
  // possible duplicate is left to the duplicates section below the card.
  const problems = [];
  const told = { byId: new Map(), duplicate: null };
  const warn = (content, code = null) => {
    const id = `warn${++controls}`;
    problems.push(h("li", { id, "data-code": code }, content));
    return id;
  };
  if (Array.isArray(options.warnings)) {
    for (const w of options.warnings) {
      if (!w || typeof w !== "object") continue;
      const id = warn([Object.hasOwn(T.warningCodes, w.code) ? h("strong", {}, T.warningCodes[w.code], " ") : null,
        text(w.message ?? w.code)], text(w.code));
      if (w.code === "uncertain_identity" && w.identifier_id) told.byId.set(w.identifier_id, id);
      if (w.code === "possible_duplicate") told.duplicate ??= id;
    }
  } else {
    for (const i of identifiers) {
      const doubts = ownDoubts(i);
      if (doubts.length) {
        told.byId.set(i?.id, warn(fmt(T.uncertain, label(T.idKinds, i?.kind), text(i?.value),
          doubts.map((d) => label(T.doubts, d)).join(", ")), "uncertain_identity"));
      }
    }
  }
  const segment = text(options.segment ?? c.segment);
  const value = options.value ?? c.value;
  const language = options.preferences?.language ?? c.language;
  const channel = options.preferences?.channel ?? c.preferred_channel;
  const preferences = [
    field(T.language, language ? label(LANGUAGES, language) : null),
    field(T.preferredChannel, channel ? label(T.channels, channel) : null),
  ].filter(Boolean);
  const entitlements = Array.isArray(c.entitlements) ? c.entitlements : [];
  return h("section", { class: "customer-card" },
    h("h3", { class: "customer-name" }, name,
      segment ? badge(segment, `segment segment-${segment.toLowerCase().replace(/[^a-z0-9]/g, "")}`) : null),
    h("dl", { class: "facts" },
      field(T.kind, c.kind ? label(T.kinds, c.kind) : null),
      field(T.organisation, text(c.organisation?.name)),
      field(T.household, text(c.household?.name)),
      field(T.tier, text(tier ?? c.tier)),
      field(T.value, typeof value === "number" ? number.format(value) : text(value))),
    problems.length ? h("ul", { class: "warnings", "aria-label": T.warnings }, problems) : null,
    identifiers.length ? h("ul", { class: "identifiers", "aria-label": T.identifiers },
      identifiers.map((i) => identifierItem(i, told))) : null,
    preferences.length ? h("dl", { class: "facts preferences", "aria-label": T.preferences }, preferences) : null,
    // The latest answer: from the screen-pop, or the record's survey results in the panel.
    satisfactionBlock(options.satisfaction ?? c.surveys?.items?.[0] ?? null,
      options.surveysOptedOut ?? c.surveys?.opted_out === true),
    entitlements.length ? h("div", { class: "entitlements" }, h("h4", {}, T.entitlements),
      h("ul", {}, entitlements.map((e) => h("li", {}, text(e?.name),
        e?.reference ? ` (${text(e.reference)})` : "",
        e?.valid_until ? ` — ${text(e.valid_until)}` : "")))) : null);
}

/* CSAT 1-5 and NPS 0-10 with the customer's own words (text, never markup). */
function satisfactionBlock(s, optedOut) {
  if (!s && !optedOut) return null;
  const tone = (n, low, high) => (n <= low ? "bad" : n >= high ? "good" : "");
  return h("section", { class: "satisfaction" }, h("h4", {}, T.satisfaction),
    s ? h("p", {},
      typeof s.score === "number" ? [badge(fmt(T.csatScore, s.score), tone(s.score, 2, 4)), " "] : null,
      typeof s.nps === "number" ? [badge(fmt(T.npsScore, s.nps), tone(s.nps, 6, 9)), " "] : null,
      h("span", { class: "muted" }, label(T.channels, s.channel), " · ", when(s.answered_at))) : null,
    s?.comment ? h("blockquote", { class: "survey-comment prewrap" }, text(s.comment)) : null,
    optedOut ? h("p", { class: "muted" }, T.surveysOptedOut) : null);
}

function ownDoubts(i) {
  return [i?.claimed ? "claimed" : null, i?.valid === false ? "invalid" : null].filter(Boolean);
}

/* An identifier with its doubts: those a warning tells are a mark pointing at it (not the
 * same words again); any other doubt is a badge. */
function identifierItem(i, told = { byId: new Map(), duplicate: null }) {
  const doubts = Array.isArray(i?.uncertainty) ? i.uncertainty : ownDoubts(i);
  const flags = [];
  const pointers = new Set();
  if (i?.verified) flags.push(badge(T.verified, "good"));
  for (const doubt of doubts) {
    const warning = doubt === "possible_duplicate" ? told.duplicate : told.byId.get(i?.id);
    if (warning) pointers.add(warning);
    else flags.push(badge(label(T.doubts, doubt), doubt === "invalid" ? "bad" : "warn"));
  }
  if (pointers.size) {
    flags.push(h("span", { class: "doubt-mark", title: T.seeWarning, "aria-label": T.seeWarning,
      "aria-describedby": [...pointers].join(" ") }, "⚠"));
  }
  return h("li", { class: doubts.length || i?.uncertain ? "uncertain" : "" },
    h("span", { class: "muted" }, label(T.idKinds, i?.kind), " "), h("span", { class: "id-value" }, text(i?.value)),
    " ", flags);
}

function slaClocks(c) {
  const clocks = [];
  if (Array.isArray(c?.sla)) {  // the clocks' own state, when the pop carries it
    for (const s of c.sla) {
      if (!s?.due_at || s.state === "stopped" || s.stopped_at) continue;
      clocks.push(h("span", { class: "sla" }, label(T.sla, s.kind), " ",
        s.state === "paused" || s.paused_at ? badge(T.paused) : clock("due", s.due_at)));
    }
    return clocks;
  }
  if (!c?.first_responded_at && c?.first_response_due_at) {
    clocks.push(h("span", { class: "sla" }, T.sla.first_response, " ", clock("due", c.first_response_due_at)));
  }
  if (c?.resolution_due_at && !["resolved", "closed"].includes(c.status)) {
    clocks.push(h("span", { class: "sla" }, T.sla.resolution, " ",
      c.status === "pending" ? badge(T.paused) : clock("due", c.resolution_due_at)));
  }
  return clocks;
}

function caseLine(c) {
  return h("li", { class: `case-line${c?.highlight || c?.type === "complaint" ? " complaint" : ""}` },
    h("strong", {}, text(c?.reference)), " ",
    badge(label(T.types, c?.type), `type-${text(c?.type)}`), " ",
    badge(label(T.statuses, c?.status)), " ",
    h("span", { class: "subject" }, text(c?.subject) || T.noSubject), " ",
    slaClocks(c));
}

function lastPerChannel(timeline) {
  const seen = new Map();
  for (const contact of timeline) {
    if (contact?.channel && !seen.has(contact.channel)) seen.set(contact.channel, contact);
  }
  return [...seen.values()];
}

function contactLine(contact) {
  return h("li", { class: "contact-line" }, channelBadge(contact?.channel), " ",
    h("time", { datetime: text(contact?.occurred_at) }, when(contact?.occurred_at)), " ",
    h("span", { class: "muted" }, contact?.direction === "outbound" ? T.outbound : T.inbound), " ",
    h("span", {}, text(contact?.subject) || text(contact?.summary) || T.noSubject));
}

function classificationBlock(cls) {
  if (!cls || typeof cls !== "object") return null;
  const type = cls.case_type ?? cls.class;
  const matched = Array.isArray(cls.matched) ? cls.matched : (Array.isArray(cls.keywords) ? cls.keywords : []);
  return h("p", { class: "classification" }, h("strong", {}, T.classification, ": "),
    badge(label(T.types, type), `type-${text(type)}`), " ",
    typeof cls.confidence === "number" ? fmt(T.confidence, `${Math.round(cls.confidence * 100)}%`) : "",
    cls.language ? ` · ${label(LANGUAGES, cls.language)}` : "",
    cls.negative_sentiment || cls.negative ? [" · ", badge(T.negative, "bad")] : "",
    matched.length ? ` · ${fmt(T.keywords, matched.map(text).join(", "))}` : "");
}

function scriptBlock(script) {
  if (!script) return null;
  const body = typeof script === "string" ? script : text(script.text ?? script.body ?? script.content);
  const title = typeof script === "object" ? text(script.title ?? script.name) : "";
  if (!body && !title) return null;
  return h("section", { class: "script" }, h("h4", {}, T.script, title ? `: ${title}` : ""),
    h("p", { class: "prewrap" }, body));
}

function knowledgeBlock(items) {
  const list = Array.isArray(items) ? items.filter(Boolean) : [];
  if (!list.length) return null;
  return h("section", { class: "knowledge" }, h("h4", {}, T.knowledge),
    h("ul", {}, list.map((k) => {
      const title = typeof k === "string" ? k : text(k.title ?? k.name);
      const body = typeof k === "string" ? "" : text(k.text ?? k.summary ?? k.body ?? k.snippet);
      const url = typeof k === "object" ? safeUrl(k.url) : null;
      return h("li", {}, url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, title)
        : h("strong", {}, title), body ? h("p", { class: "prewrap" }, body) : null);
    })));
}

/* What the offer and the CTI pop both show about who is there. */
function popBody(pop, { caseId = null, contact = null, kase = null } = {}) {
  const sp = pop ?? {};
  const customer = sp.customer ?? null;
  if (customer?.id && customer.display_name) state.names.set(customer.id, customer.display_name);
  const openCases = (Array.isArray(sp.open_cases) ? sp.open_cases : []);
  const timeline = Array.isArray(sp.timeline) ? sp.timeline : [];
  const given = sp.last_contacts ?? sp.last_per_channel;
  const last = Array.isArray(given) ? given
    : given && typeof given === "object" ? Object.values(given) : lastPerChannel(timeline);
  const warnings = Array.isArray(sp.warnings) ? sp.warnings : null;
  const others = openCases.filter((c) => c?.id !== caseId && !c?.current);
  const notes = Array.isArray(sp.notes) ? sp.notes : [];
  return [
    h("div", { class: "pop-who" },
      customerCard(customer, { warnings, identifiers: sp.identifiers, preferences: sp.preferences, segment: sp.segment,
        value: sp.value, tier: sp.tier ?? customer?.tier ?? null, satisfaction: sp.satisfaction ?? null,
        surveysOptedOut: sp.preferences?.consent?.surveys === false }),
      contact ? h("section", { class: "this-contact" }, h("h4", {}, T.thisContact),
        h("p", {}, channelBadge(contact.channel), " ", h("strong", {}, text(contact.subject) || T.noSubject)),
        contact.from_name || contact.from_address
          ? h("p", { class: "muted" }, T.from, ": ", text(contact.from_name), " ", text(contact.from_address)) : null,
        h("p", { class: "excerpt prewrap" }, text(contact.summary ?? contact.body).slice(0, 600)),
        kase ? h("p", {}, slaClocks(kase)) : null) : null,
      classificationBlock(kase?.classification ?? sp.classification)),
    h("div", { class: "pop-what" },
      scriptBlock(sp.script ?? sp.suggested_script),
      knowledgeBlock(sp.knowledge ?? sp.knowledge_snippets ?? sp.snippets),
      notes.length ? h("section", { class: "pop-notes" }, h("h4", {}, T.popNotes),
        h("ol", { class: "notes" }, notes.map((n) => noteItem(n)))) : null,
      h("section", { class: "open-cases" }, h("h4", {}, T.openCases),
        others.length ? h("ul", {}, others.map((c) => caseLine(c)))
          : h("p", { class: "muted" }, T.noOpenCases)),
      h("section", { class: "last-contacts" }, h("h4", {}, T.lastContacts),
        last.length ? h("ul", {}, last.map(contactLine)) : h("p", { class: "muted" }, T.noContacts))),
  ];
}

function addOffer(m) {
  removeOffer(m.offer_id);
  const kase = m.case ?? {};
  const accept = h("button", { type: "button", class: "primary", onclick: () => answer("accept") }, T.accept);
  const decline = h("button", { type: "button", onclick: () => answer("decline") }, T.decline);
  function answer(kind) {
    if (send({ type: kind, offer_id: m.offer_id })) { accept.disabled = true; decline.disabled = true; }
  }
  const pop = h("article", { class: `pop${kase.type === "complaint" ? " complaint" : ""}`,
    "aria-label": `${label(T.channels, m.channel)} ${text(kase.reference)}`, "data-offer": m.offer_id },
    h("header", { class: "pop-head" }, channelBadge(m.channel), " ",
      h("strong", {}, text(kase.reference)), " ", badge(label(T.types, kase.type), `type-${text(kase.type)}`),
      " ", badge(label(T.priorities, kase.priority), `priority-${text(kase.priority)}`),
      m.expires_at ? clock("offer", m.expires_at) : null),
    h("div", { class: "pop-body" }, popBody(m.screen_pop, { caseId: kase.id, contact: m.contact, kase })),
    h("footer", { class: "pop-actions" }, accept, decline));
  state.offers.set(m.offer_id, pop);
  els.offers.prepend(pop);
  const who = text(m.screen_pop?.customer?.display_name) || T.unknownCustomer;
  els.announce.textContent = fmt(T.newOffer, label(T.channels, m.channel), who);
  // Never take the keyboard from an agent who is typing (an Enter would accept).
  const busy = document.activeElement;
  if (!busy || busy === document.body || busy === els.panel) accept.focus({ preventScroll: true });
}

function removeOffer(id) {
  const pop = state.offers.get(id);
  if (!pop) return false;
  pop.remove();
  state.offers.delete(id);
  return true;
}

/* A PBX rang this agent (POST /api/cti/events): who is calling, no offer to answer. */
function addCallPop(m) {
  const pop = h("article", { class: "pop call-pop", "aria-label": T.incomingCall },
    h("header", { class: "pop-head" }, channelBadge("phone"), " ", h("strong", {}, T.incomingCall), " ",
      h("span", { class: "id-value" }, text(m.caller))),
    h("div", { class: "pop-body" }, popBody(m)),
    h("footer", { class: "pop-actions" },
      h("button", { type: "button", onclick: () => pop.remove() }, T.dismiss)));
  els.offers.prepend(pop);
}

/* ---------------------------------------------------------------- my work */

async function loadWork() {
  try {
    const data = await api("GET", "/api/cases?held_by=me");
    state.work = new Map((data.items ?? []).map((c) => [c.id, c]));
  } catch (err) {
    failed(err);
  }
  renderWork();
}

function dropWork(caseId) {
  state.work.delete(caseId);
  if (state.open?.id === caseId) closePanel();
  renderWork();
}

function renderWork() {
  const items = [...state.work.values()];
  if (!items.length) {
    els.workList.replaceChildren(h("li", { class: "muted" }, T.noWork));
    return;
  }
  els.workList.replaceChildren(...items.map((c) => {
    const name = state.names.get(c.customer_id) ?? "";
    return h("li", {},
      h("button", { type: "button", class: `work-item${c.type === "complaint" ? " complaint" : ""}`,
        "data-case": c.id,
        "aria-current": state.open?.id === c.id ? "true" : null, onclick: () => openCase(c.id) },
        channelBadge(c.work?.channel), " ", h("strong", {}, text(c.reference)), " ",
        h("span", { class: "subject" }, text(c.subject) || T.noSubject),
        name ? h("span", { class: "muted who" }, name) : null,
        c.work?.after_contact_work ? badge(T.acw, "acw") : null,
        h("span", { class: "unread", hidden: !state.unread.has(c.id), title: T.unread }, "●")));
  }));
}

function markUnread(caseId) {
  if (!caseId || state.open?.id === caseId) return;
  state.unread.add(caseId);
  renderWork();
}

/* ---------------------------------------------------------------- the work panel */

function closePanel() {
  state.open = null;
  els.panel.replaceChildren(h("p", { class: "muted" }, T.pickWork));
  renderWork();
}

async function openCase(caseId) {
  state.open = { id: caseId };
  state.unread.delete(caseId);
  renderWork();
  els.panel.replaceChildren(h("p", { class: "muted" }, T.loading));
  try {
    const kase = await api("GET", `/api/cases/${enc(caseId)}`);
    const [customer, notes, duplicates] = await Promise.all([
      api("GET", `/api/customers/${enc(kase.customer_id)}?limit=10`),
      api("GET", `/api/cases/${enc(caseId)}/notes`),
      api("GET", `/api/customers/${enc(kase.customer_id)}/duplicates`),
    ]);
    if (state.open?.id !== caseId) return;
    state.names.set(customer.id, customer.display_name ?? "");
    state.open = { id: caseId, kase, customer };
    renderPanel(kase, customer, notes.items ?? [], duplicates.items ?? []);
    renderWork();
  } catch (err) {
    if (state.open?.id === caseId) els.panel.replaceChildren(h("p", { class: "alert" }, fmt(T.failed, err.message)));
  }
}

function renderPanel(kase, customer, notes, duplicates) {
  const channel = state.work.get(kase.id)?.work?.channel ?? kase.contacts?.at(-1)?.channel;
  const panel = els.panel;
  panel.replaceChildren(
    h("div", { class: "panel-main" },
      caseHeader(kase),
      channelView(channel, kase, customer),
      historyView(kase)),
    h("div", { class: "panel-side" },
      customerSection(customer, duplicates, kase.contacts?.at(-1)?.id),
      notesSection(kase, notes),
      transferSection(kase),
      wrapUpSection(kase)));
  panel.classList.toggle("complaint", kase.type === "complaint");
  panel.focus({ preventScroll: true });
}

function select(name, options, current, labels) {
  return h("select", { name }, options.map((o) => h("option", { value: o, selected: o === current }, label(labels, o))));
}

function caseHeader(kase) {
  const status = select("status", Object.keys(T.statuses), kase.status, T.statuses);
  const priority = select("priority", Object.keys(T.priorities), kase.priority, T.priorities);
  const type = select("type", Object.keys(T.types), kase.type, T.types);
  const tags = h("input", { name: "tags", value: (kase.tags ?? []).join(", "), "aria-describedby": "tags-hint" });
  const form = h("form", { class: "case-form", onsubmit: async (event) => {
    event.preventDefault();
    const change = {};
    if (status.value !== kase.status) change.status = status.value;
    if (priority.value !== kase.priority) change.priority = priority.value;
    if (type.value !== kase.type) change.type = type.value;
    const newTags = tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    if (newTags.join(",") !== (kase.tags ?? []).join(",")) change.tags = newTags;
    if (!Object.keys(change).length) return;
    try {
      const updated = await api("PATCH", `/api/cases/${enc(kase.id)}`, change);
      Object.assign(kase, updated);
      notice(T.saved);
    } catch (err) {
      failed(err);
      status.value = kase.status;
    }
  } },
  control(T.caseStatus, status), control(T.priority, priority),
  control(T.type, type),
  control(T.tags, tags, { cls: "tags", after: h("small", { id: "tags-hint", class: "muted" }, T.tagsHint) }),
  h("button", { type: "submit" }, T.save));
  return h("section", { class: `case-head${kase.type === "complaint" ? " complaint" : ""}` },
    h("h2", {}, text(kase.reference), " ", h("span", { class: "subject" }, text(kase.subject) || T.noSubject)),
    h("p", { class: "sla-line" }, slaClocks(kase)),
    classificationBlock(kase.classification),
    form);
}

/* -- the customer, corrected during the contact; duplicates read-only */

function customerSection(customer, duplicates, contactId) {
  const section = h("section", { class: "customer" }, h("h3", { class: "sr-only" }, T.customer));
  let card = customerCard(customer);
  const editing = h("details", { class: "edit-customer" }, h("summary", {}, T.editCustomer), customerForm(customer, contactId, (updated) => {
    Object.assign(customer, updated);
    state.names.set(customer.id, customer.display_name ?? "");
    const fresh = customerCard(customer);
    card.replaceWith(fresh);
    card = fresh;
    editing.open = false;
    renderWork();
  }));
  section.append(...[card, phoneButtons(customer), editing, duplicatesView(duplicates)].filter(Boolean));
  return section;
}

// contactId: the contact being handled, which the audit log ties the edit to.
function customerForm(customer, contactId, saved) {
  const name = h("input", { name: "display_name", value: text(customer.display_name), maxlength: "300" });
  const language = select("language", ["", ...Object.keys(LANGUAGES)], customer.language ?? "",
    { "": T.none, ...LANGUAGES });
  const preferred = select("preferred_channel", ["", "email", "phone", "chat", "letter"],
    customer.preferred_channel ?? "", { "": T.none, ...T.channels });
  const kind = select("kind", Object.keys(T.kinds), customer.kind, T.kinds);
  return h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    const change = {};
    if (name.value.trim() && name.value.trim() !== (customer.display_name ?? "")) change.display_name = name.value.trim();
    if (language.value && language.value !== customer.language) change.language = language.value;
    if (preferred.value && preferred.value !== customer.preferred_channel) change.preferred_channel = preferred.value;
    if (kind.value !== customer.kind) change.kind = kind.value;
    if (!Object.keys(change).length) return;
    try {
      const during = contactId ? `?contact=${enc(contactId)}` : "";
      saved(await api("PATCH", `/api/customers/${enc(customer.id)}${during}`, change));
      notice(T.customerSaved);
    } catch (err) {
      failed(err);
    }
  } },
  control(T.name, name), control(T.kind, kind), control(T.language, language),
  control(T.preferredChannel, preferred),
  h("p", { class: "muted" }, T.supervisorOnly),
  h("button", { type: "submit" }, T.save));
}

function duplicatesView(duplicates) {
  const open = duplicates.filter((d) => !d?.dismissed);
  if (!open.length) return null;
  const list = h("ul", { class: "duplicates" });
  for (const d of open) {
    const item = h("li", {}, h("strong", {}, T.reason, ": "), text(d.reason));
    list.append(item);
    const other = d.other_customer_id;
    if (!other) continue;
    api("GET", `/api/customers/${enc(other)}?limit=5`).then((c) => {
      item.append(customerCard(c));
    }).catch(() => { /* shown without the other record */ });
  }
  return h("section", { class: "duplicates-view" }, h("h4", {}, T.duplicates), list,
    h("p", { class: "muted" }, T.mergeBySupervisor));
}

function phoneButtons(customer) {
  const phones = (customer.identifiers ?? []).filter((i) => i?.kind === "phone" && i.valid !== false && !i.claimed);
  if (!phones.length) return null;
  return h("p", { class: "call-buttons" }, phones.map((p) =>
    h("button", { type: "button", onclick: async () => {
      try {
        const placed = await api("POST", "/api/calls", { number: p.normalized ?? p.value });
        notice(fmt(T.calling, text(placed.to)));
      } catch (err) {
        failed(err);
      }
    } }, fmt(T.callNumber, text(p.value)))));
}

/* -- the case history: every contact, newest first */

function historyView(kase) {
  const contacts = [...(kase.contacts ?? [])];
  return h("section", { class: "history" }, h("h3", {}, T.history),
    contacts.length ? h("ol", { class: "contacts" }, contacts.map(contactItem)) : h("p", { class: "muted" }, T.noHistory));
}

function contactItem(c) {
  const attachments = Array.isArray(c.attachments) ? c.attachments : [];
  const html = c.channel === "email" && c.metadata?.html_ref;
  return h("li", { class: `contact ${c.direction === "outbound" ? "outbound" : "inbound"}` },
    h("header", {}, channelBadge(c.channel), " ",
      h("span", { class: "muted" }, c.direction === "outbound" ? T.outbound : T.inbound), " ",
      h("time", { datetime: text(c.occurred_at) }, when(c.occurred_at)), " ",
      h("span", { class: "from" }, text(c.from_name), c.from_address ? ` <${text(c.from_address)}>` : "")),
    c.subject ? h("p", { class: "contact-subject" }, h("strong", {}, text(c.subject))) : null,
    c.metadata?.menu_path || c.metadata?.ivr_choice ? h("p", { class: "muted" }, T.menuPath, ": ", menuPath(c.metadata)) : null,
    c.summary && c.summary !== c.body ? h("p", { class: "summary prewrap" }, text(c.summary)) : null,
    c.body ? h("div", { class: "body prewrap" }, text(c.body)) : null,
    html ? h("details", { class: "html-mail" }, h("summary", {}, T.htmlView),
      h("iframe", { sandbox: "", src: `/api/contacts/${enc(c.id)}/html`, title: T.htmlView,
        referrerpolicy: "no-referrer", loading: "lazy" })) : null,
    c.transcript ? h("details", {}, h("summary", {}, T.chat), h("div", { class: "body prewrap" }, text(c.transcript))) : null,
    attachments.length ? h("ul", { class: "attachments", "aria-label": T.attachments }, attachments.map((a) =>
      h("li", {}, h("a", { href: `/api/contacts/${enc(c.id)}/attachments/${enc(a.id)}`, download: "" }, text(a.filename)),
        " ", h("span", { class: "muted" }, a.size_bytes ? `${number.format(Math.ceil(a.size_bytes / 1024))} KB` : "")))) : null);
}

/* -- notes */

function noteItem(n, onDelete = null) {
  const until = onDelete && n?.deletable_until ? Date.parse(n.deletable_until) : NaN;
  return h("li", { "data-note": text(n?.id) }, h("p", { class: "prewrap" }, text(n?.text)),
    h("p", { class: "muted" }, text(n?.author), " · ", when(n?.created_at),
      // Only the author, for a few minutes (the server says until when, and decides).
      Number.isNaN(until) || until <= serverNow() ? null : [" ",
        h("button", { type: "button", class: "quiet delete-note", title: fmt(T.deleteNoteHint, when(n.deletable_until)),
          onclick: () => onDelete(n) }, T.deleteNote)]));
}

function notesSection(kase, notes) {
  const list = h("ol", { class: "notes" });
  const remove = async (n) => {
    try {
      await api("DELETE", `/api/cases/${enc(kase.id)}/notes/${enc(n.id)}`);
      notes.splice(notes.indexOf(n), 1);
      render();
    } catch (err) {
      failed(err);
      if (err.status === 409 || err.status === 403) { n.deletable_until = null; render(); }
    }
  };
  const render = () => list.replaceChildren(...(notes.length ? notes.map((n) => noteItem(n, remove))
    : [h("li", { class: "muted" }, T.noNotes)]));
  render();
  const input = h("textarea", { name: "note", rows: "3", maxlength: "4000", required: true });
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    try {
      notes.push(await api("POST", `/api/cases/${enc(kase.id)}/notes`, { text: input.value }));
      input.value = "";
      render();
    } catch (err) {
      failed(err);
    }
  } }, control(T.newNote, input), h("button", { type: "submit" }, T.addNote));
  return h("section", { class: "notes-view" }, h("h3", {}, T.notes), list, form);
}

/* -- the channel: e-mail composer, chat, call */

function channelView(channel, kase, customer) {
  const contacts = kase.contacts ?? [];
  if (channel === "chat") return chatView(kase, contacts);
  if (channel === "phone") return callView(kase, contacts, customer);
  return replyView(kase, contacts);
}

function replyView(kase, contacts) {
  const last = contacts.find((c) => c.channel === "email" && c.direction === "inbound" && c.from_address);
  if (!last) return h("section", { class: "channel-view reply" }, h("h3", {}, T.reply), h("p", { class: "muted" }, T.noEmail));
  const body = h("textarea", { name: "body", rows: "8", required: true, maxlength: "100000" });
  const button = h("button", { type: "submit", class: "primary" }, T.send);
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    if (!body.value.trim()) return;
    button.disabled = true;
    try {
      const queued = await api("POST", `/api/cases/${enc(kase.id)}/replies`, { body: body.value });
      notice(fmt(T.replyQueued, text(queued.to)));
      body.value = "";
      const fresh = await api("GET", `/api/cases/${enc(kase.id)}`);
      kase.contacts = fresh.contacts;
      els.panel.querySelector(".history")?.replaceWith(historyView(kase));
    } catch (err) {
      failed(err);
    } finally {
      button.disabled = false;
    }
  } },
  h("p", { class: "muted" }, "→ ", text(last.from_name), ` <${text(last.from_address)}>`,
    last.subject ? ` · ${text(last.subject)}` : ""),
  control(T.replyLabel, body), button);
  return h("section", { class: "channel-view reply" }, h("h3", {}, T.reply), form);
}

function chatView(kase, contacts) {
  const conversationId = contacts.map((c) => c.metadata?.conversation_id).find(Boolean);
  const log = h("ol", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": T.chat });
  const typing = h("p", { class: "typing muted", hidden: true }, T.visitorTyping);
  const input = h("textarea", { name: "chat", rows: "2", maxlength: "4000" });
  const transcript = h("input", { type: "checkbox", name: "transcript" });
  if (!conversationId) return h("section", { class: "channel-view chat" }, h("h3", {}, T.chat), h("p", { class: "muted" }, T.none));
  const chat = { conversationId, log, typing, seen: new Set(), typingTimer: null, sentTyping: 0, idle: null };
  state.open.chat = chat;
  const post = async () => {
    const value = input.value.trim();
    if (!value) return;
    try {
      const frame = await api("POST", `/api/chat/conversations/${enc(conversationId)}/messages`, { text: value });
      input.value = "";
      signalTyping(chat, false);
      appendChat(chat, frame);
    } catch (err) {
      failed(err);
    }
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); post(); }
  });
  input.addEventListener("input", () => signalTyping(chat, input.value.length > 0));
  const form = h("form", { class: "chat-compose", onsubmit: (event) => { event.preventDefault(); post(); } },
    control(T.chatLabel, input), h("button", { type: "submit", class: "primary" }, T.send));
  const end = h("form", { class: "chat-end", onsubmit: async (event) => {
    event.preventDefault();
    try {
      appendChat(chat, await api("POST", `/api/chat/conversations/${enc(conversationId)}/end`,
        { transcript: transcript.checked }));
    } catch (err) {
      failed(err);
    }
  } }, h("label", { class: "inline" }, transcript, " ", T.transcript), h("button", { type: "submit" }, T.endChat));
  loadChat(chat);
  return h("section", { class: "channel-view chat" }, h("h3", {}, T.chat), log, typing, form, end);
}

function loadChat(chat) {
  api("GET", `/api/chat/conversations/${enc(chat.conversationId)}`).then((conversation) => {
    for (const frame of conversation.messages ?? []) appendChat(chat, frame);
  }).catch(failed);
}

function signalTyping(chat, typing) {
  const now = Date.now();
  clearTimeout(chat.idle);
  if (typing) {
    if (now - chat.sentTyping > 3000) {
      chat.sentTyping = now;
      send({ type: "chat_typing", conversation_id: chat.conversationId, typing: true });
    }
    chat.idle = setTimeout(() => signalTyping(chat, false), 4000);
  } else if (chat.sentTyping) {
    chat.sentTyping = 0;
    send({ type: "chat_typing", conversation_id: chat.conversationId, typing: false });
  }
}

function appendChat(chat, frame) {
  if (!frame || chat.seen.has(frame.seq)) return;
  chat.seen.add(frame.seq);
  let line;
  if (frame.from === "system") {
    const what = frame.event === "agent_joined" ? fmt(T.joined, text(frame.text))
      : frame.event === "agent_left" ? T.agentLeft
        : frame.event === "ended" ? fmt(T.ended, text(frame.text)) : text(frame.text);
    line = h("li", { class: "system muted" }, what);
  } else {
    line = h("li", { class: frame.from === "agent" ? "mine" : "theirs" },
      h("span", { class: "who" }, frame.from === "agent" ? T.you : T.visitor),
      h("time", { datetime: text(frame.at) }, Number.isNaN(Date.parse(frame.at)) ? "" : clockTime.format(new Date(frame.at))),
      h("p", { class: "prewrap" }, text(frame.text)));
  }
  line.dataset.seq = String(frame.seq);
  const after = [...chat.log.children].find((li) => Number(li.dataset.seq) > frame.seq);
  chat.log.insertBefore(line, after ?? null);
  if (frame.from === "visitor") chat.typing.hidden = true;
  line.scrollIntoView({ block: "nearest" });
}

function chatFrame(m) {
  const chat = state.open?.chat;
  if (chat && m.conversation_id === chat.conversationId) appendChat(chat, m);
  else if (m.from === "visitor") markUnread(m.case_id);
}

function chatTyping(m) {
  const chat = state.open?.chat;
  if (!chat || m.conversation_id !== chat.conversationId || m.from !== "visitor") return;
  chat.typing.hidden = !m.typing;
  clearTimeout(chat.typingTimer);
  if (m.typing) chat.typingTimer = setTimeout(() => { chat.typing.hidden = true; }, 8000);
}

function menuPath(meta) {
  const choice = text(meta?.ivr_choice);
  const path = text(meta?.menu_path);
  if (!choice) return path;
  return [choice, path ? h("span", { class: "muted" }, ` (${path})`) : null];
}

function callView(kase, contacts, customer) {
  const call = contacts.find((c) => c.channel === "phone" && c.metadata?.call_sid) ?? contacts.find((c) => c.channel === "phone");
  const facts = h("dl", { class: "facts" },
    field(T.caller, [text(customer?.display_name) || T.unknownCustomer, " ",
      h("span", { class: "id-value" }, text(call?.from_address))]),
    field(T.menuPath, menuPath(call?.metadata)));
  const section = h("section", { class: "channel-view call" }, h("h3", {}, T.call), facts);
  const sid = call?.metadata?.call_sid;
  if (sid) {
    api("GET", `/api/calls/${enc(sid)}`).then((c) => {
      // Ends the call for both sides through Twilio (docs/desk.md); shown while it lasts.
      const hangUp = c.ended_at ? null : h("button", { type: "button", class: "danger hang-up",
        onclick: async () => {
          hangUp.disabled = true;
          try {
            await api("POST", `/api/calls/${enc(sid)}/hangup`);
            notice(T.hangingUp);
          } catch (err) {
            failed(err);
            hangUp.disabled = err.status === 409;  // over already: nothing left to end
          }
        } }, T.hangUp);
      if (hangUp) section.append(h("p", { class: "call-actions" }, hangUp));
      facts.append(...[
        field(T.callState, label(T.callStatuses, c.status)),
        c.enqueued_at ? field(T.waitTime, c.answered_at || c.ended_at
          ? duration(Date.parse(c.answered_at ?? c.ended_at) - Date.parse(c.enqueued_at))
          : clock("since", c.enqueued_at)) : null,
        c.answered_at && !c.ended_at ? field(T.talkTime, clock("since", c.answered_at)) : null,
      ].filter(Boolean));
    }).catch(() => { /* the contact's facts are enough */ });
  }
  return section;
}

/* -- transfer and wrap-up */

function transferSection(kase) {
  const queue = h("select", { name: "queue" }, h("option", { value: "" }, T.chooseQueue));
  const secondLine = h("input", { type: "checkbox", name: "second_line" });
  const loadQueues = state.queues ? Promise.resolve(state.queues) : api("GET", "/api/queues").then((q) => {
    state.queues = q.queues ?? [];
    return state.queues;
  });
  loadQueues.then((queues) => queue.append(...queues.map((q) => h("option", { value: q.id }, text(q.name))))).catch(failed);
  return h("details", { class: "transfer" }, h("summary", {}, T.transfer),
    h("form", { class: "stack", onsubmit: (event) => {
      event.preventDefault();
      if (!queue.value && !secondLine.checked) return;
      send({ type: "transfer", case_id: kase.id, ...(queue.value ? { queue: queue.value } : {}),
        ...(secondLine.checked ? { second_line: true } : {}) });
    } }, control(T.toQueue, queue),
    h("label", { class: "inline" }, secondLine, " ", T.secondLine),
    h("button", { type: "submit" }, T.transfer)));
}

/* After-contact work: the panel opens by itself when the conversation ends (the call or
 * chat ended, the reply left) or when the agent chooses Wrap up…; the server keeps the
 * capacity and, past the deadline it gives, wraps up for the agent (docs/desk.md). */
function wrapUpSection(kase) {
  const work = state.work.get(kase.id)?.work ?? {};
  const disposition = h("select", { name: "disposition", required: true },
    h("option", { value: "" }, T.chooseDisposition));
  const query = work.queue ? `?queue=${enc(work.queue)}` : "";
  api("GET", `/api/dispositions${query}`).then((found) => {
    disposition.append(...(found.items ?? []).map((d) =>
      h("option", { value: d.code }, text(d.labels?.[LANG]) || text(d.code))));
  }).catch(failed);
  const outcomes = Object.entries(T.outcomes).map(([value, name], i) =>
    h("label", { class: "inline" }, h("input", { type: "radio", name: "outcome", value, checked: i === 0,
      onchange: () => showCallback() }), " ", name));
  const callbackAt = h("input", { type: "datetime-local", name: "callback_at" });
  const callback = control(T.callbackAt, callbackAt, { cls: "callback-at" });
  const chosen = () => form.querySelector('input[name="outcome"]:checked')?.value ?? "resolved";
  function showCallback() {
    callback.hidden = chosen() !== "callback_planned";
    callbackAt.required = !callback.hidden;
  }
  const countdown = h("p", { class: "acw-clock", role: "timer" });
  const form = h("form", { class: "stack", hidden: true, onsubmit: (event) => {
    event.preventDefault();
    const outcome = chosen();
    const at = outcome === "callback_planned" ? new Date(callbackAt.value) : null;
    if (at && Number.isNaN(at.getTime())) return;
    send({ type: "wrap_up", case_id: kase.id, disposition: disposition.value, outcome,
      ...(at ? { callback_at: at.toISOString() } : {}) });
  } },
  countdown,
  control(T.disposition, disposition),
  h("fieldset", {}, h("legend", {}, T.outcome), outcomes),
  callback,
  h("button", { type: "submit", class: "primary" }, T.wrapUp));
  showCallback();
  const start = h("button", { type: "button", class: "primary", onclick: () => {
    send({ type: "start_wrap_up", case_id: kase.id });
  } }, T.startWrapUp);
  const section = h("section", { class: "wrap-up" }, h("h3", {}, T.wrapUp), start, form);
  section.openForm = (due) => {  // in after-contact work: the form, with its countdown
    form.hidden = false;
    start.hidden = true;
    countdown.replaceChildren(due ? clock("acw", due) : T.acwNoLimit);
    if (!section.contains(document.activeElement)) disposition.focus({ preventScroll: true });
  };
  if (work.after_contact_work) section.openForm(work.wrap_up_due_at);
  return section;
}

function afterContactWork(m) {
  const held = state.work.get(m.case_id);
  if (held) {
    held.work = { ...(held.work ?? {}), after_contact_work: true,
      conversation_ended_at: m.started_at, wrap_up_due_at: m.due_at };
    renderWork();
  }
  if (state.open?.id === m.case_id) els.panel.querySelector("section.wrap-up")?.openForm?.(m.due_at);
}

/* ---------------------------------------------------------------- start */

skeleton();
connect();
