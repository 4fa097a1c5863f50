// One live or ended chat in the Agent Chat window: its tab (unread badge, unsaved-SR mark),
// its pane (end user, SR link, messages with local times and delivery state, typing, close,
// transfer) and its SR form beside it.

import { AttachmentTray, filesOf } from "./attachments.js";
import { CannedPicker } from "./canned-picker.js";
import { ChatSide } from "./chat-side.js";
import { h, identityMark, localDateTime, localTime, newClientId, toast } from "./dom.js";
import { api } from "./http.js";
import { lastMessageIds } from "./queue-link.js";
import { SrForm } from "./sr-form.js";

const ACK_TIMEOUT = 10000;
const TYPING_IDLE = 2500;

export class ChatView {
  /**
   * summary: the chat as chat_summary() lists it. desk: what the window lends a chat —
   * {socket, template, tabs, panes, queues, myName, isSelected(id), select(id), keep(id, on),
   * removed(view)}.
   */
  constructor(summary, desk) {
    this.desk = desk;
    this.chatId = summary.chat_id;
    this.summary = summary;
    this.status = summary.status;
    this.unread = 0;
    this.messages = new Map(); // id or client id -> element
    this.lastSeq = 0; // the highest seq held: a message after a gap makes us fetch the rest
    this.seqs = new Set();
    this.contiguous = 0; // every message up to this seq is held
    this.unsent = new Map(); // client id -> what to send again after a reconnection
    this.pane = this.desk.template.content.firstElementChild.cloneNode(true);
    this.pane.dataset.chatId = this.chatId;
    this.pane.id = `chat-pane-${this.chatId}`;
    this.q = (sel) => this.pane.querySelector(sel);
    this.list = this.q(".messages");
    this.typingEl = this.q(".typing-indicator");
    this.textarea = this.q("textarea");
    this.tab = h("button", { type: "button", role: "tab", class: "chat-tab", id: `chat-tab-${this.chatId}`, "aria-controls": this.pane.id, dataset: { chatId: this.chatId }, onclick: () => this.desk.select(this.chatId) });
    this.drawHead();
    this.srForm = new SrForm(this.q(".sr-panel"), summary.sr.number, { compact: true, onDirtyChange: () => this.drawTab() });
    this.srForm.load();
    this.q(".close-button").addEventListener("click", () => this.askClose());
    this.q(".transfer-button").addEventListener("click", () => this.askTransfer());
    this.q(".dismiss-button").addEventListener("click", () => this.dismiss());
    this.q(".composer").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.picker = new CannedPicker(this.textarea, this.chatId);
    this.textarea.addEventListener("keydown", (event) => {
      if (this.picker.handleKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.send(); }
    });
    this.textarea.addEventListener("input", () => { if (this.mode === "reply") this.typing(true); });
    this.mode = "reply";
    this.replyPlaceholder = this.textarea.placeholder;
    for (const button of this.pane.querySelectorAll(".mode-button")) button.addEventListener("click", () => this.setMode(button.dataset.mode));
    this.tray = new AttachmentTray(this.q(".composer"), this.chatId);
    this.tray.dropZone(this.pane);
    this.side = new ChatSide(this);
    this.side.load();
    this.desk.tabs.append(this.tab);
    this.desk.panes.append(this.pane);
    this.drawTab();
  }

  drawHead() {
    const s = this.summary;
    this.q(".end-user-name").textContent = s.end_user.name;
    this.q(".identity-slot").replaceChildren(identityMark(s.end_user));
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
    this.tab.setAttribute("aria-selected", this.desk.isSelected(this.chatId) ? "true" : "false");
  }

  loadHistory() {
    this.desk.socket.timeout(ACK_TIMEOUT).emit("history", { chat_id: this.chatId }, (err, ack) => {
      if (!err && ack?.ok) this.history(ack);
    });
  }

  history(payload, { quiet = true } = {}) {
    if (payload.chat) { this.summary = payload.chat; this.drawHead(); }
    for (const message of payload.messages) this.add(message, { quiet, fetched: true });
    for (const note of payload.notes || []) this.addNote(note, { quiet: true });
    if (payload.status && payload.status !== "ACTIVE") this.closed(null);
    this.scroll(quiet);
    const behind = Math.max(payload.last_seq || 0, this.lastSeq) > this.contiguous;
    if (payload.messages.length && (payload.more || behind)) this.fetchMissing();
  }

