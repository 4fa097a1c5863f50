// The Welcome bar on every agent page: the live chat-queue indicator, the agent's status switch
// and seats, chats offered to him (card with countdown, sound, desktop notice), new-chat
// notifications (desktop and sound, when the agent turned them on) and the settings menu.

import { h, identityMark, localDateTime, toast } from "./dom.js";
import { api } from "./http.js";
import { describe, renderIndicator } from "./indicator.js";
import { queueSocket } from "./queue-link.js";

const bar = document.querySelector(".welcome-bar");
const indicator = document.getElementById("chat-queue-indicator");
const prefs = {
  desktop: bar.dataset.notifyDesktop === "true",
  sound: bar.dataset.notifySound === "true",
  inFocus: bar.dataset.alertInFocus === "true",
};
let last = { state: "unknown", queueState: { queues: [], total: 0 }, problem: null };
const offers = new Map(); // chat offered to this agent: chat_id -> {card, timer}

const baseTitle = document.title;

function show(state, queueState = last.queueState, problem = null) {
  last = { state, queueState, problem };
  const count = queueState.total ?? 0;
  renderIndicator(indicator, { state, count, detail: describe(state, queueState, problem) });
  // Seen from another browser tab too: waiting chats, and an offer waiting for an answer.
  const offered = offers.size ? "Chat offered · " : "";
  document.title = state === "waiting" ? `(${count}) ${offered}${baseTitle}` : `${offered}${baseTitle}`;
}

queueSocket.on("queue_state", (payload) => {
  if (payload?.error) {
    show("error", payload, typeof payload.error === "string" ? `Chat queue error: ${payload.message || payload.error}` : null);
    return;
  }
  if (payload.agent) showSeat(payload.agent);
  show(payload.total > 0 ? "waiting" : "idle", payload);
});

// --- status and seats ---------------------------------------------------------------------------

const statusSwitch = document.getElementById("status-switch");
const seats = document.getElementById("my-seats");
const STATUS_TEXT = { available: "Available", away: "Away", offline: "Offline" };

function showStatus(status, reason = null) {
  statusSwitch.dataset.status = status;
  for (const option of statusSwitch.querySelectorAll(".status-option")) {
    const on = option.dataset.value === status;
    option.setAttribute("aria-checked", String(on));
    option.tabIndex = on || (status === "offline" && option.dataset.value === "available") ? 0 : -1;
  }
  statusSwitch.title = reason ? `${STATUS_TEXT[status]}: ${reason}` : `You are ${STATUS_TEXT[status]?.toLowerCase()}`;
}

function showSeat(agent) {
  // Offline only as the others see it before this console registered: this page is open.
  if (agent.status !== "offline") showStatus(agent.status, agent.reason);
  seats.hidden = false;
  seats.dataset.active = String(agent.active_chats);
  seats.dataset.max = String(agent.max_chats);
  seats.textContent = `${agent.active_chats} of ${agent.max_chats} chats`;
  seats.classList.toggle("is-full", agent.active_chats >= agent.max_chats);
}

function setStatus(status) {
  if (statusSwitch.dataset.status === status) return;
  const before = statusSwitch.dataset.status;
  showStatus(status);
  queueSocket.timeout(10000).emit("set_status", { status }, (err, ack) => {
    if (err || !ack?.ok) {
      showStatus(before);
      toast(ack?.message || "Your status could not be changed; try again.", "error");
    }
  });
}

statusSwitch.addEventListener("click", (event) => {
  const option = event.target.closest(".status-option");
  if (option) setStatus(option.dataset.value);
});
statusSwitch.addEventListener("keydown", (event) => {
  if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(event.key)) return;
  event.preventDefault();
  const next = statusSwitch.dataset.status === "available" ? "away" : "available";
  setStatus(next);
  statusSwitch.querySelector(`[data-value="${next}"]`).focus();
});
showStatus(statusSwitch.dataset.status);

queueSocket.on("agent_status", ({ status, reason }) => {
  showStatus(status, reason);
  if (reason) toast(reason, "error", 9000);
});

