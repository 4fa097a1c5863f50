// The Agent Chat window: the waiting chats of all the agent's queues (oldest first, live wait
// time, accept), and his live chats in tabs with unread badges, each with its SR form beside it.

import { h, localDateTime, localTime, newClientId, toast, waitedSince } from "./dom.js";
import { chatConnection, lastMessageIds, queueSocket } from "./queue-link.js";
import { SrForm } from "./sr-form.js";

const ACK_TIMEOUT = 10000;
const TYPING_IDLE = 2500;
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

function drawWaiting() {
  const items = [...waiting.values()].sort((a, b) => a.requested_at.localeCompare(b.requested_at) || a.chat_id - b.chat_id);
  waitingList.replaceChildren(...items.map((chat) => {
    const button = h("button", { type: "button", class: "btn btn-primary btn-small accept-button", "aria-label": `Accept the chat with ${chat.end_user.name}`, onclick: () => accept(chat, button) }, "Accept");
    return h("li", { class: `waiting-item ${seen.has(chat.chat_id) ? "" : "is-new"}`, dataset: { chatId: chat.chat_id } },
      h("div", { class: "waiting-top" },
        h("span", { class: "queue-chip" }, chat.queue.name),
        h("span", { class: "wait-time", dataset: { since: chat.requested_at }, title: `Waiting since ${localDateTime(chat.requested_at)}` }, waitedSince(chat.requested_at))),
      h("div", { class: "waiting-name" }, chat.end_user.name),
      h("p", { class: "waiting-question" }, chat.question),
      h("div", { class: "waiting-bottom" }, h("span", { class: "muted" }, chat.sr.number), button));
  }));
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

class ChatView {
  constructor(summary) {
    this.chatId = summary.chat_id;
    this.summary = summary;
    this.status = summary.status;
    this.unread = 0;
    this.messages = new Map(); // id or client id -> element
    this.pane = paneTemplate.content.firstElementChild.cloneNode(true);
    this.pane.dataset.chatId = this.chatId;
    this.pane.id = `chat-pane-${this.chatId}`;
    this.q = (sel) => this.pane.querySelector(sel);
    this.list = this.q(".messages");
    this.typingEl = this.q(".typing-indicator");
    this.textarea = this.q("textarea");
    this.tab = h("button", { type: "button", role: "tab", class: "chat-tab", id: `chat-tab-${this.chatId}`, "aria-controls": this.pane.id, dataset: { chatId: this.chatId }, onclick: () => select(this.chatId) });
    this.drawHead();
    this.srForm = new SrForm(this.q(".sr-panel"), summary.sr.number, { compact: true, onDirtyChange: () => this.drawTab() });
    this.srForm.load();
    this.q(".close-button").addEventListener("click", () => this.askClose());
    this.q(".transfer-button").addEventListener("click", () => this.askTransfer());
    this.q(".dismiss-button").addEventListener("click", () => this.dismiss());
    this.q(".composer").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.send(); }
    });
    this.textarea.addEventListener("input", () => this.typing(true));
    tabsEl.append(this.tab);
    panesEl.append(this.pane);
    this.drawTab();
  }

  drawHead() {
    const s = this.summary;
    this.q(".end-user-name").textContent = s.end_user.name;
    const link = this.q(".sr-link");
    link.textContent = s.sr.number;
    link.href = `/sr/${encodeURIComponent(s.sr.number)}`;
    this.q(".queue-chip").textContent = s.queue.name;
    this.q(".end-user-phone").textContent = s.end_user.phone || "no phone";
    const mail = this.q(".end-user-email");
    mail.textContent = s.end_user.email || "";
    if (s.end_user.email) mail.href = `mailto:${s.end_user.email}`;
  }

  drawTab() {
    const closed = this.status !== "ACTIVE";
    this.tab.replaceChildren(...[
      h("span", { class: `tab-dot ${closed ? "is-closed" : ""}`, "aria-hidden": "true" }),
      h("span", { class: "tab-name" }, this.summary.end_user.name),
      h("span", { class: "tab-sr muted" }, this.summary.sr.number),
      this.srForm?.dirty ? h("span", { class: "tab-unsaved", title: "Unsaved SR changes" }, "●") : null,
      this.unread ? h("span", { class: "unread-badge", "aria-label": `${this.unread} unread` }, String(this.unread)) : null].filter(Boolean));
    this.tab.setAttribute("aria-selected", selected === this.chatId ? "true" : "false");
  }

  loadHistory() {
    chatSocket.timeout(ACK_TIMEOUT).emit("history", { chat_id: this.chatId }, (err, ack) => {
      if (!err && ack?.ok) this.history(ack);
    });
  }

  history(payload) {
    if (payload.chat) { this.summary = payload.chat; this.drawHead(); }
    for (const message of payload.messages) this.add(message, { quiet: true });
    if (payload.status && payload.status !== "ACTIVE") this.closed(null);
    this.scroll(true);
  }

  add(message, { quiet = false } = {}) {
    lastMessageIds[this.chatId] = Math.max(lastMessageIds[this.chatId] || 0, message.id);
    const pending = this.messages.get(`c:${message.client_id}`);
    if (pending && pending.dataset.role === "AGENT" && pending.dataset.mine === "true") {
      this.stored(pending, message);
      return;
    }
    if (this.messages.has(message.id)) return;
    const el = this.element(message.sender.role, message.sender.name, message.body, message.sent_at);
    el.dataset.id = message.id;
    this.messages.set(message.id, el);
    this.insert(el, message.id);
    if (!quiet && message.sender.role === "VISITOR") {
      this.setTyping(false);
      if (selected !== this.chatId || document.hidden) { this.unread += 1; this.drawTab(); }
    }
    this.scroll();
  }

  element(role, name, body, sentAt) {
    const time = sentAt ? h("time", { datetime: sentAt, title: localDateTime(sentAt) }, localTime(sentAt)) : h("time", {}, "now");
    return h("div", { class: `msg msg-${role.toLowerCase()}`, dataset: { role } },
      h("div", { class: "msg-meta" }, h("span", { class: "msg-sender" }, name), time),
      h("div", { class: "msg-body" }, body));
  }

  insert(el, id) {
    // Keep server order: before the first stored message with a larger id, pending ones last.
    const after = [...this.list.children].find((child) => child.dataset.id && Number(child.dataset.id) > id)
      || this.list.querySelector(".msg[data-pending='true']");
    this.list.insertBefore(el, after || null);
  }

  scroll(force = false) {
    const near = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 120;
    if (force || near) this.list.scrollTop = this.list.scrollHeight;
  }

  send(retry = null) {
    const body = retry ? retry.body : this.textarea.value;
    if (!body.trim() || this.status !== "ACTIVE") return;
    const clientId = retry ? retry.clientId : newClientId();
    let el = retry?.el;
    if (!el) {
      el = this.element("AGENT", myName, body, null);
      el.dataset.mine = "true";
      el.dataset.pending = "true";
      el.dataset.clientId = clientId;
      el.querySelector(".msg-meta").append(h("span", { class: "msg-state", "data-state": "sending" }, "Sending…"));
      this.messages.set(`c:${clientId}`, el);
      this.list.append(el);
      this.textarea.value = "";
      this.typing(false);
      this.scroll(true);
    }
    this.setState(el, "sending", "Sending…");
    chatSocket.timeout(ACK_TIMEOUT).emit("send", { chat_id: this.chatId, body, client_id: clientId }, (err, ack) => {
      if (!err && ack?.ok) { this.stored(el, ack.message); return; }
      this.setState(el, "failed", err ? "Not sent (no connection)" : (ack?.message || "Not sent"));
      const state = el.querySelector(".msg-state");
      state.append(" ", h("button", { type: "button", class: "link-button", onclick: () => this.send({ body, clientId, el }) }, "Retry"));
    });
  }

  setState(el, state, text) {
    const box = el.querySelector(".msg-state");
    if (!box) return;
    box.dataset.state = state;
    box.replaceChildren(text);
  }

  stored(el, message) {
    if (el.dataset.pending !== "true") return;
    delete el.dataset.pending;
    el.dataset.id = message.id;
    this.messages.set(message.id, el);
    const time = el.querySelector("time");
    time.dateTime = message.sent_at;
    time.title = localDateTime(message.sent_at);
    time.textContent = localTime(message.sent_at);
    this.setState(el, "stored", "✓ Stored");
    el.querySelector(".msg-state").title = "Stored on the server";
    lastMessageIds[this.chatId] = Math.max(lastMessageIds[this.chatId] || 0, message.id);
    el.remove();
    this.insert(el, message.id);
  }

  typing(active) {
    clearTimeout(this.typingTimer);
    if (active && this.status === "ACTIVE") this.typingTimer = setTimeout(() => this.typing(false), TYPING_IDLE);
    if (this.sentTyping === active || (active && this.status !== "ACTIVE")) return;
    this.sentTyping = active;
    chatSocket.emit("typing", { chat_id: this.chatId, typing: active });
  }

  setTyping(on, name) {
    this.typingEl.textContent = on ? `${name || this.summary.end_user.name} is typing…` : "";
    this.typingEl.classList.toggle("is-typing", !!on);
  }

  note(text) {
    const el = h("div", { class: "msg msg-note", role: "status" }, text);
    this.list.append(el);
    this.scroll(true);
  }

  closed(reason) {
    if (this.status !== "ACTIVE" && this.closedShown) return;
    this.status = "CLOSED";
    this.closedShown = true;
    keepChat(this.chatId, true);
    if (reason) this.note(reason);
    this.setTyping(false);
    this.q(".composer").classList.add("is-closed");
    this.textarea.disabled = true;
    this.textarea.placeholder = "This chat has ended. The SR stays open beside it.";
    this.q(".send-button").disabled = true;
    this.q(".close-button").hidden = true;
    this.q(".transfer-button").hidden = true;
    this.q(".dismiss-button").hidden = false;
    this.pane.dataset.status = "CLOSED";
    this.drawTab();
    setTimeout(() => this.srForm.refresh(), 300); // the transcript is now on the SR
  }

  askClose() {
    const dialog = document.getElementById("close-dialog");
    dialog.querySelector(".close-text").textContent =
      `${this.summary.end_user.name} will be told the chat has ended and the transcript goes onto ${this.summary.sr.number}.`;
    const unsaved = dialog.querySelector(".close-unsaved");
    unsaved.hidden = !this.srForm.dirty;
    unsaved.textContent = `You have unsaved changes to ${this.summary.sr.number}. They stay as a draft; save the SR form before you leave.`;
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue !== "confirm") return;
      chatSocket.timeout(ACK_TIMEOUT).emit("close", { chat_id: this.chatId }, (err, ack) => {
        if (err || !ack?.ok) { toast(ack?.message || "The chat could not be closed; try again.", "error"); return; }
        this.closed("You closed the chat.");
      });
    };
    dialog.showModal();
  }

  askTransfer() {
    const dialog = document.getElementById("transfer-dialog");
    const selectEl = dialog.querySelector("select");
    selectEl.replaceChildren(...allQueues.filter((q) => q.id !== this.summary.queue.id)
      .map((q) => h("option", { value: q.id }, q.name)));
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue !== "confirm" || !selectEl.value) return;
      chatSocket.timeout(ACK_TIMEOUT).emit("transfer", { chat_id: this.chatId, queue: Number(selectEl.value) }, (err, ack) => {
        if (err || !ack?.ok) { toast(ack?.message || "The chat could not be transferred.", "error"); return; }
        this.transferred(ack.to_queue);
      });
    };
    dialog.showModal();
  }

  transferred(toQueue) {
    if (this.status === "TRANSFERRED") return; // told by the answer and by the event
    toast(`Chat with ${this.summary.end_user.name} transferred to ${toQueue.name}.`, "success");
    this.status = "TRANSFERRED";
    this.dismiss(true);
  }

  dismiss(force = false) {
    if (!force && this.srForm.dirty && !window.confirm(`You have unsaved changes to ${this.summary.sr.number}. Remove the tab anyway? (They stay as a draft.)`)) return;
    this.tab.remove();
    this.pane.remove();
    views.delete(this.chatId);
    keepChat(this.chatId, false);
    if (selected === this.chatId) select(views.keys().next().value ?? null);
  }
}

function openChat(summary) {
  let view = views.get(summary.chat_id);
  if (!view) {
    view = new ChatView(summary);
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
chatSocket.on("typing", (data) => { if (data.role === "VISITOR") views.get(data.chat_id)?.setTyping(data.typing, data.name); });
chatSocket.on("chat_closed", (data) => {
  const who = { VISITOR: "The end user closed the chat.", AGENT: "You closed the chat.", SYSTEM: "The chat was closed by the system." };
  views.get(data.chat_id)?.closed(data.reason ? `${who[data.closed_by] || "The chat ended."} ${data.reason}` : who[data.closed_by] || "The chat ended.");
});
chatSocket.on("chat_transferred", (data) => {
  const view = views.get(data.chat_id);
  if (view && view.status === "ACTIVE") view.transferred(data.to_queue);
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