  /** Fetch, page by page, the messages after the last seq held without a gap (a gap, a resync). */
  fetchMissing() {
    if (this.fetching) { this.fetchAgain = true; return; }
    if (!this.desk.socket.connected) return; // the reconnection brings them
    this.fetching = true;
    this.fetchAgain = false;
    const payload = { chat_id: this.chatId, after_seq: this.contiguous };
    this.desk.socket.timeout(ACK_TIMEOUT).emit("history", payload, (err, ack) => {
      this.fetching = false;
      if (!err && ack?.ok) this.history(ack, { quiet: false });
      else if (!err) { setTimeout(() => this.fetchMissing(), 1500); return; } // e.g. rate_limited
      if (this.fetchAgain) this.fetchMissing();
    });
  }

  /** After a reconnection: what was not acknowledged goes again, with the same client id. */
  resendUnsent() {
    this.fetching = false;
    for (const item of this.unsent.values()) this.send(item);
  }

  add(message, { quiet = false, fetched = false } = {}) {
    lastMessageIds[this.chatId] = Math.max(lastMessageIds[this.chatId] || 0, message.id);
    this.held(message);
    if (!fetched && this.lastSeq > this.contiguous) this.fetchMissing();
    const pending = this.messages.get(`c:${message.client_id}`);
    if (pending && pending.dataset.role === "AGENT" && pending.dataset.mine === "true") {
      this.stored(pending, message);
      return;
    }
    if (this.messages.has(message.id)) return;
    const el = this.element(message.sender.role, message.sender.name, message.body, message.sent_at, message.attachments);
    el.dataset.id = message.id;
    this.messages.set(message.id, el);
    this.insert(el, message.id);
    if (!quiet && message.attachments?.length) this.filesSent();
    if (!quiet && message.sender.role === "VISITOR") {
      this.side.visitorSaidMore();
      this.setTyping(false);
      if (!this.desk.isSelected(this.chatId) || document.hidden) { this.unread += 1; this.drawTab(); }
    }
    this.scroll();
  }

  element(role, name, body, sentAt, attachments = []) {
    const time = sentAt ? h("time", { datetime: sentAt, title: localDateTime(sentAt) }, localTime(sentAt)) : h("time", {}, "now");
    return h("div", { class: `msg msg-${role.toLowerCase()}`, dataset: { role } },
      h("div", { class: "msg-meta" }, h("span", { class: "msg-sender" }, name), time),
      body ? h("div", { class: "msg-body" }, body) : null,
      filesOf(attachments));
  }

  /** A message carried files: they belong to the SR now, so its form beside the chat lists them. */
  filesSent() {
    clearTimeout(this.filesTimer);
    this.filesTimer = setTimeout(() => this.srForm.refresh(), 300);
  }

