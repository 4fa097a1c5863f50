/*
 * Service Desk Chat: the end-user widget. One script tag on any site:
 *
 *   <script src="https://desk.example.com/widget.js" data-queue="Software" async></script>
 *
 * Optional data attributes: data-topics ("Label=Queue, Label=Queue" or "Queue, Queue"),
 * data-color (any CSS colour), data-greeting, data-title, data-lang (en, de), data-position
 * (right, left), data-open ("true": start opened).
 *
 * The UI lives in a Shadow DOM (no style clash with the host page). The Socket.IO client is
 * loaded from the chat server's own /vendor/ URL; nothing comes from third parties. Every text
 * that a person typed is shown with textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  var SERVER_CONFIG = /*@SERVER_CONFIG@*/{};
  var script = document.currentScript;
  if (!script || window.__serviceDeskWidget) return;
  window.__serviceDeskWidget = true;

  var SERVER = new URL(script.src, location.href).origin;
  var MAX_LENGTH = SERVER_CONFIG.maxLength || 4000;
  var STORE_KEY = "sdc-widget:" + SERVER;
  var data = script.dataset;

  // ---------------------------------------------------------------- language
  var STRINGS = {
    en: {
      title: "Service Desk", launcher: "Chat with the service desk", minimize: "Minimize chat",
      subtitle_form: "Questions? We're here to help.", subtitle_waiting: "Waiting for an agent",
      subtitle_closed: "Chat ended", subtitle_agent: "{queue} desk",
      intro: "Hi there! Tell us what you need and an agent will be with you shortly.",
      name: "Your name", email: "E-mail", phone: "Phone", optional: "optional", topic: "Topic",
      question: "How can we help?", question_ph: "Describe your question or problem",
      start: "Start chat", starting: "Starting…",
      required: "Please fill in this field.",
      err_email_invalid: "Please enter a valid e-mail address.",
      err_phone_invalid: "Phone numbers may contain digits, spaces and + ( ) - . / only.",
      err_too_long: "This is too long: {n} characters, at most {max}.",
      err_queue: "This topic is not available right now. Please choose another one.",
      err_network: "We could not reach the service desk. Please check your connection and try again.",
      err_rate: "Too many chat requests from your network. Please wait a minute and try again.",
      err_generic: "Something went wrong. Please try again.",
      sr_open: "Your request {sr} is open.",
      position_1: "You are next in line.", position_n: "You are number {n} in line.",
      agents_online_1: "1 agent is online.", agents_online_n: "{n} agents are online.",
      no_agents: "No agent of this desk is online right now. Your request {sr} stays open and the desk will follow up by e-mail{email}.",
      no_agents_email: " to {email}",
      waiting_hint: "You can add details below while you wait.",
      joined: "{agent} has joined the chat.",
      transferred: "You have been transferred to the {queue} desk. An agent will be with you shortly.",
      typing: "{name} is typing…",
      composer_ph: "Write a message…", send: "Send",
      sending: "Sending…", sent: "Delivered", failed: "Not sent.", retry: "Retry",
      queued_offline: "Will be sent when you're back online",
      too_long: "Your message is too long: {n} characters, at most {max}. Please shorten it or split it.",
      you: "You",
      end_chat: "End chat", end_confirm: "End this chat?", end_yes: "End chat", end_no: "Keep chatting",
      closed_by_visitor: "You ended the chat.", closed_by_agent: "{agent} ended the chat.",
      closed_by_system: "The chat was closed.", closed_abandoned: "The chat ended before an agent could join. Your request {sr} stays open and the desk will follow up by e-mail.",
      rate_q: "How was your chat?", rate_star: "{n} of 5", comment_ph: "Anything you'd like to add? (optional)",
      rate_send: "Send rating", rated: "Thank you for your feedback!",
      transcript: "E-mail me the transcript", transcript_sent: "The transcript is on its way to {email}.",
      new_chat: "Start a new chat",
      conn_reconnecting: "Connection lost. Reconnecting…",
      conn_offline: "You are offline. Messages will be sent when the connection is back.",
      conn_online: "Connected",
      expired: "Your previous chat has expired. Please start a new one.",
      token_invalid: "Your previous chat is no longer available. Please start a new one.",
      new_message_from: "New message from {name}"
    },
    de: {
      title: "Service Desk", launcher: "Chat mit dem Service Desk", minimize: "Chat minimieren",
      subtitle_form: "Fragen? Wir helfen gern.", subtitle_waiting: "Warten auf einen Mitarbeiter",
      subtitle_closed: "Chat beendet", subtitle_agent: "Team {queue}",
      intro: "Hallo! Sagen Sie uns, worum es geht, und gleich meldet sich jemand bei Ihnen.",
      name: "Ihr Name", email: "E-Mail", phone: "Telefon", optional: "optional", topic: "Thema",
      question: "Wie können wir helfen?", question_ph: "Beschreiben Sie Ihre Frage oder Ihr Problem",
      start: "Chat starten", starting: "Wird gestartet…",
      required: "Bitte füllen Sie dieses Feld aus.",
      err_email_invalid: "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
      err_phone_invalid: "Telefonnummern dürfen nur Ziffern, Leerzeichen und + ( ) - . / enthalten.",
      err_too_long: "Zu lang: {n} Zeichen, höchstens {max}.",
      err_queue: "Dieses Thema ist gerade nicht verfügbar. Bitte wählen Sie ein anderes.",
      err_network: "Der Service Desk ist nicht erreichbar. Bitte prüfen Sie Ihre Verbindung.",
      err_rate: "Zu viele Chat-Anfragen aus Ihrem Netz. Bitte warten Sie eine Minute.",
      err_generic: "Etwas ist schiefgegangen. Bitte versuchen Sie es noch einmal.",
      sr_open: "Ihre Anfrage {sr} ist eröffnet.",
      position_1: "Sie sind als Nächstes dran.", position_n: "Sie sind Nummer {n} in der Warteschlange.",
      agents_online_1: "1 Mitarbeiter ist online.", agents_online_n: "{n} Mitarbeiter sind online.",
      no_agents: "Gerade ist niemand von diesem Team online. Ihre Anfrage {sr} bleibt offen, und wir melden uns per E-Mail{email}.",
      no_agents_email: " an {email}",
      waiting_hint: "Sie können unten schon Details ergänzen.",
      joined: "{agent} ist dem Chat beigetreten.",
      transferred: "Sie wurden an das Team {queue} weitergeleitet. Gleich meldet sich jemand.",
      typing: "{name} schreibt…",
      composer_ph: "Nachricht schreiben…", send: "Senden",
      sending: "Wird gesendet…", sent: "Zugestellt", failed: "Nicht gesendet.", retry: "Erneut senden",
      queued_offline: "Wird gesendet, sobald Sie wieder online sind",
      too_long: "Ihre Nachricht ist zu lang: {n} Zeichen, höchstens {max}. Bitte kürzen oder teilen Sie sie.",
      you: "Sie",
      end_chat: "Chat beenden", end_confirm: "Diesen Chat beenden?", end_yes: "Chat beenden", end_no: "Weiter chatten",
      closed_by_visitor: "Sie haben den Chat beendet.", closed_by_agent: "{agent} hat den Chat beendet.",
      closed_by_system: "Der Chat wurde geschlossen.", closed_abandoned: "Der Chat endete, bevor jemand beitreten konnte. Ihre Anfrage {sr} bleibt offen, und wir melden uns per E-Mail.",
      rate_q: "Wie war Ihr Chat?", rate_star: "{n} von 5", comment_ph: "Möchten Sie noch etwas sagen? (optional)",
      rate_send: "Bewertung senden", rated: "Danke für Ihre Rückmeldung!",
      transcript: "Verlauf per E-Mail senden", transcript_sent: "Der Verlauf ist unterwegs an {email}.",
      new_chat: "Neuen Chat starten",
      conn_reconnecting: "Verbindung unterbrochen. Verbinde neu…",
      conn_offline: "Sie sind offline. Nachrichten werden gesendet, sobald die Verbindung zurück ist.",
      conn_online: "Verbunden",
      expired: "Ihr vorheriger Chat ist abgelaufen. Bitte starten Sie einen neuen.",
      token_invalid: "Ihr vorheriger Chat ist nicht mehr verfügbar. Bitte starten Sie einen neuen.",
      new_message_from: "Neue Nachricht von {name}"
    }
  };
  var LANG = pickLanguage(data.lang || document.documentElement.lang || navigator.language);

  function pickLanguage(wanted) {
    var code = String(wanted || "en").toLowerCase().split(/[-_]/)[0];
    return STRINGS[code] ? code : "en";
  }

  function t(key, vars) {
    var text = STRINGS[LANG][key];
    if (text === undefined) text = STRINGS.en[key] || key;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : "";
    });
  }

  // ---------------------------------------------------------------- settings
  var topics = parseTopics(data.topics, data.queue);

  function parseTopics(list, queue) {
    if (list) {
      // "A=Queue; B=Queue" when labels contain commas, else "A=Queue, B=Queue".
      return list.split(list.indexOf(";") >= 0 ? ";" : ",").map(function (item) {
        var parts = item.split("=");
        var label = parts[0].trim();
        var target = (parts[1] || parts[0]).trim();
        return { label: label, queue: target };
      }).filter(function (topic) { return topic.label && topic.queue; });
    }
    return queue ? [{ label: queue, queue: queue }] : [];
  }

  // ---------------------------------------------------------------- state
  var store = loadStore();
  var state = {
    socket: null, connection: "idle", lastId: 0, messages: {}, typingTimer: null,
    typingSentAt: 0, typingStopTimer: null, unread: 0, titleBase: null, audio: null,
    bannerTimer: null
  };

  function loadStore() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved === "object") return saved;
    } catch (e) { /* private mode or corrupt: start clean */ }
    return {};
  }

  function save() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(store)); } catch (e) { /* ignore */ }
  }

  function resetStore(keepPerson) {
    var person = keepPerson ? { name: store.name, email: store.email, phone: store.phone } : {};
    store = person;
    store.open = true;
    save();
  }

  // ---------------------------------------------------------------- DOM shell
  var host = document.createElement("div");
  host.id = "service-desk-chat";
  host.setAttribute("data-service-desk-widget", "");
  var root = host.attachShadow({ mode: "open" });

  var ICONS = {
    chat: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3L4.4 21.4c-.1.4.3.7.7.5l4.1-2c.9.2 1.8.3 2.8.3 5.5 0 10-3.9 10-8.5S17.5 3 12 3z" fill="currentColor"/></svg>',
    close: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
    send: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3.4 20.4l17.45-7.48a1 1 0 000-1.84L3.4 3.6a.99.99 0 00-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z" fill="currentColor"/></svg>',
    star: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 17.3l-6.2 3.7 1.6-7-5.4-4.7 7.1-.6L12 2l2.8 6.6 7.1.6-5.4 4.7 1.6 7z" fill="currentColor"/></svg>',
    headset: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2a9 9 0 00-9 9v6a3 3 0 003 3h2v-8H5v-1a7 7 0 0114 0v1h-3v8h3v1h-6v2h6a2 2 0 002-2v-10a9 9 0 00-9-9z" fill="currentColor"/></svg>'
  };

  // Static markup only: no value below ever contains user or host-page text.
  root.innerHTML =
    '<div class="sdc" part="widget">' +
    ' <section class="panel" role="dialog" aria-modal="false" aria-labelledby="sdc-title" hidden>' +
    '  <header class="head">' +
    '   <div class="avatar" aria-hidden="true">' + ICONS.headset + '<span class="avatar-text"></span></div>' +
    '   <div class="head-text"><h2 id="sdc-title" class="title"></h2>' +
    '    <p class="subtitle"><span class="dot" aria-hidden="true"></span><span class="subtitle-text"></span></p></div>' +
    '   <button type="button" class="end-btn" data-t="end_chat" hidden></button>' +
    '   <button type="button" class="icon-btn min-btn" data-t-aria="minimize">' + ICONS.close + '</button>' +
    '  </header>' +
    '  <div class="confirm" role="group" hidden><span data-t="end_confirm"></span>' +
    '   <button type="button" class="btn btn-danger confirm-yes" data-t="end_yes"></button>' +
    '   <button type="button" class="btn confirm-no" data-t="end_no"></button></div>' +
    '  <div class="banner" role="status" hidden></div>' +
    '  <div class="body">' +
    '   <form class="view form-view" novalidate hidden>' +
    '    <p class="intro"></p>' +
    '    <div class="form-error" role="alert" hidden></div>' +
    '    <div class="field"><label for="sdc-name" data-t="name"></label>' +
    '     <input id="sdc-name" name="name" autocomplete="name" maxlength="120" aria-describedby="sdc-name-err">' +
    '     <p class="err" id="sdc-name-err"></p></div>' +
    '    <div class="field"><label for="sdc-email" data-t="email"></label>' +
    '     <input id="sdc-email" name="email" type="email" autocomplete="email" maxlength="254" aria-describedby="sdc-email-err">' +
    '     <p class="err" id="sdc-email-err"></p></div>' +
    '    <div class="field"><label for="sdc-phone"><span data-t="phone"></span> <span class="opt" data-t="optional"></span></label>' +
    '     <input id="sdc-phone" name="phone" type="tel" autocomplete="tel" maxlength="40" aria-describedby="sdc-phone-err">' +
    '     <p class="err" id="sdc-phone-err"></p></div>' +
    '    <div class="field topic-field"><label for="sdc-queue" data-t="topic"></label>' +
    '     <select id="sdc-queue" name="queue" aria-describedby="sdc-queue-err"></select>' +
    '     <p class="err" id="sdc-queue-err"></p></div>' +
    '    <div class="field"><label for="sdc-question" data-t="question"></label>' +
    '     <textarea id="sdc-question" name="question" rows="3" data-t-ph="question_ph" aria-describedby="sdc-question-err"></textarea>' +
    '     <p class="err" id="sdc-question-err"></p></div>' +
    '    <button type="submit" class="btn btn-primary btn-block start-btn" data-t="start"></button>' +
    '   </form>' +
    '   <div class="view chat-view" hidden>' +
    '    <div class="scroll">' +
    '     <div class="waiting-card" hidden>' +
    '      <p class="sr-line"></p><p class="position"></p><p class="agents"></p><p class="hint" data-t="waiting_hint"></p>' +
    '     </div>' +
    '     <ol class="log" role="log" aria-live="polite" aria-relevant="additions"></ol>' +
    '     <p class="typing" aria-hidden="true" hidden><span class="typing-dots"><i></i><i></i><i></i></span><span class="typing-text"></span></p>' +
    '     <div class="closed-card" hidden tabindex="-1">' +
    '      <p class="closed-text"></p>' +
    '      <form class="rate-form" novalidate>' +
    '       <fieldset><legend data-t="rate_q"></legend><div class="stars" role="radiogroup"></div></fieldset>' +
    '       <textarea class="rate-comment" rows="2" maxlength="2000" data-t-ph="comment_ph" data-t-aria="comment_ph"></textarea>' +
    '       <p class="err rate-err"></p>' +
    '       <button type="submit" class="btn btn-primary rate-send" data-t="rate_send"></button>' +
    '      </form>' +
    '      <p class="rated" hidden data-t="rated"></p>' +
    '      <div class="after-actions">' +
    '       <button type="button" class="btn transcript-btn" data-t="transcript"></button>' +
    '       <p class="transcript-done" hidden></p><p class="err transcript-err"></p>' +
    '       <button type="button" class="btn btn-link new-chat-btn" data-t="new_chat"></button>' +
    '      </div>' +
    '     </div>' +
    '    </div>' +
    '    <form class="composer" novalidate>' +
    '     <p class="composer-error" id="sdc-composer-err" role="alert"></p>' +
    '     <div class="composer-row">' +
    '      <textarea class="composer-input" rows="1" data-t-ph="composer_ph" data-t-aria="composer_ph" aria-describedby="sdc-composer-err"></textarea>' +
    '      <button type="submit" class="send-btn" data-t-aria="send">' + ICONS.send + '</button>' +
    '     </div>' +
    '     <p class="counter" aria-hidden="true"></p>' +
    '    </form>' +
    '   </div>' +
    '  </div>' +
    '  <div class="sr-only announcer" aria-live="polite" aria-atomic="true"></div>' +
    ' </section>' +
    ' <button type="button" class="launcher" aria-expanded="false">' + ICONS.chat + ICONS.close +
    '  <span class="badge" hidden></span></button>' +
    ' <button type="button" class="preview" hidden><span class="preview-who"></span><span class="preview-body"></span></button>' +
    '</div>';

  // A constructed style sheet is not an inline <style>, so a host page's strict
  // Content-Security-Policy (no 'unsafe-inline' styles) does not strip the widget's looks.
  if ("adoptedStyleSheets" in root && window.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(widgetStyles());
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = widgetStyles();
    root.insertBefore(style, root.firstChild);
  }

  function $(selector) { return root.querySelector(selector); }
  var ui = {
    widget: $(".sdc"), panel: $(".panel"), launcher: $(".launcher"), badge: $(".badge"),
    title: $(".title"), avatar: $(".avatar"), avatarText: $(".avatar-text"), subtitle: $(".subtitle-text"), endBtn: $(".end-btn"), minBtn: $(".min-btn"),
    confirm: $(".confirm"), confirmYes: $(".confirm-yes"), confirmNo: $(".confirm-no"),
    banner: $(".banner"), form: $(".form-view"), intro: $(".intro"), formError: $(".form-error"),
    startBtn: $(".start-btn"), queueSelect: $("#sdc-queue"), topicField: $(".topic-field"),
    chat: $(".chat-view"), scroll: $(".scroll"), waiting: $(".waiting-card"),
    srLine: $(".sr-line"), position: $(".position"), agents: $(".agents"), log: $(".log"),
    typing: $(".typing"), typingText: $(".typing-text"), closed: $(".closed-card"),
    closedText: $(".closed-text"), rateForm: $(".rate-form"), stars: $(".stars"),
    rateComment: $(".rate-comment"), rateErr: $(".rate-err"), rated: $(".rated"),
    transcriptBtn: $(".transcript-btn"), transcriptDone: $(".transcript-done"),
    transcriptErr: $(".transcript-err"), newChatBtn: $(".new-chat-btn"), composer: $(".composer"),
    input: $(".composer-input"), sendBtn: $(".send-btn"), composerError: $(".composer-error"),
    counter: $(".counter"), announcer: $(".announcer"), preview: $(".preview"),
    previewWho: $(".preview-who"), previewBody: $(".preview-body")
  };

  Array.prototype.forEach.call(root.querySelectorAll("[data-t]"), function (el) {
    el.textContent = t(el.getAttribute("data-t"));
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-t-aria]"), function (el) {
    el.setAttribute("aria-label", t(el.getAttribute("data-t-aria")));
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-t-ph]"), function (el) {
    el.setAttribute("placeholder", t(el.getAttribute("data-t-ph")));
  });
  ui.title.textContent = data.title || t("title");
  ui.intro.textContent = data.greeting || t("intro");
  ui.launcher.setAttribute("aria-label", t("launcher"));
  ui.launcher.setAttribute("aria-controls", "sdc-panel");
  ui.panel.id = "sdc-panel";
  if (data.position === "left") ui.widget.classList.add("left");
  applyColor(data.color);
  buildStars();

  function applyColor(color) {
    if (!color || !(window.CSS && CSS.supports("color", color))) return;
    ui.widget.style.setProperty("--accent", color);
    var probe = document.createElement("span");
    probe.style.color = color;
    root.appendChild(probe);
    var rgb = (getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || []).map(Number);
    root.removeChild(probe);
    if (rgb.length >= 3) {
      var lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
      ui.widget.style.setProperty("--on-accent", lum > 0.62 ? "#111827" : "#ffffff");
    }
  }

  function buildStars() {
    ui.stars.setAttribute("aria-label", t("rate_q"));
    for (var n = 1; n <= 5; n++) {
      var star = document.createElement("button");
      star.type = "button";
      star.className = "star";
      star.setAttribute("role", "radio");
      star.setAttribute("aria-checked", "false");
      star.setAttribute("aria-label", t("rate_star", { n: n }));
      star.tabIndex = n === 1 ? 0 : -1;
      star.dataset.value = String(n);
      star.innerHTML = ICONS.star; // static icon
      ui.stars.appendChild(star);
    }
  }

  // ---------------------------------------------------------------- panel open/close
  function setOpen(open, focus) {
    store.open = open;
    save();
    ui.panel.hidden = !open;
    ui.widget.classList.toggle("open", open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      if (store.token && !state.socket) connect();
      ui.preview.hidden = true;
      state.unread = 0;
      updateBadges();
      if (focus) focusView();
      scrollToEnd();
    } else if (focus) {
      ui.launcher.focus();
    }
  }

  function focusView() {
    if (!ui.form.hidden) {
      var empty = Array.prototype.find.call(
        ui.form.querySelectorAll("input, textarea"), function (el) { return !el.value; });
      (empty || ui.form.querySelector("input")).focus();
    } else if (!ui.closed.hidden) {
      ui.closed.focus();
    } else {
      ui.input.focus();
    }
  }

  ui.launcher.addEventListener("click", function () {
    unlockAudio();
    setOpen(ui.panel.hidden, true);
  });
  ui.minBtn.addEventListener("click", function () { setOpen(false, true); });
  ui.preview.addEventListener("click", function () { setOpen(true, true); });
  ui.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (!ui.confirm.hidden) { hideConfirm(); return; }
      setOpen(false, true);
    }
  });

  // ---------------------------------------------------------------- views
  function show(view) {
    ui.widget.setAttribute("data-view", view);
    ui.form.hidden = view !== "form";
    ui.chat.hidden = view === "form";
    ui.composer.hidden = view !== "chat";
    ui.closed.hidden = view !== "closed";
    ui.endBtn.hidden = view !== "chat";
    if (view !== "chat") hideConfirm();
    renderHeader();
  }

  function renderHeader() {
    var view = ui.widget.getAttribute("data-view");
    var text = t("subtitle_form");
    var live = view === "chat" && store.status === "ACTIVE" && store.agent;
    if (view === "closed") text = t("subtitle_closed");
    else if (live) text = t("subtitle_agent", { queue: store.queue || t("title") });
    else if (view === "chat") text = t("subtitle_waiting");
    ui.title.textContent = live ? store.agent : (data.title || t("title"));
    ui.subtitle.textContent = text;
    ui.widget.setAttribute("data-status", store.status || "");
    var initials = view === "chat" && store.agent ? store.agent.split(/\s+/).map(function (w) {
      return w.charAt(0);
    }).join("").slice(0, 2).toUpperCase() : "";
    ui.avatarText.textContent = initials;
    ui.avatar.classList.toggle("has-initials", !!initials);
  }

  function announce(text) {
    ui.announcer.textContent = "";
    setTimeout(function () { ui.announcer.textContent = text; }, 50);
  }

  // ---------------------------------------------------------------- pre-chat form
  function fillTopics() {
    var select = ui.queueSelect;
    select.textContent = "";
    topics.forEach(function (topic) {
      var option = document.createElement("option");
      option.value = topic.queue;
      option.textContent = topic.label;
      select.appendChild(option);
    });
    ui.topicField.hidden = topics.length < 2;
  }

  function loadQueues() {
    if (topics.length) { fillTopics(); return; }
    fetch(SERVER + "/widget/queues", { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : { queues: [] }; })
      .then(function (body) {
        topics = (body.queues || []).map(function (q) { return { label: q.name, queue: q.name }; });
        fillTopics();
      })
      .catch(function () { fillTopics(); });
  }

  function fieldInput(name) { return ui.form.querySelector("[name=" + name + "]"); }

  function clearFormErrors() {
    ui.formError.hidden = true;
    ui.formError.textContent = "";
    Array.prototype.forEach.call(ui.form.querySelectorAll(".err"), function (p) { p.textContent = ""; });
    Array.prototype.forEach.call(ui.form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
  }

  function setFieldError(name, text) {
    var input = fieldInput(name);
    var err = root.getElementById("sdc-" + name + "-err");
    if (!input || !err || (name === "queue" && ui.topicField.hidden)) return false;
    input.setAttribute("aria-invalid", "true");
    err.textContent = text;
    return true;
  }

  function setFormError(text) {
    ui.formError.textContent = text;
    ui.formError.hidden = false;
  }

  function serverErrorText(body) {
    var code = body.error, field = body.field;
    if (code === "required") return t("required");
    if (code === "too_long" && field === "question") {
      return t("err_too_long", { n: fieldInput("question").value.trim().length, max: MAX_LENGTH });
    }
    if (field === "email" && code === "invalid") return t("err_email_invalid");
    if (field === "phone" && code === "invalid") return t("err_phone_invalid");
    if (field === "queue") return t("err_queue");
    return body.message || t("err_generic");
  }

  function validateForm(values) {
    var errors = {};
    ["name", "email", "question"].forEach(function (name) {
      if (!values[name]) errors[name] = t("required");
    });
    if (values.question.length > MAX_LENGTH) {
      errors.question = t("err_too_long", { n: values.question.length, max: MAX_LENGTH });
    }
    return errors;
  }

  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearFormErrors();
    var values = {
      name: fieldInput("name").value.trim(), email: fieldInput("email").value.trim(),
      phone: fieldInput("phone").value.trim(),
      queue: ui.queueSelect.value || (topics[0] && topics[0].queue) || "",
      question: fieldInput("question").value.trim()
    };
    var errors = validateForm(values);
    var names = Object.keys(errors);
    if (names.length) {
      names.forEach(function (name) { setFieldError(name, errors[name]); });
      fieldInput(names[0]).focus();
      return;
    }
    ui.startBtn.disabled = true;
    ui.startBtn.textContent = t("starting");
    fetch(SERVER + "/api/chat-requests", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(values)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (result) {
      if (result.status === 201) {
        startChat(values, result.body);
        return;
      }
      if (result.status === 429) { setFormError(t("err_rate")); return; }
      var text = serverErrorText(result.body || {});
      if (result.body && result.body.field && setFieldError(result.body.field, text)) {
        fieldInput(result.body.field).focus();
      } else {
        setFormError(text);
      }
    }).catch(function () {
      setFormError(t("err_network"));
    }).then(function () {
      ui.startBtn.disabled = false;
      ui.startBtn.textContent = t("start");
    });
  });

  function queueName(queue) {
    if (queue && typeof queue === "object") return queue.name || "";
    return queue ? String(queue) : "";
  }

  function startChat(values, body) {
    store = {
      open: true, token: body.visitor_token, chatId: body.chat_id, sr: body.sr_number,
      queue: queueName(body.queue) || values.queue, name: values.name, email: values.email,
      phone: values.phone, status: "WAITING", position: body.position,
      agentsOnline: body.agents_online, agent: null, pending: []
    };
    save();
    fieldInput("question").value = "";
    state.lastId = 0;
    state.messages = {};
    ui.log.textContent = "";
    show("chat");
    renderWaiting();
    announce(t("sr_open", { sr: store.sr }) + " " + positionText());
    connect();
    ui.input.focus();
  }

  // ---------------------------------------------------------------- waiting card
  function positionText() {
    if (!store.position) return "";
    return store.position === 1 ? t("position_1") : t("position_n", { n: store.position });
  }

  function renderWaiting() {
    var waiting = store.status === "WAITING";
    ui.waiting.hidden = !waiting;
    ui.widget.setAttribute("data-status", store.status || "");
    if (!waiting) return;
    ui.srLine.textContent = t("sr_open", { sr: store.sr || "" });
    ui.position.textContent = positionText();
    var online = store.agentsOnline;
    ui.waiting.classList.toggle("nobody", online === 0);
    if (online === 0) {
      ui.agents.textContent = t("no_agents", {
        sr: store.sr || "", email: store.email ? t("no_agents_email", { email: store.email }) : ""
      });
    } else if (online > 0) {
      ui.agents.textContent = online === 1 ? t("agents_online_1") : t("agents_online_n", { n: online });
    } else {
      ui.agents.textContent = "";
    }
  }

  // ---------------------------------------------------------------- messages
  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date)) return "";
    var time = date.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
    if (date.toDateString() === new Date().toDateString()) return time;
    return date.toLocaleDateString(LANG, { day: "numeric", month: "short" }) + ", " + time;
  }

  function notice(text, kind) {
    var li = document.createElement("li");
    li.className = "notice" + (kind ? " notice-" + kind : "");
    li.textContent = text;
    ui.log.appendChild(li);
    scrollToEnd();
    return li;
  }

  function messageElement(role, name) {
    var li = document.createElement("li");
    var mine = role === "VISITOR";
    li.className = "msg " + (mine ? "mine" : role === "SYSTEM" ? "system" : "theirs");
    var meta = document.createElement("div");
    meta.className = "meta";
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = mine ? t("you") : name;
    var time = document.createElement("time");
    meta.appendChild(who);
    meta.appendChild(time);
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    li.appendChild(meta);
    li.appendChild(bubble);
    if (mine) {
      var status = document.createElement("div");
      status.className = "delivery";
      li.appendChild(status);
    }
    var prev = ui.log.lastElementChild;
    if (prev && prev.classList.contains("msg") && prev.getAttribute("data-role") === role &&
        prev.getAttribute("data-sender") === name) {
      li.classList.add("cont");
    }
    li.setAttribute("data-role", role);
    li.setAttribute("data-sender", name);
    return li;
  }

  function setDelivery(li, kind, item) {
    li.setAttribute("data-state", kind);
    var box = li.querySelector(".delivery");
    if (!box) return;
    box.textContent = "";
    if (kind === "sent") {
      box.textContent = "✓ " + t("sent");
    } else if (kind === "sending") {
      box.textContent = state.connection === "online" ? t("sending") : t("queued_offline");
    } else if (kind === "failed") {
      var why = document.createElement("span");
      why.textContent = (item && item.error ? item.error + " " : t("failed") + " ");
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "link retry";
      retry.textContent = t("retry");
      retry.addEventListener("click", function () {
        item.tries = 0;
        item.error = null;
        item.failed = false;
        save();
        setDelivery(li, "sending", item);
        sendPending(item);
      });
      box.appendChild(why);
      box.appendChild(retry);
    }
  }

  function renderMessage(message) {
    if (!message || message.id == null) return;
    if (state.messages[message.id]) return;
    var pendingLi = message.client_id && message.sender.role === "VISITOR" ? ui.log.querySelector(
      'li.mine[data-client-id="' + cssEscape(message.client_id) + '"]:not([data-id])') : null;
    var li = pendingLi || messageElement(message.sender.role, message.sender.name);
    li.setAttribute("data-id", String(message.id));
    if (message.client_id) li.setAttribute("data-client-id", message.client_id);
    li.querySelector(".bubble").textContent = message.body;
    var time = li.querySelector("time");
    time.setAttribute("datetime", message.sent_at);
    time.title = new Date(message.sent_at).toLocaleString(LANG);
    time.textContent = formatTime(message.sent_at);
    if (message.sender.role === "VISITOR") setDelivery(li, "sent");
    if (!pendingLi) insertInOrder(li, message.id);
    markLatestMine();
    state.messages[message.id] = li;
    state.lastId = Math.max(state.lastId, message.id);
    dropPending(message.client_id);
    scrollToEnd();
  }

  function insertInOrder(li, id) {
    // Messages that the server stored come before local unsent ones, in id order.
    var children = ui.log.children;
    for (var i = 0; i < children.length; i++) {
      var other = children[i];
      var otherId = Number(other.getAttribute("data-id"));
      var pending = other.classList.contains("msg") && !other.hasAttribute("data-id");
      if (pending || (otherId && otherId > id)) {
        ui.log.insertBefore(li, other);
        return;
      }
    }
    ui.log.appendChild(li);
  }

  function markLatestMine() {
    // "Delivered" under the latest own message only (like any messenger); problems under each.
    var own = ui.log.querySelectorAll(".msg.mine");
    Array.prototype.forEach.call(own, function (li, index) {
      li.classList.toggle("latest", index === own.length - 1);
    });
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
  }

  function scrollToEnd() {
    requestAnimationFrame(function () { ui.scroll.scrollTop = ui.scroll.scrollHeight; });
  }

  // ---------------------------------------------------------------- sending
  function newClientId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "w-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function dropPending(clientId) {
    if (!clientId || !store.pending) return;
    var before = store.pending.length;
    store.pending = store.pending.filter(function (item) { return item.client_id !== clientId; });
    if (store.pending.length !== before) save();
  }

  function showPending(item) {
    var li = messageElement("VISITOR", store.name || "");
    li.setAttribute("data-client-id", item.client_id);
    li.querySelector(".bubble").textContent = item.body;
    ui.log.appendChild(li);
    setDelivery(li, item.failed ? "failed" : "sending", item);
    markLatestMine();
    scrollToEnd();
    return li;
  }

  function pendingElement(item) {
    return ui.log.querySelector('li[data-client-id="' + cssEscape(item.client_id) + '"]');
  }

  function sendPending(item) {
    var socket = state.socket;
    if (!socket || !socket.connected || item.failed) return;
    item.tries = (item.tries || 0) + 1;
    save();
    socket.timeout(10000).emit("send", { chat_id: store.chatId, body: item.body, client_id: item.client_id },
      function (err, ack) {
        var li = pendingElement(item);
        if (err) {
          // No acknowledgement: re-sent once with the same client id (the server de-duplicates).
          if (item.tries < 2 && state.socket && state.socket.connected) sendPending(item);
          else if (item.tries >= 2) failPending(item, null, li);
          return;
        }
        if (ack && ack.ok) {
          renderMessage(ack.message);
          return;
        }
        failPending(item, ack && (ack.error === "too_long" ? t("too_long", {
          n: item.body.length, max: MAX_LENGTH }) : ack.message), li);
      });
  }

  function failPending(item, text, li) {
    item.failed = true;
    item.error = text || null;
    save();
    if (li) setDelivery(li, "failed", item);
  }

  function resendAfterConnect() {
    (store.pending || []).forEach(function (item) {
      if (item.failed) return;
      var li = pendingElement(item) || showPending(item);
      if ((item.tries || 0) >= 2) { failPending(item, null, li); return; }
      setDelivery(li, "sending", item);
      sendPending(item);
    });
  }

  function updateCounter() {
    var length = ui.input.value.length;
    var over = length > MAX_LENGTH;
    ui.counter.textContent = length > MAX_LENGTH * 0.8 ? length + " / " + MAX_LENGTH : "";
    ui.counter.classList.toggle("over", over);
    ui.composerError.textContent = over ? t("too_long", { n: length, max: MAX_LENGTH }) : "";
    if (over) ui.input.setAttribute("aria-invalid", "true");
    else ui.input.removeAttribute("aria-invalid");
    ui.sendBtn.disabled = over;
    ui.sendBtn.setAttribute("aria-disabled", String(over));
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
  }

  ui.composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = ui.input.value.trim();
    if (!body) return;
    if (body.length > MAX_LENGTH) { updateCounter(); ui.input.focus(); return; }
    var item = { client_id: newClientId(), body: body, tries: 0 };
    store.pending = (store.pending || []).concat([item]);
    save();
    ui.input.value = "";
    autoGrow();
    updateCounter();
    stopTyping();
    showPending(item);
    sendPending(item);
    ui.input.focus();
  });

  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.composer.requestSubmit ? ui.composer.requestSubmit() : ui.sendBtn.click();
    }
  });

  ui.input.addEventListener("input", function () {
    autoGrow();
    updateCounter();
    if (ui.input.value.trim()) startTyping();
    else stopTyping();
  });

  // ---------------------------------------------------------------- typing
  function emitTyping(on) {
    if (state.socket && state.socket.connected && store.chatId) {
      state.socket.emit("typing", { chat_id: store.chatId, typing: on });
    }
  }

  function startTyping() {
    var now = Date.now();
    if (now - state.typingSentAt > 2500) {
      state.typingSentAt = now;
      emitTyping(true);
    }
    clearTimeout(state.typingStopTimer);
    state.typingStopTimer = setTimeout(stopTyping, 4000);
  }

  function stopTyping() {
    clearTimeout(state.typingStopTimer);
    if (state.typingSentAt) {
      state.typingSentAt = 0;
      emitTyping(false);
    }
  }

  function showTyping(event) {
    if (!event || event.role === "VISITOR") return;
    clearTimeout(state.typingTimer);
    ui.typing.hidden = !event.typing;
    if (event.typing) {
      ui.typingText.textContent = t("typing", { name: event.name || store.agent || "" });
      state.typingTimer = setTimeout(function () { ui.typing.hidden = true; }, 8000);
      scrollToEnd();
    }
  }

  // ---------------------------------------------------------------- closing, rating, transcript
  function showConfirm() {
    ui.confirm.hidden = false;
    ui.confirmYes.focus();
  }

  function hideConfirm() {
    if (ui.confirm.hidden) return;
    ui.confirm.hidden = true;
    if (ui.widget.getAttribute("data-view") === "chat") ui.endBtn.focus();
  }

  ui.endBtn.addEventListener("click", showConfirm);
  ui.confirmNo.addEventListener("click", hideConfirm);
  ui.confirmYes.addEventListener("click", function () {
    ui.confirm.hidden = true;
    if (!state.socket || !state.socket.connected) return;
    state.socket.timeout(10000).emit("close", { chat_id: store.chatId }, function (err, ack) {
      if (!err && ack && ack.ok) chatClosed({ closed_by: "VISITOR" });
    });
  });

  function closedText(event) {
    if (store.status === "ABANDONED") return t("closed_abandoned", { sr: store.sr || "" });
    var by = event.closed_by || store.closedBy;
    if (by === "VISITOR") return t("closed_by_visitor");
    if (by === "AGENT") return t("closed_by_agent", { agent: store.agent || t("title") });
    return event.reason || store.closeReason || t("closed_by_system");
  }

  function chatClosed(event) {
    var already = ui.widget.getAttribute("data-view") === "closed";
    if (store.status !== "ABANDONED") store.status = "CLOSED";
    store.closedBy = event.closed_by || store.closedBy;
    store.closeReason = event.reason || store.closeReason;
    save();
    ui.typing.hidden = true;
    renderWaiting();
    show("closed");
    ui.closedText.textContent = closedText(event);
    renderAfterChat();
    if (!already) {
      announce(ui.closedText.textContent);
      // Focus was on a control that is now gone: move it to the card, never steal it from the page.
      var focused = root.activeElement;
      if (!ui.panel.hidden && (focused === ui.input || focused === ui.confirmYes ||
          focused === ui.endBtn || focused === ui.sendBtn)) ui.closed.focus();
    }
    scrollToEnd();
  }

  function renderAfterChat() {
    // An abandoned chat (nobody joined) has nothing to rate; the server would refuse it.
    ui.rateForm.hidden = !!store.rated || store.status === "ABANDONED";
    ui.rated.hidden = !store.rated;
    ui.transcriptBtn.hidden = !!store.transcriptSent || !store.email;
    ui.transcriptDone.hidden = !store.transcriptSent;
    ui.transcriptDone.textContent = t("transcript_sent", { email: store.email || "" });
  }

  function selectStar(value, focus) {
    Array.prototype.forEach.call(ui.stars.children, function (star) {
      var n = Number(star.dataset.value);
      star.setAttribute("aria-checked", String(n === value));
      star.classList.toggle("on", n <= value);
      star.tabIndex = n === (value || 1) ? 0 : -1;
      if (focus && n === value) star.focus();
    });
    ui.stars.dataset.value = String(value);
  }

  ui.stars.addEventListener("click", function (event) {
    var star = event.target.closest(".star");
    if (star) selectStar(Number(star.dataset.value), true);
  });
  ui.stars.addEventListener("keydown", function (event) {
    var current = Number(ui.stars.dataset.value || 0);
    if (event.key === "ArrowRight" || event.key === "ArrowUp") {
      event.preventDefault();
      selectStar(Math.min(5, current + 1), true);
    } else if (event.key === "ArrowLeft" || event.key === "ArrowDown") {
      event.preventDefault();
      selectStar(Math.max(1, current - 1), true);
    }
  });

  ui.rateForm.addEventListener("submit", function (event) {
    event.preventDefault();
    ui.rateErr.textContent = "";
    var rating = Number(ui.stars.dataset.value || 0);
    if (!rating) { ui.rateErr.textContent = t("required"); ui.stars.children[0].focus(); return; }
    withSocket(function (socket) {
      socket.timeout(10000).emit("rate", {
        chat_id: store.chatId, rating: rating, comment: ui.rateComment.value.trim()
      }, function (err, ack) {
        if (!err && ack && ack.ok) {
          store.rated = rating;
          save();
          renderAfterChat();
          announce(t("rated"));
          ui.rated.setAttribute("tabindex", "-1");
          ui.rated.focus();
        } else {
          ui.rateErr.textContent = (ack && ack.message) || t("err_generic");
        }
      });
    });
  });

  ui.transcriptBtn.addEventListener("click", function () {
    ui.transcriptErr.textContent = "";
    withSocket(function (socket) {
      socket.timeout(10000).emit("request_transcript", { chat_id: store.chatId }, function (err, ack) {
        if (!err && ack && ack.ok) {
          store.transcriptSent = true;
          save();
          renderAfterChat();
          announce(ui.transcriptDone.textContent);
        } else {
          ui.transcriptErr.textContent = (ack && ack.message) || t("err_generic");
        }
      });
    });
  });

  ui.newChatBtn.addEventListener("click", function () {
    disconnect();
    resetStore(true);
    freshForm();
  });

  function withSocket(fn) {
    if (state.socket && state.socket.connected) { fn(state.socket); return; }
    ui.rateErr.textContent = t("conn_reconnecting");
  }

  // ---------------------------------------------------------------- sound and badges
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || state.audio) return;
    try { state.audio = new Ctx(); } catch (e) { state.audio = null; }
  }

  function chime() {
    var ctx = state.audio;
    if (!ctx) return;
    try {
      if (ctx.state === "suspended") ctx.resume();
      [[880, 0], [1320, 0.12]].forEach(function (tone) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        var start = ctx.currentTime + tone[1];
        osc.frequency.value = tone[0];
        osc.type = "sine";
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start);
        osc.stop(start + 0.3);
      });
      ui.widget.setAttribute("data-chimes", String(Number(ui.widget.getAttribute("data-chimes") || 0) + 1));
    } catch (e) { /* no sound is not an error */ }
  }

  function attention(name, body) {
    var away = document.hidden || ui.panel.hidden;
    if (!away) return;
    if (ui.panel.hidden) {
      ui.previewWho.textContent = name || "";
      ui.previewBody.textContent = body || "";
      ui.preview.hidden = false;
    }
    state.unread += 1;
    updateBadges();
    chime();
    if (document.hidden) announce(t("new_message_from", { name: name }));
  }

  function updateBadges() {
    var n = state.unread;
    ui.badge.hidden = !(n > 0 && ui.panel.hidden);
    ui.badge.textContent = n > 9 ? "9+" : String(n);
    if (n > 0 && document.hidden) {
      if (state.titleBase === null) state.titleBase = document.title;
      document.title = "(" + n + ") " + state.titleBase;
    } else if (state.titleBase !== null) {
      document.title = state.titleBase;
      state.titleBase = null;
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !ui.panel.hidden) state.unread = 0;
    updateBadges();
  });
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  // ---------------------------------------------------------------- connection
  function setConnection(value) {
    state.connection = value;
    ui.widget.setAttribute("data-connection", value);
    clearTimeout(state.bannerTimer);
    if (value === "online" || value === "idle") {
      ui.banner.hidden = true;
      ui.banner.textContent = "";
    } else {
      // A short blip (a reload of the server, a proxy hiccup) is not worth a banner.
      state.bannerTimer = setTimeout(function () {
        ui.banner.hidden = false;
        ui.banner.className = "banner " + value;
        ui.banner.textContent = value === "offline" ? t("conn_offline") : t("conn_reconnecting");
      }, value === "offline" ? 0 : 1200);
    }
    Array.prototype.forEach.call(ui.log.querySelectorAll('li[data-state="sending"]'), function (li) {
      var box = li.querySelector(".delivery");
      if (box) box.textContent = value === "online" ? t("sending") : t("queued_offline");
    });
  }

  window.addEventListener("offline", function () { if (store.token) setConnection("offline"); });
  window.addEventListener("online", function () {
    if (store.token && state.connection === "offline") setConnection("reconnecting");
  });

  var ioLoading = null;
  function loadSocketIo() {
    if (ioLoading) return ioLoading;
    ioLoading = new Promise(function (resolve, reject) {
      var previous = window.io;
      var tag = document.createElement("script");
      tag.src = SERVER + "/vendor/socket.io.min.js";
      tag.async = true;
      tag.onload = function () {
        var io = window.io;
        // Give the host page its own `io` back (if it had one).
        if (previous !== undefined) window.io = previous;
        else { try { delete window.io; } catch (e) { window.io = undefined; } }
        io ? resolve(io) : reject(new Error("socket.io did not load"));
      };
      tag.onerror = function () { ioLoading = null; reject(new Error("socket.io did not load")); };
      (document.head || document.documentElement).appendChild(tag);
    });
    return ioLoading;
  }

  function connect() {
    if (!store.token) return;
    setConnection("connecting");
    loadSocketIo().then(function (io) {
      if (!store.token || state.socket) return;
      var socket = io(SERVER + "/chat", {
        transports: ["websocket", "polling"],
        withCredentials: false,
        reconnectionDelay: 500,
        reconnectionDelayMax: 5000,
        auth: function (cb) {
          var auth = { visitor_token: store.token };
          if (state.lastId) auth.last_message_id = state.lastId;
          cb(auth);
        }
      });
      state.socket = socket;
      bindSocket(socket);
    }).catch(function () {
      setConnection("reconnecting");
      setTimeout(connect, 3000);
    });
  }

  function disconnect() {
    if (state.socket) {
      state.socket.off();
      state.socket.disconnect();
      state.socket = null;
    }
    setConnection("idle");
  }

  function mine(event) { return event && Number(event.chat_id) === Number(store.chatId); }

  function bindSocket(socket) {
    socket.on("connect", function () {
      setConnection("online");
    });
    socket.on("disconnect", function (reason) {
      if (reason === "io client disconnect") return;
      setConnection(navigator.onLine === false ? "offline" : "reconnecting");
      // The server dropped us on purpose (restart, revoked token): try once more; a refusal
      // then ends in connect_error below.
      if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 1000);
    });
    var refusals = 0;
    socket.on("connect", function () { refusals = 0; });
    socket.on("connect_error", function (err) {
      setConnection(navigator.onLine === false ? "offline" : "reconnecting");
      if (socket.active) return;  // a network error: Socket.IO retries by itself
      var code = (err && err.data && err.data.error) || "";
      if (code === "bad_token" || code === "token_expired") {
        // The token is expired, revoked or forged: no access to the old chat, a fresh form.
        disconnect();
        resetStore(true);
        freshForm(code === "token_expired" ? t("expired") : t("token_invalid"));
        return;
      }
      // Refused for another reason (the desk's database is down, too many connections):
      // keep the chat and try again, waiting longer each time (up to half a minute).
      refusals += 1;
      setTimeout(function () { if (state.socket === socket) socket.connect(); },
        Math.min(30000, 1000 * Math.pow(2, refusals)));
    });
    socket.on("history", function (event) {
      if (!mine(event)) return;
      var messages = event.messages || [];
      messages.forEach(renderMessage);
      if (event.status === "ACTIVE" && !store.agent) {
        // An agent joined while this page was away: his name is on his messages.
        var last = messages.filter(function (m) { return m.sender.role === "AGENT"; }).pop();
        if (last) {
          store.agent = last.sender.name;
          notice(t("joined", { agent: store.agent }), "join");
        }
      }
      applyStatus(event.status);
      resendAfterConnect();
    });
    socket.on("message", function (message) {
      if (!mine(message)) return;
      var fresh = !state.messages[message.id];
      renderMessage(message);
      if (fresh && message.sender && message.sender.role !== "VISITOR") {
        showTyping({ role: message.sender.role, typing: false });
        attention(message.sender.name, message.body);
      }
    });
    socket.on("queue_position", function (event) {
      if (!mine(event)) return;
      var moved = event.position !== store.position;
      store.position = event.position;
      if (event.agents_online !== undefined) store.agentsOnline = event.agents_online;
      save();
      renderWaiting();
      if (moved && store.status === "WAITING") announce(positionText());
    });
    socket.on("agent_joined", function (event) {
      if (!mine(event)) return;
      var name = event.agent && typeof event.agent === "object" ? event.agent.name : event.agent;
      store.agent = name || store.agent;
      store.status = "ACTIVE";
      save();
      renderWaiting();
      renderHeader();
      notice(t("joined", { agent: store.agent }), "join");
      announce(t("joined", { agent: store.agent }));
      attention(store.agent, t("joined", { agent: store.agent }));
    });
    socket.on("typing", function (event) { if (mine(event)) showTyping(event); });
    socket.on("chat_closed", function (event) { if (mine(event)) chatClosed(event); });
    socket.on("chat_transferred", function (event) {
      if (!mine(event)) return;
      store.status = "WAITING";
      store.agent = null;
      store.queue = queueName(event.to_queue) || store.queue;
      save();
      renderWaiting();
      renderHeader();
      notice(t("transferred", { queue: store.queue }), "join");
    });
  }

  function applyStatus(status) {
    if (!status) return;
    if (status === "CLOSED" || status === "ABANDONED") {
      store.status = status;
      save();
      chatClosed({});
      return;
    }
    if (status === "WAITING") store.agent = null;  // e.g. transferred while away
    store.status = status;
    save();
    renderWaiting();
    renderHeader();
  }

  // ---------------------------------------------------------------- start
  function freshForm(message) {
    state.lastId = 0;
    state.messages = {};
    ui.log.textContent = "";
    ui.rateComment.value = "";
    selectStar(0);
    show("form");
    clearFormErrors();
    if (message) setFormError(message);
    ["name", "email", "phone"].forEach(function (name) {
      if (store[name] && !fieldInput(name).value) fieldInput(name).value = store[name];
    });
    if (!ui.panel.hidden) focusView();
  }

  function startFromStore() {
    if (store.token && store.chatId) {
      show(store.status === "CLOSED" || store.status === "ABANDONED" ? "closed" : "chat");
      renderWaiting();
      if (ui.widget.getAttribute("data-view") === "closed") {
        ui.closedText.textContent = closedText({});
        renderAfterChat();
      }
      (store.pending || []).forEach(showPending);
      // An ended chat needs the server only for its history, rating and transcript: connect
      // when the panel is open, not on every page view of the site.
      if (ui.widget.getAttribute("data-view") === "chat" || !ui.panel.hidden) connect();
    } else {
      freshForm();
    }
  }

  // Another tab of the same site started, ended or left a chat: follow it, so that this tab
  // never writes an old state over the new one.
  window.addEventListener("storage", function (event) {
    if (event.key !== STORE_KEY) return;
    var next = loadStore();
    var sameChat = next.token && next.token === store.token;
    next.open = !ui.panel.hidden;
    store = next;
    if (sameChat) {
      renderWaiting();
      renderHeader();
      if (ui.widget.getAttribute("data-view") === "closed") renderAfterChat();
      return;
    }
    disconnect();
    state.lastId = 0;
    state.messages = {};
    ui.log.textContent = "";
    startFromStore();
  });

  function boot() {
    document.body.appendChild(host);
    loadQueues();
    startFromStore();
    var open = store.open !== undefined ? store.open : data.open === "true";
    setOpen(!!open, false);
    window.ServiceDeskWidget = {
      open: function () { setOpen(true, true); },
      close: function () { setOpen(false, false); },
      version: 1
    };
  }

  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);

  // ---------------------------------------------------------------- styles
  function widgetStyles() {
    return [
      ":host{all:initial}",
      ".sdc{--accent:#2f6fed;--on-accent:#fff;--text:#1f2933;--muted:#6b7280;--line:#e5e9f0;",
      " --bg:#f6f8fb;--danger:#c93c3c;--radius:16px;",
      " font-family:'Inter','Segoe UI',system-ui,-apple-system,Roboto,Helvetica,Arial,sans-serif;",
      " font-size:14px;line-height:1.45;color:var(--text);-webkit-font-smoothing:antialiased}",
      ".sdc *,.sdc *::before,.sdc *::after{box-sizing:border-box}",
      "[hidden]{display:none!important}",
      ".sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
      "svg{width:22px;height:22px;display:block}",
      "button{font:inherit;cursor:pointer}",
      "button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,.closed-card:focus-visible{outline:2px solid var(--accent);outline-offset:2px}",
      // launcher
      ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;",
      " border:0;background:var(--accent);color:var(--on-accent);display:grid;place-items:center;",
      " box-shadow:0 8px 24px rgba(16,24,40,.22),0 2px 6px rgba(16,24,40,.12);transition:transform .15s ease}",
      ".launcher:hover{transform:scale(1.06)}",
      ".launcher svg{width:28px;height:28px;grid-area:1/1}",
      ".launcher svg+svg{display:none}",
      ".open .launcher svg{display:none}.open .launcher svg+svg{display:block}",
      ".left .launcher{right:auto;left:20px}",
      ".preview{position:fixed;right:20px;bottom:92px;z-index:2147483000;max-width:300px;text-align:left;",
      " display:flex;flex-direction:column;gap:2px;padding:12px 14px;border:1px solid var(--line);border-radius:14px 14px 4px 14px;",
      " background:#fff;color:var(--text);box-shadow:0 12px 32px rgba(16,24,40,.18);animation:sdc-in .18s ease-out}",
      ".left .preview{right:auto;left:20px;border-radius:14px 14px 14px 4px}",
      ".preview-who{font-size:12px;font-weight:700;color:#4b5563}",
      ".preview-body{font-size:13.5px;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;white-space:pre-wrap;overflow-wrap:anywhere}",
      ".badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;",
      " background:#e5484d;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;box-shadow:0 0 0 2px #fff}",
      // panel
      ".panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;height:min(640px,calc(100vh - 112px));",
      " display:flex;flex-direction:column;background:#fff;border-radius:var(--radius);overflow:hidden;",
      " box-shadow:0 24px 64px rgba(16,24,40,.22),0 4px 12px rgba(16,24,40,.08);animation:sdc-in .18s ease-out}",
      ".left .panel{right:auto;left:20px}",
      "@keyframes sdc-in{from{opacity:0;transform:translateY(12px) scale(.98)}to{opacity:1;transform:none}}",
      ".head{display:flex;align-items:center;gap:12px;padding:16px 14px 16px 18px;color:var(--on-accent);",
      " background-color:var(--accent);background-image:linear-gradient(135deg,var(--accent),color-mix(in srgb,var(--accent) 80%,#000))}",
      ".avatar{width:40px;height:40px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;flex:none}",
      ".avatar-text{font-weight:700;font-size:14px;letter-spacing:.5px}",
      ".avatar.has-initials svg,.avatar:not(.has-initials) .avatar-text{display:none}",
      ".head-text{flex:1;min-width:0}",
      ".title{margin:0;font-size:16px;font-weight:700;line-height:1.25;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
      ".subtitle{margin:2px 0 0;font-size:12.5px;opacity:.92;display:flex;align-items:center;gap:6px;white-space:nowrap;overflow:hidden}",
      ".subtitle-text{overflow:hidden;text-overflow:ellipsis}",
      ".dot{width:8px;height:8px;border-radius:50%;background:#9ca3af;flex:none;box-shadow:0 0 0 2px rgba(255,255,255,.35)}",
      "[data-connection=online] .dot,[data-view=form] .dot{background:#34d399}",
      "[data-connection=reconnecting] .dot,[data-connection=connecting] .dot{background:#fbbf24}",
      "[data-connection=offline] .dot{background:#f87171}",
      "[data-view=closed] .dot{background:#9ca3af}",
      ".icon-btn{border:0;background:transparent;color:inherit;width:34px;height:34px;border-radius:8px;display:grid;place-items:center;flex:none}",
      ".icon-btn:hover,.end-btn:hover{background:rgba(255,255,255,.16)}",
      ".end-btn{border:1px solid rgba(255,255,255,.45);background:transparent;color:inherit;border-radius:8px;padding:5px 10px;font-size:12.5px;font-weight:600;flex:none}",
      ".confirm{display:flex;align-items:center;gap:8px;flex-wrap:wrap;padding:10px 14px;background:#fff7ed;border-bottom:1px solid #fde3c4;font-size:13px}",
      ".confirm span{flex:1;font-weight:600}",
      ".banner{padding:8px 14px;font-size:12.5px;background:#fffbeb;color:#92400e;border-bottom:1px solid #fde68a}",
      ".banner.offline{background:#fef2f2;color:#991b1b;border-color:#fecaca}",
      ".body{flex:1;min-height:0;display:flex;flex-direction:column;background:var(--bg)}",
      ".view{flex:1;min-height:0}",
      // form
      ".form-view{overflow-y:auto;padding:18px 18px 20px;background:#fff}",
      ".intro{margin:0 0 14px;font-size:14.5px;color:var(--text)}",
      ".field{margin-bottom:12px}",
      "label{display:block;font-size:12.5px;font-weight:600;margin-bottom:5px;color:#374151}",
      ".opt{font-weight:400;color:var(--muted)}",
      "input,select,textarea{display:block;width:100%;font:inherit;font-size:14px;color:var(--text);background:#fff;",
      " border:1px solid #d5dbe3;border-radius:10px;padding:9px 11px;transition:border-color .12s,box-shadow .12s}",
      "textarea{resize:none}",
      "input:focus,select:focus,textarea:focus{outline:none;border-color:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 18%,transparent)}",
      "[aria-invalid=true]{border-color:var(--danger)}",
      ".err{margin:4px 0 0;font-size:12.5px;color:var(--danger);min-height:0}",
      ".err:empty{display:none}",
      ".form-error{margin:0 0 12px;padding:10px 12px;border-radius:10px;background:#fef2f2;color:#991b1b;font-size:13px}",
      ".btn{border:1px solid #d5dbe3;background:#fff;color:var(--text);border-radius:10px;padding:8px 14px;font-weight:600;font-size:13.5px}",
      ".btn:hover{border-color:#b8c2d0}",
      ".btn-primary{background:var(--accent);border-color:var(--accent);color:var(--on-accent)}",
      ".btn-primary:hover{filter:brightness(.95);border-color:var(--accent)}",
      ".btn-primary:disabled{opacity:.65;cursor:progress}",
      ".btn-danger{background:var(--danger);border-color:var(--danger);color:#fff}",
      ".btn-block{width:100%;padding:11px 14px;margin-top:4px;font-size:14.5px}",
      ".btn-link{border:0;background:none;color:var(--accent);padding:6px 0}",
      // chat
      ".chat-view{display:flex;flex-direction:column}",
      ".scroll{flex:1;min-height:0;overflow-y:auto;padding:14px 14px 8px;scroll-behavior:smooth}",
      ".waiting-card{background:#fff;border:1px solid var(--line);border-radius:12px;padding:12px 14px;margin-bottom:12px;",
      " border-left:4px solid var(--accent)}",
      ".waiting-card p{margin:0 0 4px}",
      ".sr-line{font-weight:700}",
      ".position{font-size:13.5px}",
      ".agents{font-size:12.5px;color:var(--muted)}",
      ".nobody .agents{color:#92400e;background:#fffbeb;border-radius:8px;padding:8px 10px;margin-top:6px!important}",
      ".hint{font-size:12px;color:var(--muted);margin-top:6px!important}",
      ".log{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:2px}",
      ".msg{display:flex;flex-direction:column;max-width:82%;margin-top:10px}",
      ".msg.cont{margin-top:3px}.msg.cont .who{display:none}",
      ".msg.mine{align-self:flex-end;align-items:flex-end}",
      ".msg.theirs,.msg.system{align-self:flex-start;align-items:flex-start}",
      ".meta{font-size:11.5px;color:var(--muted);margin:0 4px 3px;display:flex;gap:6px}",
      ".who{font-weight:600;color:#4b5563}",
      ".bubble{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}",
      ".mine .bubble{background:var(--accent);color:var(--on-accent);border-bottom-right-radius:5px}",
      ".theirs .bubble{background:#fff;border:1px solid var(--line);border-bottom-left-radius:5px}",
      ".system .bubble{background:#eef2f7;color:#374151;font-size:13px}",
      ".delivery{font-size:11px;color:var(--muted);margin:3px 4px 0}",
      ".msg[data-state=sent]:not(.latest) .delivery{display:none}",
      ".msg[data-state=failed] .bubble{opacity:.7}",
      ".msg[data-state=failed] .delivery{color:var(--danger)}",
      ".msg[data-state=sending] .bubble{opacity:.75}",
      ".link{border:0;background:none;color:var(--accent);text-decoration:underline;padding:0;font-size:inherit}",
      ".notice{align-self:center;text-align:center;font-size:12px;color:var(--muted);margin:12px 8px 2px;",
      " padding:4px 12px;background:#eef2f7;border-radius:999px;max-width:92%}",
      ".notice-end{background:#f3f4f6}",
      ".typing{display:flex;align-items:center;gap:8px;font-size:12px;color:var(--muted);margin:10px 4px 0}",
      ".typing-dots{display:inline-flex;gap:3px;background:#fff;border:1px solid var(--line);border-radius:12px;padding:7px 9px}",
      ".typing-dots i{width:5px;height:5px;border-radius:50%;background:#9ca3af;animation:sdc-blink 1.2s infinite}",
      ".typing-dots i:nth-child(2){animation-delay:.2s}.typing-dots i:nth-child(3){animation-delay:.4s}",
      "@keyframes sdc-blink{0%,60%,100%{opacity:.3;transform:none}30%{opacity:1;transform:translateY(-2px)}}",
      ".composer{background:#fff;border-top:1px solid var(--line);padding:10px 12px 12px}",
      ".composer-row{display:flex;align-items:flex-end;gap:8px}",
      ".composer-input{flex:1;max-height:140px;min-height:42px;border-radius:12px;padding:10px 12px}",
      ".send-btn{width:42px;height:42px;flex:none;border:0;border-radius:12px;background:var(--accent);color:var(--on-accent);display:grid;place-items:center}",
      ".send-btn svg{width:19px;height:19px}",
      ".send-btn:disabled{opacity:.4;cursor:not-allowed}",
      ".composer-error{margin:0 0 6px;font-size:12.5px;color:var(--danger)}",
      ".composer-error:empty,.counter:empty{display:none}",
      ".counter{margin:4px 2px 0;font-size:11.5px;color:var(--muted);text-align:right}",
      ".counter.over{color:var(--danger);font-weight:600}",
      // after the chat
      ".closed-card{background:#fff;border:1px solid var(--line);border-radius:12px;padding:14px 16px;margin:14px 0 6px}",
      ".closed-card:focus{outline:none}",
      ".closed-text{margin:0 0 10px;font-weight:600}",
      "fieldset{border:0;padding:0;margin:0 0 8px}",
      "legend{font-size:13px;color:#374151;margin-bottom:6px;padding:0}",
      ".stars{display:flex;gap:4px}",
      ".star{border:0;background:none;padding:2px;color:#d1d5db;border-radius:6px}",
      ".star svg{width:30px;height:30px}",
      ".star.on{color:#f5a524}",
      ".star:hover{color:#f7c062}.star.on,.star.on:hover{color:#f5a524}",
      ".rate-comment{margin:6px 0 8px}",
      ".rated{margin:0 0 8px;color:#047857;font-weight:600}",
      ".after-actions{display:flex;flex-direction:column;align-items:flex-start;gap:6px;margin-top:10px;padding-top:10px;border-top:1px solid var(--line)}",
      ".transcript-done{margin:0;font-size:13px;color:#047857}",
      // phones
      "@media (max-width:480px){",
      " .panel{inset:0;width:100%;height:100%;border-radius:0;animation:none}",
      " .open .launcher{display:none}",
      " input,select,textarea{font-size:16px}",
      "}",
      "@media (prefers-reduced-motion:reduce){.panel{animation:none}.typing-dots i{animation:none}.scroll{scroll-behavior:auto}}"
    ].join("\n");
  }
})();