// Away after minutes without a key press, click or pointer movement (when the installation
// asks for it).
const idleMinutes = Number(bar.dataset.idleAwayMinutes) || 0;
if (idleMinutes > 0) {
  let lastActive = Date.now();
  for (const kind of ["keydown", "pointerdown", "pointermove", "focus"]) {
    window.addEventListener(kind, () => { lastActive = Date.now(); }, { passive: true });
  }
  setInterval(() => {
    if (statusSwitch.dataset.status === "available" && Date.now() - lastActive > idleMinutes * 60000) {
      setStatus("away");
      toast(`Set away after ${idleMinutes} minutes without activity.`);
    }
  }, 15000);
}
// Logged out (here or on another device), password changed or account disabled: the server
// has dropped this page's sockets; the login page says what to do.
queueSocket.on("session_ended", () => {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
});
queueSocket.on("disconnect", () => show("unknown", last.queueState, "Connection to the chat queue lost; reconnecting…"));
queueSocket.io.on("reconnect_attempt", () => {
  if (last.state !== "error") show("unknown", last.queueState, "Reconnecting to the chat queue…");
});
queueSocket.on("connect_error", (error) => {
  // A refusal by the server (e.g. the session ended) is an error; a transport failure is unknown.
  if (error?.data || !/(xhr|websocket|poll|timeout|transport)/i.test(error?.message || "")) {
    show("error", last.queueState, `The chat queue refused the connection: ${error?.message || "error"}. Log in again.`);
  } else {
    show("unknown", last.queueState, "The chat-queue server cannot be reached; retrying…");
  }
});

// --- notifications --------------------------------------------------------------------------

let audio = null;
/** Whether an alert may ring or notify now: always while the tab is hidden, and while it is
 * in front only if the agent wants that. */
function alertNow() {
  return document.hidden || !document.hasFocus() || prefs.inFocus;
}

function chime(kind = "chat") {
  // A hook for tests and browser extensions: every sound the console played.
  (window.deskSounds ||= []).push(kind);
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [i, freq] of [660, 880].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.18);
      osc.stop(now + i * 0.18 + 0.32);
    }
  } catch { /* no audio device: the indicator still blinks */ }
}

function notify(title, chat, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(title, {
    body: `${chat.end_user?.name ?? "An end user"}: ${chat.question ?? ""}`.slice(0, 180),
    tag, requireInteraction: tag.startsWith("offer"),
  });
  note.onclick = () => { window.focus(); if (!document.getElementById("console")) location.href = "/#waiting"; };
}

queueSocket.on("chat_waiting", (chat) => {
  if (!alertNow()) return;
  if (prefs.sound) chime();
  if (prefs.desktop) notify(`New chat in ${chat.queue?.name ?? "your queue"}`, chat, `chat-${chat.chat_id}`);
});

// --- offers (auto routing) ---------------------------------------------------------------------

const offerStack = document.getElementById("offer-stack");

function dropOffer(chatId, note = null) {
  const offer = offers.get(chatId);
  if (!offer) return;
  clearInterval(offer.timer);
  offers.delete(chatId);
  offer.card.classList.add("is-leaving");
  setTimeout(() => offer.card.remove(), 250);
  if (note) toast(note);
  show(last.state, last.queueState, last.problem);
}

function answerOffer(chat, answer, buttons) {
  for (const button of buttons) button.disabled = true;
  queueSocket.timeout(10000).emit(answer, { chat_id: chat.chat_id }, (err, ack) => {
    if (err) { for (const button of buttons) button.disabled = false; toast("No answer from the server; try again.", "error"); return; }
    dropOffer(chat.chat_id);
    if (!ack.ok) { toast(ack.message || "The offer could not be answered.", "error"); return; }
    if (answer === "accept") {
      // The chat window opens it; from another page, go there.
      if (document.getElementById("console")) window.dispatchEvent(new CustomEvent("desk:accepted", { detail: ack.chat }));
      else location.assign("/");
    }
  });
}