  /** Put a text into the composer for editing (e.g. a solution that solved it before). */
  compose(text) {
    if (this.status !== "ACTIVE") return;
    this.textarea.value = text;
    this.textarea.focus();
    this.textarea.setSelectionRange(text.length, text.length);
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

  /** Reply to the end user, or write an internal note only agents and managers see. */
  setMode(mode) {
    this.mode = mode;
    for (const button of this.pane.querySelectorAll(".mode-button")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
    const composer = this.q(".composer");
    composer.classList.toggle("is-note", mode === "note");
    this.q(".send-button").textContent = mode === "note" ? "Add note" : "Send";
    this.q(".attach-button").disabled = mode === "note" || this.status !== "ACTIVE";
    this.textarea.placeholder = mode === "note"
      ? "Internal note: only agents and managers see it; it goes onto the SR's work log."
      : this.replyPlaceholder;
    if (mode === "note") this.typing(false);
    this.textarea.focus();
  }

  /** An internal note or whisper, placed by its time among the messages. */
  addNote(note, { quiet = false } = {}) {
    const pending = this.messages.get(`nc:${note.client_id}`);
    if (pending) { pending.remove(); this.messages.delete(`nc:${note.client_id}`); }
    if (this.messages.has(`n:${note.id}`)) return;
    const el = this.noteElement(note);
    this.messages.set(`n:${note.id}`, el);
    const after = [...this.list.children].find((child) => {
      const at = child.querySelector("time[datetime]")?.getAttribute("datetime");
      return at && at > note.created_at;
    });
    this.list.insertBefore(el, after || this.list.querySelector(".msg[data-pending='true']") || null);
    if (!quiet && note.kind === "WHISPER" && (!this.desk.isSelected(this.chatId) || document.hidden)) { this.unread += 1; this.drawTab(); }
    this.scroll(!quiet);
  }

  noteElement(note) {
    const whisper = note.kind === "WHISPER";
    const label = whisper ? `Whisper from ${note.author.name}` : "Internal note";
    const time = note.created_at ? h("time", { datetime: note.created_at, title: localDateTime(note.created_at) }, localTime(note.created_at)) : h("time", {}, "now");
    return h("div", { class: `msg msg-internal ${whisper ? "msg-whisper" : ""}`, dataset: { noteId: note.id ?? "", kind: note.kind }, role: whisper ? "alert" : null },
      h("div", { class: "msg-meta" },
        h("span", { class: "internal-badge" }, whisper ? "Whisper" : "Internal"),
        h("span", { class: "msg-sender" }, whisper ? label : note.author.name), time),
      h("div", { class: "msg-body" }, note.body),
      whisper ? null : h("div", { class: "internal-hint" }, "Only agents and managers see this."));
  }

  sendNote() {
    const body = this.textarea.value;
    if (!body.trim() || this.status !== "ACTIVE") return;
    const clientId = newClientId();
    const el = this.noteElement({ kind: "NOTE", author: { name: this.desk.myName }, body, created_at: null });
    el.dataset.pending = "true";
    this.messages.set(`nc:${clientId}`, el);
    this.list.append(el);
    this.textarea.value = "";
    this.scroll(true);
    this.desk.socket.timeout(ACK_TIMEOUT).emit("note", { chat_id: this.chatId, body, client_id: clientId }, (err, ack) => {
      if (!err && ack?.ok) { this.addNote(ack.note); return; }
      el.remove();
      this.messages.delete(`nc:${clientId}`);
      this.textarea.value = body;
      toast(err ? "The note could not be saved (no connection); it is back in the box." : (ack?.message || "The note could not be saved."), "error");
    });
  }

  send(retry = null) {
    if (!retry && this.mode === "note") { this.sendNote(); return; }
    const body = retry ? retry.body : this.textarea.value;
    if (this.status !== "ACTIVE") return;
    if (!retry && this.tray.busy) { toast("The message goes once its files are uploaded: wait, or retry or remove the failed ones.", "error"); return; }
    const files = retry ? retry.files : this.tray.stored;
    if (!body.trim() && !files.length) return;
    const clientId = retry ? retry.clientId : newClientId();
    let el = retry?.el;
    if (!el) {
      this.tray.clear();
      el = this.element("AGENT", this.desk.myName, body, null, files);
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
    const payload = { chat_id: this.chatId, body, client_id: clientId };
    if (files.length) payload.attachment_ids = files.map((file) => file.id);
    this.unsent.set(clientId, { body, clientId, el, files });
    this.desk.socket.timeout(ACK_TIMEOUT).emit("send", payload, (err, ack) => {
      if (!err && ack?.ok) { this.unsent.delete(clientId); this.stored(el, ack.message); return; }
      if (!err) this.unsent.delete(clientId); // refused: say why; retried only by hand
      else if (!this.desk.socket.connected) { this.setState(el, "sending", "Sending when the connection is back…"); return; }
      this.setState(el, "failed", err ? "Not sent (no connection)" : (ack?.message || "Not sent"));
      const state = el.querySelector(".msg-state");
      state.append(" ", h("button", { type: "button", class: "link-button", onclick: () => this.send({ body, clientId, el, files }) }, "Retry"));
    });
  }

  setState(el, state, text) {
    const box = el.querySelector(".msg-state");
    if (!box) return;
    box.dataset.state = state;
    box.replaceChildren(text);
  }

  /** Note a message's seq: lastSeq and contiguous (every seq up to it held) move on. */
  held(message) {
    if (!message.seq) return;
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    this.seqs.add(message.seq);
    while (this.seqs.has(this.contiguous + 1)) this.contiguous += 1;
  }

  stored(el, message) {
    this.held(message);
    if (this.lastSeq > this.contiguous) this.fetchMissing();
    if (el.dataset.pending !== "true") return;
    delete el.dataset.pending;
    el.dataset.id = message.id;
    this.messages.set(message.id, el);
    const time = el.querySelector("time");
    time.dateTime = message.sent_at;
    time.title = localDateTime(message.sent_at);
    time.textContent = localTime(message.sent_at);
    el.querySelector(".msg-files")?.replaceWith(filesOf(message.attachments) || "");
    if (message.attachments?.length) this.filesSent();
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
    this.desk.socket.emit("typing", { chat_id: this.chatId, typing: active });
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
    this.desk.keep(this.chatId, true);
    if (reason) this.note(reason);
    this.setTyping(false);
    this.q(".composer").classList.add("is-closed");
    this.textarea.disabled = true;
    this.textarea.placeholder = "This chat has ended. The SR stays open beside it.";
    this.q(".send-button").disabled = true;
    this.q(".attach-button").disabled = true;
    for (const button of this.pane.querySelectorAll(".mode-button")) button.disabled = true;
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
      this.desk.socket.timeout(ACK_TIMEOUT).emit("close", { chat_id: this.chatId }, (err, ack) => {
        if (err || !ack?.ok) { toast(ack?.message || "The chat could not be closed; try again.", "error"); return; }
        this.closed("You closed the chat.");
      });
    };
    dialog.showModal();
  }

  askTransfer() {
    const dialog = document.getElementById("transfer-dialog");
    const queueEl = dialog.querySelector("#transfer-queue");
    const agentEl = dialog.querySelector("#transfer-agent");
    const noteEl = dialog.querySelector("textarea");
    const nobody = dialog.querySelector(".transfer-nobody");
    const kind = () => dialog.querySelector('input[name="kind"]:checked').value;
    const show = () => {
      dialog.querySelector(".transfer-to-queue").hidden = kind() !== "queue";
      dialog.querySelector(".transfer-to-agent").hidden = kind() !== "agent";
    };
    noteEl.value = "";
    dialog.querySelector('input[value="queue"]').checked = true;
    for (const radio of dialog.querySelectorAll('input[name="kind"]')) radio.onchange = show;
    show();
    queueEl.replaceChildren(...this.desk.queues.filter((q) => q.id !== this.summary.queue.id)
      .map((q) => h("option", { value: q.id }, q.name)));
    agentEl.replaceChildren();
    nobody.hidden = true;
    // Who can take it now is asked each time the dialog opens (availability changes).
    api("GET", `/agent/api/chats/${this.chatId}/handover-agents`).then(({ ok, data }) => {
      const agents = ok ? data.agents : [];
      agentEl.replaceChildren(...agents.map((a) =>
        h("option", { value: a.id }, `${a.name} · ${a.active_chats} of ${a.max_chats} chats`)));
      agentEl.disabled = agents.length === 0;
      nobody.hidden = agents.length > 0;
    });
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue !== "confirm") return;
      let payload;
      if (kind() === "agent") {
        if (!agentEl.value) return;
        payload = { chat_id: this.chatId, agent: Number(agentEl.value) };
      } else {
        if (!queueEl.value) return;
        payload = { chat_id: this.chatId, queue: Number(queueEl.value) };
        if (noteEl.value.trim()) payload.note = noteEl.value;
      }
      this.handingOver = "agent" in payload; // its answer names the agent: the event waits
      this.desk.socket.timeout(ACK_TIMEOUT).emit("transfer", payload, (err, ack) => {
        this.handingOver = false;
        if (err || !ack?.ok) { toast(ack?.message || "The chat could not be transferred.", "error"); return; }
        if (ack.to_agent) this.handedOver(ack.to_agent); else this.transferred(ack.to_queue);
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

  handedOver(toAgent) {
    if (this.status === "TRANSFERRED") return;
    toast(`Chat with ${this.summary.end_user.name} handed to ${toAgent?.name || "another agent"}.`, "success");
    this.status = "TRANSFERRED";
    this.dismiss(true);
  }

  dismiss(force = false) {
    if (!force && this.srForm.dirty && !window.confirm(`You have unsaved changes to ${this.summary.sr.number}. Remove the tab anyway? (They stay as a draft.)`)) return;
    this.tab.remove();
    this.pane.remove();
    this.desk.removed(this);
  }
}
