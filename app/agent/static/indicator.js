// The Welcome bar's chat-queue indicator: text "Chat Queue (N)" or a bubble with a count box.
// Readable by tests and assistive tools through id, data-count, data-state and aria-label.

import { h } from "./dom.js";

const MARK = { unknown: "?", error: "!" };

/**
 * Render into the #chat-queue-indicator element.
 * state: "idle" | "waiting" | "unknown" | "error"; count: number or null; detail: tooltip text.
 */
export function renderIndicator(el, { state, count, detail }) {
  const style = el.dataset.style === "bubble" ? "bubble" : "text";
  const shown = MARK[state] ?? String(count ?? 0);
  el.dataset.state = state;
  el.dataset.count = state === "idle" || state === "waiting" ? String(count) : "";
  el.title = detail;
  el.setAttribute("aria-label", `Chat queue: ${detail}`);
  el.classList.toggle("is-waiting", state === "waiting");
  const icon = el.querySelector(".cq-icon");
  el.replaceChildren(icon);
  if (style === "text") el.append(h("span", { class: "cq-label" }, `Chat Queue (${shown})`));
  else el.append(h("span", { class: "cq-badge" }, shown));
}

/** The tooltip: what waits where, or what is wrong with the link. */
export function describe(state, queueState, problem) {
  if (state === "unknown") return problem || "Connecting to the chat queue…";
  if (state === "error") return problem || "The chat queue reports an error.";
  const total = queueState.total;
  if (!total) return "No chats waiting";
  const where = queueState.queues.filter((q) => q.waiting > 0)
    .map((q) => `${q.name} ${q.waiting}`).join(", ");
  const oldest = queueState.oldest_wait_seconds;
  const wait = oldest == null ? "" : ` · longest wait ${oldest < 60 ? `${oldest} s` : `${Math.floor(oldest / 60)} min`}`;
  return `${total} chat${total === 1 ? "" : "s"} waiting (${where})${wait}`;
}
