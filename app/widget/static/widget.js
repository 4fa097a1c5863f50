/*
 * Service Desk Chat: the end-user widget. One script tag on any site:
 *
 *   <script src="https://desk.example.com/widget.js" data-queue="Software" async></script>
 *
 * Optional data attributes: data-topics ("Label=Queue, Label=Queue" or "Queue, Queue"),
 * data-color (any CSS colour), data-greeting, data-title, data-lang (en, de), data-position
 * (right, left), data-open ("true": start opened).
 *
 * A site whose visitors are signed in vouches for them: data-identity-email,
 * data-identity-name and data-identity-hash (HMAC-SHA256 of the e-mail with the desk's
 * WIDGET_IDENTITY_SECRET, computed by the site's back end), or
 * ServiceDeskChat.identify({email, name, hash}). Such a visitor's chat is verified, and he may
 * chat about one of his open service requests.
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
  // Every text the widget shows, per language (strings.json, filled in when served).
  var STRINGS = /*@STRINGS@*/{};
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
    socket: null, connection: "idle", lastId: 0, lastSeq: 0, seqs: {}, contiguous: 0,
    fetching: false, fetchAgain: false,
    messages: {}, typingTimer: null,
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
    clip: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5l-8 8a2 2 0 002.8 2.8l8.4-8.4a4 4 0 00-5.6-5.6L5.6 11.8a6 6 0 008.5 8.5l6.4-6.4" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>',
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
    '    <p class="who-line" hidden><span class="verified-mark" aria-hidden="true">✓</span><span class="who-text"></span></p>' +
    '    <div class="field name-field"><label for="sdc-name" data-t="name"></label>' +
    '     <input id="sdc-name" name="name" autocomplete="name" maxlength="120" aria-describedby="sdc-name-err">' +
    '     <p class="err" id="sdc-name-err"></p></div>' +
    '    <div class="field email-field"><label for="sdc-email" data-t="email"></label>' +
    '     <input id="sdc-email" name="email" type="email" autocomplete="email" maxlength="254" aria-describedby="sdc-email-err">' +
    '     <p class="err" id="sdc-email-err"></p></div>' +
    '    <div class="field"><label for="sdc-phone"><span data-t="phone"></span> <span class="opt" data-t="optional"></span></label>' +
    '     <input id="sdc-phone" name="phone" type="tel" autocomplete="tel" maxlength="40" aria-describedby="sdc-phone-err">' +
    '     <p class="err" id="sdc-phone-err"></p></div>' +
    '    <div class="field about-field" hidden><label for="sdc-sr_number" data-t="about"></label>' +
    '     <select id="sdc-sr_number" name="sr_number" aria-describedby="sdc-sr_number-err"></select>' +
    '     <p class="err" id="sdc-sr_number-err"></p></div>' +
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
    '     <ul class="tray" hidden></ul>' +
    '     <div class="composer-row">' +
    '      <button type="button" class="attach-btn" data-t-aria="attach">' + ICONS.clip + '</button>' +
    '      <input type="file" class="file-input" multiple hidden>' +
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
    whoLine: $(".who-line"), whoText: $(".who-text"), nameField: $(".name-field"),
    emailField: $(".email-field"), aboutField: $(".about-field"), aboutSelect: $("#sdc-sr_number"),
    chat: $(".chat-view"), scroll: $(".scroll"), waiting: $(".waiting-card"),
    srLine: $(".sr-line"), position: $(".position"), agents: $(".agents"), log: $(".log"),
    typing: $(".typing"), typingText: $(".typing-text"), closed: $(".closed-card"),
    closedText: $(".closed-text"), rateForm: $(".rate-form"), stars: $(".stars"),
    rateComment: $(".rate-comment"), rateErr: $(".rate-err"), rated: $(".rated"),
    transcriptBtn: $(".transcript-btn"), transcriptDone: $(".transcript-done"),
    transcriptErr: $(".transcript-err"), newChatBtn: $(".new-chat-btn"), composer: $(".composer"),
    input: $(".composer-input"), sendBtn: $(".send-btn"), composerError: $(".composer-error"),
    counter: $(".counter"), tray: $(".tray"), attachBtn: $(".attach-btn"), fileInput: $(".file-input"),
    announcer: $(".announcer"), preview: $(".preview"),
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
    if (code === "not_verified") return t("err_not_verified");
    if (code === "unknown_sr") return t("err_unknown_sr");
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
    if (identity) {
      values.email = identity.email;
      if (identity.name) values.name = identity.name;
      values.identity_hash = identity.hash;
      if (ui.aboutSelect.value) values.sr_number = ui.aboutSelect.value;
    }
    var errors = validateForm(values);
    var context = pageContext();
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
      body: JSON.stringify(context ? Object.assign({ context: context }, values) : values)
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
      if (result.status === 404 && result.body && result.body.error === "unknown_sr") loadMyRequests();
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

  // Where the end user asks from, for the agent: this page, where he came from, his
  // language and time zone (the server reads browser and OS from the request itself).
  function pageContext() {
    if (!/^https?:$/.test(location.protocol)) return null;
    var context = { page_url: location.href.slice(0, 2000), page_title: (document.title || "").slice(0, 300) };
    if (/^https?:/.test(document.referrer)) context.referrer = document.referrer.slice(0, 2000);
    if (navigator.language) context.language = navigator.language;
    try { context.time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* none */ }
    if (!context.page_title) delete context.page_title;
    return context;
  }

  function queueName(queue) {
    if (queue && typeof queue === "object") return queue.name || "";
    return queue ? String(queue) : "";
  }

  function startChat(values, body) {
    store = {
      open: true, token: body.visitor_token, chatId: body.chat_id, sr: body.sr_number,
      queue: queueName(body.queue) || values.queue, name: values.name, email: values.email,
      phone: values.phone, status: "WAITING", position: body.position,
      agentsOnline: body.agents_online, agentsAvailable: body.agents_available,
      agent: null, pending: []
    };
    save();
    fieldInput("question").value = "";
    state.lastId = 0;
    state.lastSeq = 0;
    state.seqs = {};
    state.contiguous = 0;
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
    // Agents available with a free seat (a server before availability sends only those
    // online): "no agent available" follows who can take the chat, not open consoles.
    var free = store.agentsAvailable !== undefined ? store.agentsAvailable : store.agentsOnline;
    ui.waiting.classList.toggle("nobody", free === 0);
    ui.waiting.setAttribute("data-agents-available", free === undefined ? "" : String(free));
    if (free === 0) {
      ui.agents.textContent = t("no_agents", {
        sr: store.sr || "", email: store.email ? t("no_agents_email", { email: store.email }) : ""
      });
    } else if (free > 0) {
      ui.agents.textContent = free === 1 ? t("agents_available_1") : t("agents_available_n", { n: free });
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

  // The desk's own lines in the widget's language, when it knows their kind (else the body).
  function noticeText(message) {
    var notice = message.sender.role === "SYSTEM" && message.notice;
    if (!notice) return null;
    if (notice.kind === "transferred") return t("notice_transferred", notice);
    if (notice.kind === "handed_over") return t("notice_handed_over", notice);
    if (notice.kind === "supervisor_joined") return t("notice_supervisor_joined", notice);
    return null;
  }

  function renderMessage(message) {
    if (!message || message.id == null) return;
    if (state.messages[message.id]) return;
    var pendingLi = message.client_id && message.sender.role === "VISITOR" ? ui.log.querySelector(
      'li.mine[data-client-id="' + cssEscape(message.client_id) + '"]:not([data-id])') : null;
    var li = pendingLi || messageElement(message.sender.role, message.sender.name);
    li.setAttribute("data-id", String(message.id));
    if (message.client_id) li.setAttribute("data-client-id", message.client_id);
    var text = noticeText(message) || message.body;
    li.querySelector(".bubble").textContent = text;
    li.querySelector(".bubble").hidden = !text;
    showFiles(li, message.attachments);
    var time = li.querySelector("time");
    time.setAttribute("datetime", message.sent_at);
    time.title = new Date(message.sent_at).toLocaleString(LANG);
    time.textContent = formatTime(message.sent_at);
    if (message.sender.role === "VISITOR") setDelivery(li, "sent");
    if (!pendingLi) insertInOrder(li, message.id);
    markLatestMine();
    state.messages[message.id] = li;
    state.lastId = Math.max(state.lastId, message.id);
    if (message.seq) {
      state.lastSeq = Math.max(state.lastSeq, message.seq);
      state.seqs[message.seq] = true;
      while (state.seqs[state.contiguous + 1]) state.contiguous += 1;
    }
    dropPending(message.client_id);
    scrollToEnd();
  }

  // ---------------------------------------------------------------- catching up
  // Every message of a chat has a seq (1, 2, 3, ...): one that comes after a gap, a history
  // page with more to follow or behind the chat's last seq, or the server's resync (its
  // message queue came back, or it saw this chat fall behind) make the widget fetch what it
  // misses, page by page, after the last seq up to which it holds every message.
  function behind(seq) { return seq && seq > state.contiguous + 1; }

  function fetchMissing() {
    var socket = state.socket;
    if (!socket || !socket.connected || !store.chatId) return;
    if (state.fetching) { state.fetchAgain = true; return; }
    state.fetching = true;
    state.fetchAgain = false;
    var payload = { chat_id: store.chatId, after_seq: state.contiguous };
    socket.timeout(10000).emit("history", payload, function (err, page) {
      state.fetching = false;
      if (!err && page && page.ok) {
        var got = (page.messages || []).length;
        (page.messages || []).forEach(renderMessage);
        applyStatus(page.status);
        if (got && (page.more || Math.max(page.last_seq || 0, state.lastSeq) > state.contiguous)) {
          state.fetchAgain = true;
        }
      } else {
        // No answer: the next connection tries again; too many requests: in a moment.
        if (err) return;
        state.fetchAgain = false;
        setTimeout(fetchMissing, 1500);
        return;
      }
      if (state.fetchAgain) fetchMissing();
    });
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
    li.querySelector(".bubble").hidden = !item.body;
    showFiles(li, item.files);
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
    var payload = { chat_id: store.chatId, body: item.body, client_id: item.client_id };
    if (item.files && item.files.length) payload.attachment_ids = item.files.map(function (f) { return f.id; });
    socket.timeout(10000).emit("send", payload,
      function (err, ack) {
        var li = pendingElement(item);
        if (err) {
          // No acknowledgement: re-sent once with the same client id (the server de-duplicates).
          if (item.tries < 2 && state.socket && state.socket.connected) sendPending(item);
          else if (item.tries >= 2) failPending(item, null, li);
          return;
        }
        if (ack && ack.ok) {
          var gap = behind(ack.message.seq);
          renderMessage(ack.message);
          if (gap) fetchMissing();
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
    if (uploadsBusy()) { ui.composerError.textContent = t("wait_uploads"); return; }
    var files = storedFiles();
    if (!body && !files.length) return;
    if (body.length > MAX_LENGTH) { updateCounter(); ui.input.focus(); return; }
    var item = { client_id: newClientId(), body: body, tries: 0, files: files };
    clearTray();
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

  // ---------------------------------------------------------------- files
  // Uploaded with the visitor token (never a cookie), one request per file with its progress;
  // a failed upload can be retried or removed; the message goes once every file is stored.
  var MAX_FILE_BYTES = SERVER_CONFIG.maxFileBytes || 10000000;
  var uploads = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function humanSize(size) {
    if (size < 1000) return size + " B";
    if (size < 1000000) return Math.round(size / 1000) + " kB";
    return (size / 1000000).toFixed(1) + " MB";
  }

  function addFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      var item = { file: file, state: "uploading", progress: 0, stored: null, error: null, li: el("li", "tray-item") };
      uploads.push(item);
      ui.tray.appendChild(item.li);
      if (file.size > MAX_FILE_BYTES) {
        item.state = "failed";
        item.error = t("file_too_large", { name: file.name, max: humanSize(MAX_FILE_BYTES) });
        drawUpload(item);
      } else {
        upload(item);
      }
    });
    ui.tray.hidden = uploads.length === 0;
    ui.composerError.textContent = "";
  }

  function upload(item) {
    item.state = "uploading";
    item.progress = 0;
    drawUpload(item);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", SERVER + "/api/chats/" + encodeURIComponent(store.chatId) + "/attachments");
    xhr.setRequestHeader("Authorization", "Bearer " + store.token);
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { item.progress = event.loaded / event.total; drawUpload(item); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201) { item.state = "stored"; item.stored = body; }
      else { item.state = "failed"; item.error = body.message || t("upload_failed"); }
      drawUpload(item);
    };
    xhr.onerror = function () { item.state = "failed"; item.error = t("upload_failed"); drawUpload(item); };
    var form = new FormData();
    form.append("file", item.file, item.file.name);
    xhr.send(form);
  }

  function drawUpload(item) {
    var li = item.li;
    li.textContent = "";
    li.setAttribute("data-state", item.state);
    li.appendChild(el("span", "tray-name", item.file.name));
    var status = item.state === "uploading" ? t("uploading", { p: Math.round(item.progress * 100) })
      : item.state === "stored" ? humanSize(item.stored.size) : item.error;
    li.appendChild(el("span", "tray-status", status));
    if (item.state === "uploading") {
      var bar = el("progress");
      bar.max = 1;
      bar.value = item.progress;
      li.appendChild(bar);
    }
    if (item.state === "failed" && item.file.size <= MAX_FILE_BYTES) {
      var retry = el("button", "link retry", t("retry"));
      retry.type = "button";
      retry.addEventListener("click", function () { upload(item); });
      li.appendChild(retry);
    }
    var remove = el("button", "tray-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", t("remove_file", { name: item.file.name }));
    remove.addEventListener("click", function () {
      uploads = uploads.filter(function (other) { return other !== item; });
      li.remove();
      ui.tray.hidden = uploads.length === 0;
    });
    li.appendChild(remove);
  }

  function uploadsBusy() { return uploads.some(function (item) { return item.state !== "stored"; }); }

  function storedFiles() {
    return uploads.map(function (item) { return item.stored; }).filter(Boolean).map(function (f) {
      return { id: f.id, name: f.name, size: f.size, content_type: f.content_type, url: f.url,
        thumbnail_url: f.thumbnail_url, width: f.width, height: f.height };
    });
  }

  function clearTray() {
    uploads = [];
    ui.tray.textContent = "";
    ui.tray.hidden = true;
  }

  // Files are fetched with the visitor token and shown from memory: a link alone opens
  // nothing, and the host page's cookies never go to the desk.
  function fetchFile(url) {
    return fetch(SERVER + url, { headers: { Authorization: "Bearer " + store.token }, credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.blob();
      });
  }

  function showFiles(li, files) {
    var box = li.querySelector(".files");
    if (box) box.remove();
    if (!files || !files.length) return;
    box = el("div", "files");
    files.forEach(function (file) {
      if (file.thumbnail_url) {
        var link = el("button", "file-image");
        link.type = "button";
        link.setAttribute("aria-label", t("open_image", { name: file.name }));
        var img = el("img");
        img.alt = file.name;
        if (file.width && file.height) {
          var scale = Math.min(1, 200 / Math.max(file.width, file.height));
          img.width = Math.round(file.width * scale);
          img.height = Math.round(file.height * scale);
        }
        fetchFile(file.thumbnail_url).then(function (blob) { img.src = URL.createObjectURL(blob); })
          .catch(function () { img.alt = file.name + " (" + t("upload_failed") + ")"; });
        link.appendChild(img);
        link.addEventListener("click", function () { openFile(file, false); });
        box.appendChild(link);
      } else {
        var chip = el("button", "file-chip");
        chip.type = "button";
        chip.setAttribute("aria-label", t("download", { name: file.name }));
        chip.appendChild(el("span", "file-name", file.name));
        chip.appendChild(el("span", "file-meta", humanSize(file.size)));
        chip.addEventListener("click", function () { openFile(file, true); });
        box.appendChild(chip);
      }
    });
    li.insertBefore(box, li.querySelector(".delivery"));
  }

  function openFile(file, download) {
    var tab = download ? null : window.open("", "_blank");
    fetchFile(file.url).then(function (blob) {
      var url = URL.createObjectURL(blob);
      if (tab) { tab.location.href = url; return; }
      var a = document.createElement("a");
      a.href = url;
      a.download = file.name;
      root.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    }).catch(function () { if (tab) tab.close(); });
  }

  ui.attachBtn.addEventListener("click", function () { ui.fileInput.click(); });
  ui.fileInput.addEventListener("change", function () { addFiles(ui.fileInput.files); ui.fileInput.value = ""; });
  ui.input.addEventListener("paste", function (event) {
    var files = event.clipboardData && event.clipboardData.files;
    if (!files || !files.length) return;
    event.preventDefault();
    addFiles(Array.prototype.map.call(files, function (file) {
      if (file.name && file.name !== "image.png") return file;
      var stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
      return new File([file], "screenshot-" + stamp + ".png", { type: file.type || "image/png" });
    }));
  });
  ui.chat.addEventListener("dragover", function (event) {
    if (ui.composer.hidden || !event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
    event.preventDefault();
    ui.widget.classList.add("dropping");
  });
  ui.chat.addEventListener("dragleave", function () { ui.widget.classList.remove("dropping"); });
  ui.chat.addEventListener("drop", function (event) {
    ui.widget.classList.remove("dropping");
    if (ui.composer.hidden || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    addFiles(event.dataTransfer.files);
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
      state.fetching = false;  // an answer lost with the old connection is not awaited
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
      if (event.more || Math.max(event.last_seq || 0, state.lastSeq) > state.contiguous) fetchMissing();
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
    socket.on("resync", function (event) {
      if (!event || event.chat_id == null || mine(event)) fetchMissing();
    });
    socket.on("message", function (message) {
      if (!mine(message)) return;
      var fresh = !state.messages[message.id];
      var gap = fresh && behind(message.seq);
      renderMessage(message);
      if (gap) fetchMissing();
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
      var wasNobody = store.agentsAvailable === 0;
      if (event.agents_available !== undefined) store.agentsAvailable = event.agents_available;
      save();
      renderWaiting();
      if (wasNobody && store.agentsAvailable > 0 && store.status === "WAITING") announce(t("agent_available_now"));
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

  // ---------------------------------------------------------------- verified identity
  // Set by the host site's back end (data-identity-* or ServiceDeskChat.identify): the chat
  // is verified, and the visitor may pick one of his open service requests to chat about.
  var identity = null;

  function identify(value) {
    var email = value && String(value.email || "").trim();
    var hash = value && String(value.hash || value.identity_hash || "").trim();
    identity = email && hash ? { email: email, name: String(value.name || "").trim(), hash: hash } : null;
    renderIdentity();
    loadMyRequests();
  }

  function renderIdentity() {
    var on = !!identity;
    ui.whoLine.hidden = !on;
    ui.emailField.hidden = on;
    ui.nameField.hidden = on && !!identity.name;
    if (on) {
      ui.whoText.textContent = t("signed_in_as", { name: identity.name || identity.email, email: identity.email });
      fieldInput("email").value = identity.email;
      if (identity.name) fieldInput("name").value = identity.name;
    }
  }

  function fillAbout(requests) {
    var select = ui.aboutSelect;
    select.textContent = "";
    var fresh = document.createElement("option");
    fresh.value = "";
    fresh.textContent = t("about_new");
    select.appendChild(fresh);
    requests.forEach(function (sr) {
      var option = document.createElement("option");
      option.value = sr.number;
      option.textContent = sr.number + " · " + sr.summary;
      select.appendChild(option);
    });
    ui.aboutField.hidden = !identity || !requests.length;
  }

  function loadMyRequests() {
    fillAbout([]);
    if (!identity) return;
    var asked = identity;
    fetch(SERVER + "/api/my-requests", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: asked.email, identity_hash: asked.hash })
    }).then(function (r) { return r.ok ? r.json() : { requests: [] }; })
      .then(function (body) { if (identity === asked) fillAbout(body.requests || []); })
      .catch(function () { /* the form still works without the list */ });
  }

  // ---------------------------------------------------------------- start
  function freshForm(message) {
    state.lastId = 0;
    state.lastSeq = 0;
    state.seqs = {};
    state.contiguous = 0;
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
    if (identity) {  // the signed-in user's open requests may have changed meanwhile
      renderIdentity();
      loadMyRequests();
    }
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
    state.lastSeq = 0;
    state.seqs = {};
    state.contiguous = 0;
    state.messages = {};
    ui.log.textContent = "";
    startFromStore();
  });

  function boot() {
    document.body.appendChild(host);
    loadQueues();
    startFromStore();
    if (data.identityEmail && data.identityHash) {
      identify({ email: data.identityEmail, name: data.identityName, hash: data.identityHash });
    }
    var open = store.open !== undefined ? store.open : data.open === "true";
    setOpen(!!open, false);
    window.ServiceDeskChat = window.ServiceDeskWidget = {
      open: function () { setOpen(true, true); },
      close: function () { setOpen(false, false); },
      identify: identify,
      version: 1
    };
  }

  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);

  // ---------------------------------------------------------------- styles
  function widgetStyles() {
    return /*@STYLES@*/"";
  }
})();
