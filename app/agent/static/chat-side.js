// Beside a chat: where the end user asks from (a line in the chat's header), his earlier
// requests and chats, and "Solved before" — resolved SRs like his question, each with a
// button that puts its solution into the composer for editing.

import { contextItems } from "./context.js";
import { h, localDateTime } from "./dom.js";
import { api } from "./http.js";

const REFRESH_AFTER = 1500; // ms after the end user's latest message

export class ChatSide {
  constructor(view) {
    this.view = view;
    this.box = view.q(".chat-side");
    this.line = view.q(".context-line");
    this.timer = null;
  }

  async load() {
    const result = await api("GET", `/agent/api/chats/${this.view.chatId}/side`);
    if (!result.ok) return;
    this.drawContext(result.data.context);
    this.earlier = result.data.earlier;
    this.solved = result.data.solved_before;
    this.draw();
  }

  /** The end user said more: look again for what solved it before, once he pauses. */
  visitorSaidMore() {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const result = await api("GET", `/agent/api/chats/${this.view.chatId}/solved-before`);
      if (result.ok) { this.solved = result.data.solved_before; this.draw(); }
    }, REFRESH_AFTER);
  }

  drawContext(context) {
    const parts = contextItems(context);
    this.line.replaceChildren(...parts);
    this.line.hidden = parts.length === 0;
  }

  draw() {
    const cards = [];
    if (this.solved?.length) {
      cards.push(h("section", { class: "side-card solved-before" },
        h("h3", {}, "Solved before"),
        h("ol", { class: "solved-list" }, this.solved.map((item) => h("li", { class: "solved-item" },
          h("div", { class: "solved-head" },
            h("a", { href: item.link, target: "_blank", rel: "noopener", class: "solved-number" }, item.number),
            h("span", { class: "solved-summary" }, item.summary)),
          h("p", { class: "solved-solution" }, item.solution),
          h("button", { type: "button", class: "btn btn-small use-solution", onclick: () => this.view.compose(item.solution) }, "Use this answer"))))));
    }
    if (this.earlier) {
      const requests = this.earlier.requests;
      cards.push(h("section", { class: "side-card earlier" },
        h("h3", {}, "Earlier requests", h("span", { class: "pill" }, String(requests.length))),
        this.earlier.verified ? null : h("p", { class: "unverified-note" },
          "E-mail not verified: typed by the visitor. Showing only requests you may open anyway."),
        requests.length ? h("ol", { class: "earlier-list" }, requests.map((sr) => h("li", { class: "earlier-item" },
          h("a", { href: sr.link, target: "_blank", rel: "noopener", class: "earlier-number" }, sr.number),
          h("span", { class: `status-chip status-${sr.status.toLowerCase()}` }, sr.status),
          h("span", { class: "earlier-summary" }, sr.summary),
          h("span", { class: "earlier-meta muted" }, `${localDateTime(sr.created_at)} · ${sr.chats.length} chat${sr.chats.length === 1 ? "" : "s"}`))))
          : h("p", { class: "muted" }, "None.")));
    }
    this.box.replaceChildren(...cards);
    this.box.hidden = cards.length === 0;
  }
}
