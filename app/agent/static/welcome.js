// The Welcome bar on every agent page: the live chat-queue indicator, new-chat notifications
// (desktop and sound, when the agent turned them on) and the settings menu.

import { localDateTime, toast } from "./dom.js";
import { api } from "./http.js";
import { describe, renderIndicator } from "./indicator.js";
import { queueSocket } from "./queue-link.js";

const bar = document.querySelector(".welcome-bar");
const indicator = document.getElementById("chat-queue-indicator");
const prefs = {
  desktop: bar.dataset.notifyDesktop === "true",
  sound: bar.dataset.notifySound === "true",
};
let last = { state: "unknown", queueState: { queues: [], total: 0 }, problem: null };

const baseTitle = document.title;

function show(state, queueState = last.queueState, problem = null) {
  last = { state, queueState, problem };
  const count = queueState.total ?? 0;
  renderIndicator(indicator, { state, count, detail: describe(state, queueState, problem) });
  // Seen from another browser tab too.
  document.title = state === "waiting" ? `(${count}) ${baseTitle}` : baseTitle;
}

queueSocket.on("queue_state", (payload) => {
  if (payload?.error) {
    show("error", payload, typeof payload.error === "string" ? `Chat queue error: ${payload.message || payload.error}` : null);
    return;
  }
  show(payload.total > 0 ? "waiting" : "idle", payload);
});
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
function chime() {
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

queueSocket.on("chat_waiting", (chat) => {
  if (prefs.sound) chime();
  if (prefs.desktop && "Notification" in window && Notification.permission === "granted") {
    const note = new Notification(`New chat in ${chat.queue?.name ?? "your queue"}`, {
      body: `${chat.end_user?.name ?? "An end user"}: ${chat.question ?? ""}`.slice(0, 180),
      tag: `chat-${chat.chat_id}`,
    });
    note.onclick = () => { window.focus(); location.href = "/#waiting"; };
  }
});

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
    if (field.checked) chime();
  }
  const result = await api("POST", "/agent/api/preferences", body);
  if (!result.ok) { toast(result.data.message || "Could not save the setting.", "error"); return; }
  const saved = result.data.preferences;
  prefs.desktop = saved.notify_desktop;
  prefs.sound = saved.notify_sound;
  indicator.dataset.style = saved.effective_indicator_style;
  show(last.state, last.queueState, last.problem);
  toast("Setting saved.");
});

// Times the server wrote in UTC, shown in the agent's local time.
for (const el of document.querySelectorAll("time.local-time")) {
  el.title = el.textContent;
  el.textContent = localDateTime(el.getAttribute("datetime"));
}
