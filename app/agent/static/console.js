// The Agent Chat window: the waiting chats of all the agent's queues (oldest first, live wait
// time, accept), and his live chats in tabs with unread badges, each with its SR form beside it.

import { ChatView } from "./chat-view.js";
import { h, identityMark, localDateTime, toast, waitedSince } from "./dom.js";
import { chatConnection, queueSocket } from "./queue-link.js";

const ACK_TIMEOUT = 10000;
const consoleEl = document.getElementById("console");
const allQueues = JSON.parse(consoleEl.dataset.queues || "[]");
const waitingList = document.getElementById("waiting-list");
const waitingCount = document.getElementById("waiting-count");
const waitingEmpty = document.getElementById("waiting-empty");
const tabsEl = document.getElementById("chat-tabs");
const panesEl = document.getElementById("chat-panes");
const emptyEl = document.getElementById("chat-empty");
const paneTemplate = document.getElementById("chat-pane-template");
const chatSocket = chatConnection();
const myName = document.querySelector(".welcome-bar").dataset.displayName;

// Ended chats stay in their tab (with the SR beside them) until the agent removes the tab,
// across reloads too.
const KEPT = `console-ended-chats:${document.querySelector(".welcome-bar").dataset.user}`;
function keptChats() {
  try { return JSON.parse(localStorage.getItem(KEPT) || "[]"); } catch { return []; }
}
function keepChat(chatId, keep) {
  const ids = new Set(keptChats());
  if (keep) ids.add(chatId); else ids.delete(chatId);
  localStorage.setItem(KEPT, JSON.stringify([...ids]));
}

const waiting = new Map(); // chat_id -> chat summary
const seen = new Set(); // waiting chats already drawn once (new ones slide in)
const views = new Map(); // chat_id -> ChatView
let selected = null;

// --- waiting list ------------------------------------------------------------------------------

// The items drawn, by chat: a chat whose summary did not change keeps its element when the list
// is drawn again (queue events redraw it often), so a click on its Accept is never lost to a
// redraw, and an accept on its way keeps its button's state.
const drawnItems = new Map(); // chat_id -> { key, li }

function drawWaiting() {
  const items = [...waiting.values()].sort((a, b) => a.requested_at.localeCompare(b.requested_at) || a.chat_id - b.chat_id);
  const elements = items.map((chat) => {
    const key = JSON.stringify(chat);
    const kept = drawnItems.get(chat.chat_id);
    if (kept && kept.key === key) {
      kept.li.classList.remove("is-new"); // slid in once
      return kept.li;
    }
    const button = h("button", { type: "button", class: "btn btn-primary btn-small accept-button", "aria-label": `Accept the chat with ${chat.end_user.name}`, onclick: () => accept(chat, button) }, "Accept");
    const li = h("li", { class: `waiting-item ${seen.has(chat.chat_id) ? "" : "is-new"}`, dataset: { chatId: chat.chat_id } },
      h("div", { class: "waiting-top" },
        h("span", { class: "queue-chip" }, chat.queue.name),
        identityMark(chat.end_user),
        h("span", { class: "wait-time", dataset: { since: chat.requested_at }, title: `Waiting since ${localDateTime(chat.requested_at)}` }, waitedSince(chat.requested_at))),
      h("div", { class: "waiting-name" }, chat.end_user.name),
      h("p", { class: "waiting-question" }, chat.question),
      h("div", { class: "waiting-bottom" }, h("span", { class: "muted" }, chat.sr.number), button));
    drawnItems.set(chat.chat_id, { key, li });
    return li;
  });
  for (const chatId of [...drawnItems.keys()]) if (!waiting.has(chatId)) drawnItems.delete(chatId);
  const current = [...waitingList.children];
  if (current.length !== elements.length || current.some((li, i) => li !== elements[i])) {
    waitingList.replaceChildren(...elements);
  }
  for (const chat of items) seen.add(chat.chat_id);
  waitingCount.textContent = String(items.length);
  waitingEmpty.hidden = items.length > 0;
}

function refreshWaiting() {
  queueSocket.timeout(ACK_TIMEOUT).emit("waiting_list", {}, (err, ack) => {
    if (err || !ack?.ok) return;
    waiting.clear();
    for (const chat of ack.chats) waiting.set(chat.chat_id, chat);
    drawWaiting();
  });
}

const accepting = new Set(); // chat ids whose accept is on its way: its answer explains the outcome

function accept(chat, button) {
  accepting.add(chat.chat_id);
  button.disabled = true;
  button.textContent = "Accepting…";
  queueSocket.timeout(ACK_TIMEOUT).emit("accept", { chat_id: chat.chat_id }, (err, ack) => {
    accepting.delete(chat.chat_id);
    if (err) { button.disabled = false; button.textContent = "Accept"; toast("No answer from the server; try again.", "error"); return; }
    waiting.delete(chat.chat_id);
    drawWaiting();
    if (!ack.ok) { toast(ack.message || "The chat could not be accepted.", "error"); return; }
    const view = openChat(ack.chat);
    select(view.chatId);
    view.loadHistory();
  });
}

