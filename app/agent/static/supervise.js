// A manager watching a live chat: its messages, notes and typing as they happen (the end user
// is not told); whisper to its agent, join it (then reply to the end user), or take it over.

import { h, localDateTime, localTime, newClientId, toast } from "./dom.js";
import { chatConnection } from "./queue-link.js";

const ACK_TIMEOUT = 10000;
const root = document.getElementById("supervise");
const chatId = Number(root.dataset.chatId);
const list = document.getElementById("messages");
const typingEl = document.getElementById("typing");
const stateEl = document.getElementById("watch-state");
const agentEl = document.getElementById("chat-agent");
const joinButton = document.getElementById("join-button");
const composer = document.getElementById("composer");
const textarea = composer.querySelector("textarea");
const sendButton = composer.querySelector(".send-button");
const socket = chatConnection();
const shown = new Set();
let mode = "whisper";
let ended = false;

function timeOf(iso) {
  return iso ? h("time", { datetime: iso, title: localDateTime(iso) }, localTime(iso)) : h("time", {}, "now");
}

function place(el, at) {
  const after = [...list.children].find((child) => {
    const other = child.querySelector("time[datetime]")?.getAttribute("datetime");
    return other && at && other > at;
  });
  list.insertBefore(el, after || null);
  list.scrollTop = list.scrollHeight;
}

function addMessage(m) {
  if (shown.has(`m:${m.id}`)) return;
  shown.add(`m:${m.id}`);
  const role = m.sender.role.toLowerCase();
  place(h("div", { class: `msg msg-${role}`, dataset: { id: m.id, role: m.sender.role } },
    h("div", { class: "msg-meta" }, h("span", { class: "msg-sender" }, m.sender.name), timeOf(m.sent_at)),
    m.body ? h("div", { class: "msg-body" }, m.body) : null,
    m.attachments?.length ? h("div", { class: "muted" }, `${m.attachments.length} file(s)`) : null), m.sent_at);
}

function addNote(n) {
  if (shown.has(`n:${n.id}`)) return;
  shown.add(`n:${n.id}`);
  const whisper = n.kind === "WHISPER";
  place(h("div", { class: `msg msg-internal ${whisper ? "msg-whisper" : ""}`, dataset: { noteId: n.id, kind: n.kind } },
    h("div", { class: "msg-meta" }, h("span", { class: "internal-badge" }, whisper ? "Whisper" : "Internal"),
      h("span", { class: "msg-sender" }, whisper ? `${n.author.name} → ${n.to?.name || "agent"}` : n.author.name), timeOf(n.created_at)),
    h("div", { class: "msg-body" }, n.body)), n.created_at);
}

function setJoined(joined) {
  stateEl.dataset.state = joined ? "joined" : "watching";
  stateEl.textContent = joined ? "Joined · the end user knows you are here" : "Watching · the end user is not told";
  joinButton.hidden = joined;
  composer.querySelector("[data-mode=reply]").disabled = !joined;
  if (joined) setMode("reply");
}

function setMode(next) {
  mode = next;
  for (const b of composer.querySelectorAll(".mode-button")) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  composer.classList.toggle("is-whisper", mode === "whisper");
  sendButton.textContent = mode === "whisper" ? "Whisper" : "Send";
  textarea.placeholder = mode === "whisper"
    ? "Whisper: only the chat's agent (and managers) see it. Enter sends."
    : "Reply: the end user and the agent read it. Enter sends.";
  textarea.focus();
}

function end(text) {
  ended = true;
  list.append(h("div", { class: "msg msg-system", role: "status" }, text));
  textarea.disabled = true;
  sendButton.disabled = true;
  joinButton.disabled = true;
  stateEl.dataset.state = "ended";
  stateEl.textContent = "Ended";
}