function showOffer({ chat, expires_in: expiresIn }) {
  dropOffer(chat.chat_id);
  const deadline = Date.now() + expiresIn * 1000;
  const left = h("span", { class: "offer-left" }, `${expiresIn} s`);
  const bar = h("span", { class: "offer-bar" }, h("span", { style: null }));
  const accept = h("button", { type: "button", class: "btn btn-primary offer-accept" }, "Accept");
  const decline = h("button", { type: "button", class: "btn offer-decline" }, "Decline");
  const card = h("article", { class: "offer-card", dataset: { chatId: chat.chat_id }, role: "alertdialog", "aria-label": `Chat offered: ${chat.end_user.name}` },
    h("header", { class: "offer-head" },
      h("span", { class: "offer-title" }, "Chat offered to you"), left),
    h("div", { class: "offer-who" }, h("strong", {}, chat.end_user.name), " ", identityMark(chat.end_user),
      h("span", { class: "queue-chip" }, chat.queue.name)),
    h("p", { class: "offer-question" }, chat.question),
    bar,
    h("div", { class: "offer-actions" }, decline, accept));
  accept.addEventListener("click", () => answerOffer(chat, "accept", [accept, decline]));
  decline.addEventListener("click", () => answerOffer(chat, "decline", [accept, decline]));
  const fill = bar.firstChild;
  const tick = () => {
    const ms = Math.max(0, deadline - Date.now());
    left.textContent = `${Math.ceil(ms / 1000)} s`;
    fill.style.width = `${(100 * ms) / (expiresIn * 1000)}%`;
    card.classList.toggle("is-urgent", ms < 10000);
  };
  tick();
  offers.set(chat.chat_id, { card, timer: setInterval(tick, 250) });
  offerStack.append(card);
  accept.focus({ preventScroll: true });
  show(last.state, last.queueState, last.problem);
  if (alertNow()) {
    chime("offer");
    notify(`Chat offered to you (${chat.queue?.name ?? ""})`, chat, `offer-${chat.chat_id}`);
  }
}

const OUTCOME_NOTE = {
  expired: "The offer expired and moved on to another agent.",
  withdrawn: "The offer moved on to another agent.",
};
queueSocket.on("chat_offered", showOffer);
queueSocket.on("offer_ended", ({ chat_id: id, outcome }) => dropOffer(id, offers.has(id) ? OUTCOME_NOTE[outcome] : null));
queueSocket.on("chat_taken", ({ chat_id: id }) => dropOffer(id));
queueSocket.on("chat_left", ({ chat_id: id }) => dropOffer(id));

// --- settings menu ---------------------------------------------------------------------------

const form = document.getElementById("prefs-form");
form?.addEventListener("change", async (event) => {
  const field = event.target;
  const body = {};
  if (field.name === "indicator_style") body.indicator_style = field.value;
  if (field.name === "notify_desktop") {
    if (field.checked && "Notification" in window && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") toast("The browser blocks notifications for this site; allow them in its site settings.", "error");
    }
    body.notify_desktop = field.checked;
  }
  if (field.name === "notify_sound") {
    body.notify_sound = field.checked;
    if (field.checked) chime("test");
  }
  if (field.name === "alert_in_focus") body.alert_in_focus = field.checked;
  const result = await api("POST", "/agent/api/preferences", body);
  if (!result.ok) { toast(result.data.message || "Could not save the setting.", "error"); return; }
  const saved = result.data.preferences;
  prefs.desktop = saved.notify_desktop;
  prefs.sound = saved.notify_sound;
  prefs.inFocus = saved.alert_in_focus;
  indicator.dataset.style = saved.effective_indicator_style;
  show(last.state, last.queueState, last.problem);
  toast("Setting saved.");
});

// Times the server wrote in UTC, shown in the agent's local time.
for (const el of document.querySelectorAll("time.local-time")) {
  el.title = el.textContent;
  el.textContent = localDateTime(el.getAttribute("datetime"));
}
