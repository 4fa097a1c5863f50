// The composer's `/` list: typing `/` at the start of a word opens the chat's canned responses
// (the agent's own and his queue's, already filled in for this chat); typing filters them,
// arrows move, Enter or Tab puts the text into the composer for editing, Esc closes. Nothing
// is ever sent from here.

import { api } from "./http.js";
import { h } from "./dom.js";

const TOKEN = /(^|\s)\/([^\s/]*)$/;

export class CannedPicker {
  constructor(textarea, chatId) {
    this.textarea = textarea;
    this.chatId = chatId;
    this.responses = null; // loaded on first use
    this.items = [];
    this.index = 0;
    this.box = h("div", { class: "canned-picker", role: "listbox", id: `canned-${chatId}`, "aria-label": "Canned responses", hidden: true });
    textarea.closest(".composer").append(this.box);
    textarea.setAttribute("aria-controls", this.box.id);
    textarea.addEventListener("input", () => this.update());
    textarea.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  get open() { return !this.box.hidden; }

  /** The `/word` just before the caret, or null. */
  token() {
    const before = this.textarea.value.slice(0, this.textarea.selectionStart);
    const match = TOKEN.exec(before);
    return match ? { query: match[2].toLowerCase(), start: before.length - match[2].length - 1 } : null;
  }

  async update() {
    const token = this.token();
    if (!token) { this.close(); return; }
    if (this.responses === null) {
      this.responses = [];
      const { ok, data } = await api("GET", `/agent/api/chats/${this.chatId}/canned-responses`);
      this.responses = ok ? data.responses : [];
      if (!ok) { this.loadError = data.message || "The canned responses could not be loaded."; this.responses = null; }
    }
    const now = this.token(); // the agent may have typed on while they loaded
    if (!now) { this.close(); return; }
    const q = now.query;
    this.items = (this.responses || []).filter((r) => !q || r.shortcut.includes(q) || r.title.toLowerCase().includes(q))
      .sort((a, b) => Number(!a.shortcut.startsWith(q)) - Number(!b.shortcut.startsWith(q)));
    this.index = Math.min(this.index, Math.max(0, this.items.length - 1));
    this.draw();
  }

  draw() {
    const head = h("div", { class: "canned-picker-head" }, h("span", {}, "Canned responses"), h("span", {}, "↑↓ choose · Enter insert · Esc close"));
    const rows = this.items.map((r, i) => h("div", {
      class: "canned-option", role: "option", id: `canned-${this.chatId}-${r.id}`, "aria-selected": i === this.index ? "true" : "false",
      dataset: { shortcut: r.shortcut },
      onmousedown: (event) => { event.preventDefault(); this.index = i; this.choose(); },
    }, h("span", { class: "canned-shortcut" }, `/${r.shortcut}`),
      h("span", { class: "canned-title" }, r.title, " ", h("span", { class: "canned-scope" }, r.scope === "mine" ? "· mine" : "· queue", r.language ? ` · ${r.language}` : "")),
      h("span", { class: "canned-snippet" }, r.text)));
    const empty = this.loadError || (this.responses?.length ? "No response matches; keep typing or press Esc." : "No canned responses yet: add your own under Settings → My canned responses.");
    this.box.replaceChildren(head, ...(rows.length ? rows : [h("div", { class: "canned-empty" }, empty)]));
    this.box.hidden = false;
    this.textarea.setAttribute("aria-expanded", "true");
    const current = rows[this.index];
    if (current) { this.textarea.setAttribute("aria-activedescendant", current.id); current.scrollIntoView({ block: "nearest" }); }
  }

  close() {
    if (!this.open) return;
    this.box.hidden = true;
    this.textarea.setAttribute("aria-expanded", "false");
    this.textarea.removeAttribute("aria-activedescendant");
  }

  /** The composer's keydown: true when the list took the key (so Enter does not send). */
  handleKey(event) {
    if (!this.open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      if (this.items.length) this.index = (this.index + step + this.items.length) % this.items.length;
      this.draw();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.isComposing) {
      if (!this.items.length) { this.close(); return event.key === "Enter" ? (event.preventDefault(), true) : false; }
      this.choose();
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  choose() {
    const chosen = this.items[this.index];
    const token = this.token();
    this.close();
    if (!chosen || !token) return;
    const value = this.textarea.value;
    const caret = this.textarea.selectionStart;
    this.textarea.value = value.slice(0, token.start) + chosen.text + value.slice(caret);
    const end = token.start + chosen.text.length;
    this.textarea.focus();
    this.textarea.setSelectionRange(end, end);
    this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }
}
