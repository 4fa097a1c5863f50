// The SR's activity column: work log (add and list), the files its chats carried, status
// history and chat transcripts. A half-written work-log entry is kept as a draft like the
// form's own edits.

import { extension, humanSize } from "./attachments.js";
import { forgetDraft, isDirty, readDraft, setDirty, writeDraft } from "./drafts.js";
import { h, localDateTime, toast } from "./dom.js";
import { api } from "./http.js";

export class SrActivity {
  constructor(number, { compact = false, onDirtyChange = () => {} } = {}) {
    this.number = number;
    this.compact = compact;
    this.onDirtyChange = onDirtyChange;
    this.key = `sr-worklog-draft:${number}`;
    this.list = h("ol", { class: "log-list work-log-list" });
    this.summary = h("input", { type: "text", name: "worklog_summary", maxlength: 200, placeholder: "Summary", "aria-label": "Work-log summary" });
    this.details = h("textarea", { name: "worklog_details", rows: 2, placeholder: "Details (optional)", "aria-label": "Work-log details" });
    this.visible = h("input", { type: "checkbox", name: "worklog_client_visible" });
    this.error = h("div", { class: "field-error", "data-error-for": "worklog", hidden: true });
    const form = h("form", { class: "work-log-form", novalidate: true },
      this.summary, this.details,
      h("div", { class: "form-footer" },
        h("label", { class: "check" }, this.visible, " Visible to the end user"),
        h("span", { class: "spacer" }),
        h("button", { type: "submit", class: "btn add-log-button" }, "Add entry")),
      this.error);
    form.addEventListener("submit", (event) => { event.preventDefault(); this.add(); });
    form.addEventListener("input", () => this.changed());
    form.addEventListener("change", () => this.changed());
    this.files = h("div", { class: "sr-file-box" });
    this.fileCount = h("span", { class: "count" });
    this.history = h("ol", { class: "log-list history-list" });
    this.transcripts = h("div", { class: "transcripts" });
    this.count = h("span", { class: "count" });
    this.el = h("div", { class: "sr-activity" },
      h("section", { class: "sr-section sr-worklog" }, h("h3", {}, "Work log ", this.count), form, this.list),
      h("section", { class: "sr-section sr-files" }, h("h3", {}, "Files ", this.fileCount), this.files),
      h("section", { class: "sr-section sr-history" }, h("h3", {}, "Status history"), this.history),
      h("section", { class: "sr-section sr-transcript" }, h("h3", {}, "Transcript"), this.transcripts));
    const draft = readDraft(this.key);
    if (draft) {
      this.summary.value = draft.summary || "";
      this.details.value = draft.details || "";
      this.visible.checked = !!draft.client_visible;
      this.changed();
    }
  }

  get dirty() { return isDirty(this); }

  changed() {
    const dirty = Boolean(this.summary.value.trim() || this.details.value.trim());
    if (dirty) writeDraft(this.key, { summary: this.summary.value, details: this.details.value, client_visible: this.visible.checked });
    else forgetDraft(this.key);
    setDirty(this, dirty);
    this.onDirtyChange();
  }

  draw(sr) {
    this.sr = sr;
    this.count.textContent = sr.work_log.length ? `(${sr.work_log.length})` : "";
    this.list.replaceChildren(...(sr.work_log.length ? [...sr.work_log].reverse().map((e) => h("li", { class: "log-entry" },
      h("div", { class: "log-meta" }, h("strong", {}, e.author), " · ", localDateTime(e.created_at),
        e.client_visible ? h("span", { class: "tag" }, "visible to end user") : null,
        e.type !== "WORK" ? h("span", { class: "tag" }, e.type.toLowerCase()) : null),
      h("div", { class: "log-summary" }, e.summary),
      e.details ? h("div", { class: "log-details" }, e.details) : null))
      : [h("li", { class: "muted empty-line" }, "No entries yet.")]));
    this.fileCount.textContent = sr.attachments.length ? `(${sr.attachments.length})` : "";
    this.files.replaceChildren(sr.attachments.length
      ? h("ul", { class: "sr-file-list" }, sr.attachments.map(sentFile))
      : h("p", { class: "muted empty-line" }, "No files were sent in its chats."));
    this.history.replaceChildren(...[...sr.history].reverse().map((row) => h("li", { class: "log-entry" },
      h("div", { class: "log-meta" }, h("strong", {}, row.by), " · ", localDateTime(row.at)),
      h("div", { class: "log-summary" }, row.from ? `${row.from} → ${row.to}` : `Opened as ${row.to}`,
        row.group ? h("span", { class: "muted" }, ` · ${row.group}`) : null),
      row.memo ? h("div", { class: "log-details" }, row.memo) : null)));
    const live = sr.chats.some((c) => c.status === "ACTIVE" || c.status === "WAITING");
    this.transcripts.replaceChildren(...(sr.transcripts.length
      ? sr.transcripts.map((t, i) => h("details", { class: "transcript", open: i === sr.transcripts.length - 1 && !this.compact },
        h("summary", {}, `${t.summary} · ${localDateTime(t.created_at)}`),
        h("pre", { class: "transcript-text" }, t.details || "")))
      : [h("p", { class: "muted" }, live ? "The transcript is attached when the chat closes." : "No chat transcript.")]));
  }

  async add() {
    this.error.hidden = true;
    const result = await api("POST", `/agent/api/sr/${encodeURIComponent(this.number)}/worklog`, {
      summary: this.summary.value, details: this.details.value, client_visible: this.visible.checked,
    });
    if (!result.ok) { this.error.textContent = result.data.message; this.error.hidden = false; return; }
    this.summary.value = "";
    this.details.value = "";
    this.visible.checked = false;
    this.changed();
    this.sr.work_log.push(result.data.entry);
    this.draw(this.sr);
    toast("Work-log entry added.", "success");
  }
}

/** One file of the SR: its thumbnail (or type), name, size and type, who sent it and when. */
function sentFile(file) {
  const image = Boolean(file.thumbnail_url);
  const opens = image ? { target: "_blank", rel: "noopener" } : { download: file.name };
  const who = file.sent_by.role === "VISITOR" ? "end user" : "agent";
  return h("li", { class: "sr-file", dataset: { id: file.id } },
    image
      ? h("a", { class: "sr-file-thumb", href: file.url, title: `Open ${file.name}`, ...opens },
        h("img", { src: file.thumbnail_url, alt: file.name, loading: "lazy" }))
      : h("span", { class: "file-icon", "aria-hidden": "true" }, extension(file.name)),
    h("div", { class: "file-text" },
      h("a", { class: "file-name", href: file.url, ...opens }, file.name),
      h("span", { class: "file-meta" }, `${humanSize(file.size)} · ${file.content_type}`),
      h("span", { class: "file-meta file-sent" }, `${file.sent_by.name} (${who}) · ${localDateTime(file.sent_at)}`)));
}