function watch() {
  socket.timeout(ACK_TIMEOUT).emit("watch", { chat_id: chatId }, (err, ack) => {
    if (err) { toast("No answer from the server; retrying when the connection is back.", "error"); return; }
    if (!ack.ok) { end(ack.message || "This chat cannot be watched."); return; }
    if (ack.chat?.agent) { agentEl.textContent = ack.chat.agent; joinButton.disabled = false; }
    for (const m of ack.messages) addMessage(m);
    for (const n of ack.notes || []) addNote(n);
    setJoined(ack.joined);
    if (ack.more && ack.messages.length) fetchPages(ack.messages.at(-1).seq);
  });
}

/** A long chat comes in pages: the rest of its messages, each page with the notes among them. */
function fetchPages(afterSeq) {
  socket.timeout(ACK_TIMEOUT).emit("history", { chat_id: chatId, after_seq: afterSeq }, (err, ack) => {
    if (err) return; // the reconnection watches again
    if (!ack.ok) { if (ack.error === "rate_limited") setTimeout(() => fetchPages(afterSeq), 1500); return; }
    for (const m of ack.messages) addMessage(m);
    for (const n of ack.notes || []) addNote(n);
    if (ack.more && ack.messages.length) fetchPages(ack.messages.at(-1).seq);
  });
}

function send() {
  const body = textarea.value;
  if (!body.trim() || ended) return;
  const event = mode === "whisper" ? "whisper" : "send";
  socket.timeout(ACK_TIMEOUT).emit(event, { chat_id: chatId, body, client_id: newClientId() }, (err, ack) => {
    if (err || !ack?.ok) { toast(ack?.message || "Not sent (no connection); your text is kept.", "error"); return; }
    textarea.value = "";
    if (ack.note) addNote(ack.note); else addMessage(ack.message);
  });
}

socket.on("connect", watch);
if (socket.connected) watch();
socket.on("message", (m) => { if (m.chat_id === chatId) { addMessage(m); if (m.sender.role === "VISITOR") typingEl.textContent = ""; } });
socket.on("note", (n) => { if (n.chat_id === chatId) addNote(n); });
socket.on("typing", (t) => {
  if (t.chat_id !== chatId) return;
  typingEl.textContent = t.typing ? `${t.name} is typing…` : "";
  typingEl.classList.toggle("is-typing", !!t.typing);
});
socket.on("agent_joined", (d) => { if (d.chat_id === chatId) { agentEl.textContent = d.agent; joinButton.disabled = false; } });
socket.on("chat_reassigned", (d) => { if (d.chat_id === chatId) agentEl.textContent = d.agent; });
socket.on("chat_closed", (d) => { if (d.chat_id === chatId) end(d.reason ? `The chat ended. ${d.reason}` : "The chat ended."); });
socket.on("watch_ended", () => end("You are no longer a manager: watching stopped."));
socket.on("chat_transferred", (d) => { if (d.chat_id === chatId) { agentEl.textContent = `nobody yet (waiting in ${d.to_queue.name})`; joinButton.disabled = true; } });

composer.addEventListener("submit", (event) => { event.preventDefault(); send(); });
textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
});
for (const b of composer.querySelectorAll(".mode-button")) b.addEventListener("click", () => setMode(b.dataset.mode));

joinButton.addEventListener("click", () => {
  socket.timeout(ACK_TIMEOUT).emit("join", { chat_id: chatId }, (err, ack) => {
    if (err || !ack?.ok) { toast(ack?.message || "Could not join; try again.", "error"); return; }
    setJoined(true);
    toast("You joined the chat: the end user was told.", "success");
  });
});

document.getElementById("take-over-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const agent = document.getElementById("take-over-agent").value;
  const payload = { chat_id: chatId };
  if (agent) payload.agent = Number(agent);
  socket.timeout(ACK_TIMEOUT).emit("take_over", payload, (err, ack) => {
    if (err || !ack?.ok) { toast(ack?.message || "The chat could not be taken over.", "error"); return; }
    agentEl.textContent = ack.agent;
    toast(agent ? `${ack.agent} has the chat now.` : "You have the chat now: it is in your Chats window.", "success");
  });
});