// An offer accepted from the Welcome bar's card opens here like an accept from the list.
window.addEventListener("desk:accepted", ({ detail: chat }) => {
  waiting.delete(chat.chat_id);
  drawWaiting();
  const view = openChat(chat);
  select(view.chatId);
  view.loadHistory();
});

queueSocket.on("connect", refreshWaiting);
// The Welcome bar opened the shared connection first: it may be up before this module ran.
if (queueSocket.connected) refreshWaiting();
queueSocket.on("chat_waiting", (chat) => { waiting.set(chat.chat_id, chat); drawWaiting(); });
queueSocket.on("chat_taken", ({ chat_id: id, agent }) => {
  if (waiting.delete(id)) { drawWaiting(); if (!views.has(id) && !accepting.has(id)) toast(`${agent || "Another agent"} took a waiting chat.`); }
});
queueSocket.on("chat_left", ({ chat_id: id }) => { if (waiting.delete(id)) drawWaiting(); });
queueSocket.on("queue_state", (state) => { if (!state.error && state.total !== waiting.size) refreshWaiting(); });

setInterval(() => {
  for (const el of document.querySelectorAll(".wait-time[data-since]")) el.textContent = waitedSince(el.dataset.since);
}, 1000);

// --- chats -------------------------------------------------------------------------------------

// What the window lends each chat view.
const desk = {
  socket: chatSocket,
  template: paneTemplate,
  tabs: tabsEl,
  panes: panesEl,
  queues: allQueues,
  myName,
  isSelected: (chatId) => selected === chatId,
  select: (chatId) => select(chatId),
  keep: keepChat,
  removed(view) {
    views.delete(view.chatId);
    keepChat(view.chatId, false);
    if (selected === view.chatId) select(views.keys().next().value ?? null);
  },
};

function openChat(summary) {
  let view = views.get(summary.chat_id);
  if (!view) {
    view = new ChatView(summary, desk);
    views.set(summary.chat_id, view);
    if (selected === null) select(view.chatId);
  }
  emptyEl.hidden = views.size > 0;
  return view;
}

function select(chatId) {
  selected = chatId;
  for (const view of views.values()) {
    const on = view.chatId === chatId;
    view.pane.hidden = !on;
    if (on) { view.unread = 0; view.scroll(true); }
    view.drawTab();
  }
  emptyEl.hidden = views.size > 0;
  if (chatId !== null) views.get(chatId)?.textarea.focus({ preventScroll: true });
}

tabsEl.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const ids = [...views.keys()];
  const next = ids[(ids.indexOf(selected) + (event.key === "ArrowRight" ? 1 : -1) + ids.length) % ids.length];
  select(next);
  views.get(next)?.tab.focus();
});

chatSocket.on("history", (payload) => {
  if (!payload.chat && !views.has(payload.chat_id)) return;
  if (!views.has(payload.chat_id) && payload.status !== "ACTIVE") return;
  openChat(payload.chat || views.get(payload.chat_id).summary).history(payload);
});
chatSocket.on("message", (message) => views.get(message.chat_id)?.add(message));
chatSocket.on("note", (note) => views.get(note.chat_id)?.addNote(note));
chatSocket.on("chat_reassigned", (data) => {
  const view = views.get(data.chat_id);
  if (!view || view.status !== "ACTIVE") return;
  view.closed(data.by === data.agent ? `${data.by} took over this chat.` : `${data.by} handed this chat to ${data.agent}.`);
  toast(`${data.by} took over your chat with ${view.summary.end_user.name}.`);
});
// The server's message queue came back, or it saw a chat fall behind: fetch what is missing.
chatSocket.on("resync", (data) => {
  for (const view of views.values()) if (data?.chat_id == null || view.chatId === data.chat_id) view.fetchMissing();
});
// Reconnected: what was sent without an acknowledgement goes again (same client ids).
chatSocket.on("connect", () => { for (const view of views.values()) view.resendUnsent(); });
chatSocket.on("typing", (data) => { if (data.role === "VISITOR") views.get(data.chat_id)?.setTyping(data.typing, data.name); });
chatSocket.on("chat_closed", (data) => {
  const who = { VISITOR: "The end user closed the chat.", AGENT: "You closed the chat.", SYSTEM: "The chat was closed by the system." };
  views.get(data.chat_id)?.closed(data.reason ? `${who[data.closed_by] || "The chat ended."} ${data.reason}` : who[data.closed_by] || "The chat ended.");
});
chatSocket.on("chat_transferred", (data) => {
  const view = views.get(data.chat_id);
  if (!view || view.status !== "ACTIVE") return;
  // The same queue: handed to another agent (this console's own hand-over is also told by
  // its acknowledgement, with the agent's name).
  if (data.to_queue.id === view.summary.queue.id) { if (!view.handingOver) view.handedOver(null); } else view.transferred(data.to_queue);
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && selected !== null) { const view = views.get(selected); if (view) { view.unread = 0; view.drawTab(); } }
});

for (const chatId of keptChats()) {
  chatSocket.timeout(ACK_TIMEOUT).emit("history", { chat_id: chatId }, (err, ack) => {
    if (err) return;
    if (!ack?.ok || !ack.chat) { keepChat(chatId, false); return; }
    openChat(ack.chat).history(ack);
  });
}

if (location.hash === "#waiting") document.getElementById("waiting").focus?.();
drawWaiting();
