/* Switchboard chat widget. Embed with one line:
 *   <script src="https://switchboard.example.nl/chat/widget.js" data-lang="nl" defer></script>
 * Plain JavaScript, no build step. Everything shown is set with textContent: nothing a
 * visitor or an agent types is ever interpreted as HTML.
 * Protocol: docs/chat-protocol.md. The conversation survives dropped connections: the
 * widget reconnects, resumes after the last message it saw, and resends what the server
 * has not acknowledged (same client_msg_id, so it is stored once). */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href);
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "nl")
    .slice(0, 2) === "en" ? "en" : "nl";
  var T = {
    nl: { open: "Chat met ons", title: "Chat", name: "Naam", email: "E-mail (optioneel)",
      topic: "Waarover?", start: "Start chat", send: "Versturen", message: "Uw bericht",
      close: "Sluiten", end: "Gesprek beëindigen", transcript: "Stuur mij het gesprek per e-mail",
      joined: " is bij het gesprek gekomen.", leftChat: "De medewerker heeft het gesprek verlaten.", ended: "Het gesprek is beëindigd.",
      typing: "Medewerker typt…", offline: "Verbinding verbroken; opnieuw verbinden…",
      none: "Er is nu geen medewerker beschikbaar. Laat een bericht achter, dan antwoorden we per e-mail.",
      leave: "Bericht achterlaten", leaveText: "Uw bericht voor ons", left: "Dank u. We antwoorden per e-mail.",
      you: "U", agent: "Medewerker", emailNeeded: "E-mailadres",
      surveyTitle: "Hoe hebben we u geholpen?", csat: "Hoe tevreden bent u over dit gesprek?",
      csatLabels: ["zeer ontevreden", "ontevreden", "neutraal", "tevreden", "zeer tevreden"],
      nps: "Hoe waarschijnlijk is het dat u ons aanbeveelt? (0 = zeer onwaarschijnlijk, 10 = zeer waarschijnlijk)",
      comment: "Toelichting (optioneel)", surveyThanks: "Dank u voor uw antwoord!" },
    en: { open: "Chat with us", title: "Chat", name: "Name", email: "E-mail (optional)",
      topic: "What about?", start: "Start chat", send: "Send", message: "Your message",
      close: "Close", end: "End chat", transcript: "E-mail me the conversation",
      joined: " joined the chat.", leftChat: "The agent left the chat.", ended: "The chat has ended.",
      typing: "Agent is typing…", offline: "Connection lost; reconnecting…",
      none: "No agent is available right now. Leave a message and we will answer by e-mail.",
      leave: "Leave a message", leaveText: "Your message for us", left: "Thank you. We will answer by e-mail.",
      you: "You", agent: "Agent", emailNeeded: "E-mail address",
      surveyTitle: "How did we do?", csat: "How satisfied are you with this chat?",
      csatLabels: ["very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"],
      nps: "How likely are you to recommend us? (0 = not at all likely, 10 = extremely likely)",
      comment: "Anything to add? (optional)", surveyThanks: "Thank you for your answer!" }
  }[lang];

  var SURVEY_WAIT_MS = 5 * 60 * 1000;
  var store = window.localStorage;
  var state = {
    visitor: store.getItem("sb_visitor_id") || readCookie("sb_visitor_id"),
    conversation: sessionStorage.getItem("sb_conversation"),
    seq: Number(sessionStorage.getItem("sb_seq") || 0),
    pending: {}, ws: null, retry: 0, ended: false, started: false, counter: 0
  };

  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: new URL("widget.css", base).href });
  document.head.appendChild(css);
  var button = el("button", { type: "button", "class": "sb-open", "aria-expanded": "false",
    "aria-controls": "sb-chat" }, T.open);
  var panel = el("section", { id: "sb-chat", "class": "sb-panel", role: "dialog",
    "aria-label": T.title, hidden: "" });
  var header = el("header", {}, "");
  header.appendChild(el("h2", {}, T.title));
  var closeButton = el("button", { type: "button", "class": "sb-close", "aria-label": T.close }, "×");
  header.appendChild(closeButton);
  var status = el("p", { "class": "sb-status", role: "status", "aria-live": "polite" }, "");
  var log = el("ol", { "class": "sb-log", role: "log", "aria-live": "polite" }, "");
  var typing = el("p", { "class": "sb-typing", hidden: "" }, T.typing);

  var prechat = el("form", { "class": "sb-prechat" });
  var nameInput = field(prechat, "sb-name", T.name, "input", { autocomplete: "name" });
  var emailInput = field(prechat, "sb-email", T.email, "input", { type: "email", autocomplete: "email" });
  var topicInput = field(prechat, "sb-topic", T.topic, "input", {});
  prechat.appendChild(el("button", { type: "submit" }, T.start));

  var composer = el("form", { "class": "sb-composer", hidden: "" });
  var text = field(composer, "sb-text", T.message, "textarea", { rows: "2", maxlength: "4000" });
  composer.appendChild(el("button", { type: "submit" }, T.send));
  var transcriptBox = el("input", { type: "checkbox", id: "sb-transcript" });
  var endRow = el("p", { "class": "sb-end" });
  endRow.appendChild(transcriptBox);
  endRow.appendChild(el("label", { "for": "sb-transcript" }, T.transcript));
  var endButton = el("button", { type: "button" }, T.end);
  endRow.appendChild(endButton);
  composer.appendChild(endRow);

  var leave = el("form", { "class": "sb-leave", hidden: "" });
  leave.appendChild(el("p", {}, T.none));
  var leaveEmail = field(leave, "sb-leave-email", T.emailNeeded, "input",
    { type: "email", required: "", autocomplete: "email" });
  var leaveText = field(leave, "sb-leave-text", T.leaveText, "textarea", { rows: "3", required: "" });
  leave.appendChild(el("button", { type: "submit" }, T.leave));

  // The satisfaction survey the server may send when the chat's case is resolved.
  var survey = el("form", { "class": "sb-survey", hidden: "" });

  [header, status, log, typing, prechat, composer, leave, survey].forEach(function (n) { panel.appendChild(n); });
  document.body.appendChild(button);
  document.body.appendChild(panel);

  function field(form, id, label, tag, attrs) {
    var wrap = el("p", { "class": "sb-field" });
    wrap.appendChild(el("label", { "for": id }, label));
    attrs.id = id;
    var input = el(tag, attrs);
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }

  function show(node, visible) { if (visible) { node.removeAttribute("hidden"); } else { node.setAttribute("hidden", ""); } }

  button.addEventListener("click", function () {
    var open = panel.hasAttribute("hidden");
    show(panel, open);
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      if (state.conversation && !state.started) { begin({}); }
      (state.started ? text : nameInput).focus();
    }
  });
  closeButton.addEventListener("click", function () { show(panel, false); button.setAttribute("aria-expanded", "false"); button.focus(); });

  prechat.addEventListener("submit", function (event) {
    event.preventDefault();
    begin({ name: nameInput.value || undefined, email: emailInput.value || undefined,
      topic: topicInput.value || undefined });
  });

  function begin(details) {
    state.started = true;
    state.details = details;
    show(prechat, false);
    show(composer, true);
    connect();
    text.focus();
  }

  function connect() {
    var url = new URL("ws", new URL("/chat/", base));
    url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(url.href);
    state.ws = ws;
    ws.onopen = function () {
      var hello = { type: "hello", language: lang, visitor_id: state.visitor || undefined,
        conversation_id: state.conversation || undefined, after_seq: state.seq };
      Object.keys(state.details || {}).forEach(function (k) { hello[k] = state.details[k]; });
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) { receive(JSON.parse(event.data)); };
    ws.onclose = function () {
      if (state.ended) { return; }
      status.textContent = T.offline;
      var delay = Math.min(15000, 500 * Math.pow(2, state.retry++));
      setTimeout(connect, delay);
    };
  }

  function receive(frame) {
    if (frame.type === "welcome") {
      state.retry = 0;
      status.textContent = "";
      if (frame.conversation_id !== state.conversation) { state.seq = 0; log.textContent = ""; }
      state.conversation = frame.conversation_id;
      state.visitor = frame.visitor_id;
      store.setItem("sb_visitor_id", frame.visitor_id);
      document.cookie = "sb_visitor_id=" + encodeURIComponent(frame.visitor_id) +
        "; path=/; max-age=31536000; SameSite=Lax";
      sessionStorage.setItem("sb_conversation", frame.conversation_id);
      if (!frame.agents_available || !frame.business_hours) { show(leave, true); }
      Object.keys(state.pending).forEach(function (id) { state.ws.send(JSON.stringify(state.pending[id])); });
    } else if (frame.type === "message") {
      if (frame.seq <= state.seq) { return; }
      state.seq = frame.seq;
      sessionStorage.setItem("sb_seq", String(frame.seq));
      if (frame.client_msg_id) { delete state.pending[frame.client_msg_id]; }
      render(frame);
      if (frame.from === "agent") { show(typing, false); sendFrame({ type: "read", seq: frame.seq }); }
    } else if (frame.type === "ack") {
      delete state.pending[frame.client_msg_id];
    } else if (frame.type === "typing" && frame.from === "agent") {
      show(typing, frame.typing);
    } else if (frame.type === "survey") {
      askSurvey(frame);
    } else if (frame.type === "survey_thanks") {
      show(survey, false);
      status.textContent = T.surveyThanks;
      if (state.ended) { clearTimeout(state.closeTimer); closeSocket(); }
    } else if (frame.type === "message_left") {
      show(leave, false);
      status.textContent = T.left;
    } else if (frame.type === "error") {
      status.textContent = frame.message;
    }
  }

  function render(frame) {
    var item = el("li", { "class": "sb-" + frame.from });
    if (frame.from === "system") {
      if (frame.event === "agent_joined") { item.textContent = frame.text + T.joined; show(leave, false); }
      else if (frame.event === "agent_left") { item.textContent = T.leftChat; }
      else if (frame.event === "ended") { item.textContent = T.ended; finish(); }
      else { item.textContent = frame.text; }
    } else {
      item.appendChild(el("span", { "class": "sb-who" }, frame.from === "visitor" ? T.you : T.agent));
      item.appendChild(el("span", { "class": "sb-text" }, frame.text));
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function sendFrame(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) { state.ws.send(JSON.stringify(frame)); }
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = text.value.trim();
    if (!value) { return; }
    var frame = { type: "message", text: value,
      client_msg_id: Date.now().toString(36) + "-" + (state.counter++) };
    state.pending[frame.client_msg_id] = frame;
    sendFrame(frame);
    text.value = "";
  });

  var typingTimer = null;
  text.addEventListener("input", function () {
    if (!typingTimer) { sendFrame({ type: "typing", typing: true }); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingTimer = null; sendFrame({ type: "typing", typing: false }); }, 2000);
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });

  endButton.addEventListener("click", function () { sendFrame({ type: "end", transcript: transcriptBox.checked }); });

  leave.addEventListener("submit", function (event) {
    event.preventDefault();
    sendFrame({ type: "leave_message", email: leaveEmail.value, text: leaveText.value,
      name: (state.details && state.details.name) || undefined });
  });

  function askSurvey(frame) {
    if (state.survey === frame.survey_id) { return; }
    state.survey = frame.survey_id;
    survey.textContent = "";
    survey.appendChild(el("h3", {}, T.surveyTitle));
    if (frame.kind !== "nps") { survey.appendChild(scale("sb-score", T.csat, 1, 5, T.csatLabels)); }
    if (frame.kind !== "csat") { survey.appendChild(scale("sb-nps", T.nps, 0, 10, null)); }
    field(survey, "sb-survey-comment", T.comment, "textarea", { rows: "2", maxlength: "2000" });
    survey.appendChild(el("button", { type: "submit" }, T.send));
    show(leave, false);
    show(survey, true);
    survey.scrollIntoView({ block: "nearest" });
  }

  function scale(name, legend, from, to, labels) {
    var set = el("fieldset", { "class": "sb-scale" });
    set.appendChild(el("legend", {}, legend));
    for (var n = from; n <= to; n++) {
      var id = name + "-" + n;
      set.appendChild(el("input", { type: "radio", name: name, id: id, value: String(n) }));
      set.appendChild(el("label", { "for": id }, labels ? n + " " + labels[n - from] : String(n)));
    }
    return set;
  }

  survey.addEventListener("submit", function (event) {
    event.preventDefault();
    var answer = { type: "survey_answer", survey_id: state.survey };
    var score = survey.querySelector("input[name=sb-score]:checked");
    var nps = survey.querySelector("input[name=sb-nps]:checked");
    var comment = survey.querySelector("textarea").value.trim();
    if (score) { answer.score = Number(score.value); }
    if (nps) { answer.nps = Number(nps.value); }
    if (comment) { answer.comment = comment; }
    sendFrame(answer);
  });

  function closeSocket() { if (state.ws) { state.ws.close(); } }

  function finish() {
    state.ended = true;
    sessionStorage.removeItem("sb_conversation");
    sessionStorage.removeItem("sb_seq");
    show(composer, false);
    // Stay connected a few minutes: a short satisfaction survey may follow when the
    // agent resolves the case (docs/chat-protocol.md).
    state.closeTimer = setTimeout(closeSocket, SURVEY_WAIT_MS);
  }
})();
