// The SR form: status (allowed transitions only), owner group, priority, impact, CI, asset,
// solution, work log, status history and transcript. Saves with the version it was loaded at;
// a stale version shows the conflict and keeps the agent's edits. Unsaved edits are kept as a
// draft in localStorage (surviving a reload), and leaving the page with them warns.

import { contextItems } from "./context.js";
import { h, localDateTime, toast } from "./dom.js";
import { forgetDraft, isDirty, readDraft, setDirty, writeDraft } from "./drafts.js";
import { api } from "./http.js";
import { Picker } from "./picker.js";
import { SrActivity } from "./sr-activity.js";


const PRIORITY = { 1: "1 · Urgent", 2: "2 · High", 3: "3 · Medium", 4: "4 · Low", 5: "5 · Planning" };
const IMPACT = { 1: "1 · Extensive", 2: "2 · Significant", 3: "3 · Moderate", 4: "4 · Minor", 5: "5 · Minimal" };
const STATUS_HELP = {
  QUEUED: "queue to a group",
  INPROGRESS: "I am working on it",
  RESOLVED: "solved, e-mail the end user",
  CANCELLED: "not needed",
  CLOSED: "done",
};
const FIELDS = ["status", "queue_to", "other_group", "owner_group_id", "reported_priority",
  "impact", "ci", "asset", "solution", "memo"];

let groupsPromise = null;
let formCounter = 0;

function groups() {
  groupsPromise ??= api("GET", "/agent/api/groups").then((r) => (r.ok ? r.data.groups : []));
  return groupsPromise;
}

const draftKey = (number) => `sr-draft:${number}`;

function options(map, current) {
  return [h("option", { value: "" }, "—"),
    ...Object.entries(map).map(([value, label]) => h("option", { value, selected: String(current) === value }, label))];
}

export class SrForm {
  constructor(root, number, { compact = false, onDirtyChange = () => {} } = {}) {
    this.root = root;
    this.number = number;
    this.compact = compact;
    this.onDirtyChange = onDirtyChange;
    this.sr = null;
    this.baseVersion = null;
    this.uid = `sr${++formCounter}`;
    this.root.replaceChildren(h("p", { class: "muted loading" }, `Loading ${number}…`));
    // Another tab saved or discarded this SR and forgot the draft: keep ours while we hold edits.
    window.addEventListener("storage", (event) => {
      if (event.key === draftKey(this.number) && event.newValue === null && isDirty(this)) this.changed();
    });
  }

  /** Unsaved edits in the form or a half-written work-log entry. */
  get dirty() { return isDirty(this) || Boolean(this.activity?.dirty); }

  async load() {
    const [result, groupList] = await Promise.all([
      api("GET", `/agent/api/sr/${encodeURIComponent(this.number)}`), groups()]);
    if (!result.ok) {
      this.root.replaceChildren(h("p", { class: "error-box" }, result.data.message || "The SR cannot be loaded."));
      return;
    }
    this.groups = groupList;
    const draft = readDraft(draftKey(this.number)); // read before fill(), which forgets drafts of saved forms
    this.build();
    this.fill(result.data.sr);
    this.restoreDraft(draft);
  }

  // --- building ------------------------------------------------------------------------------

  id(name) { return `${this.uid}-${name}`; }

  field(label, name, control, hint) {
    return h("div", { class: `field field-${name}` },
      h("label", { for: this.id(name) }, label), control,
      hint ? h("div", { class: "hint" }, hint) : null,
      h("div", { class: "field-error", "data-error-for": name, hidden: true }));
  }

  build() {
    const el = (tag, name, attrs = {}, ...children) => h(tag, { id: this.id(name), name, ...attrs }, ...children);
    this.status = el("select", "status");
    this.ownerGroup = el("select", "owner_group_id");
    this.otherGroup = el("select", "other_group", { "aria-label": "Another group" });
    this.priority = el("select", "reported_priority");
    this.impact = el("select", "impact");
    this.solution = el("textarea", "solution", { rows: this.compact ? 3 : 4, placeholder: "What solved it (sent to the end user when resolved)" });
    this.memo = el("input", "memo", { type: "text", maxlength: 2000, placeholder: "Optional: why the status changes" });
    this.ci = new Picker({ name: "ci", url: "/agent/api/cis", placeholder: "Search CIs…", onChange: () => this.changed() });
    this.asset = new Picker({ name: "asset", url: "/agent/api/assets", placeholder: "Search assets…", onChange: () => this.changed() });
    this.ci.input.id = this.id("ci");
    this.asset.input.id = this.id("asset");
    this.queueOwn = h("input", { type: "radio", name: `${this.uid}-queue_to`, value: "own", "data-field": "queue_to" });
    this.queueOther = h("input", { type: "radio", name: `${this.uid}-queue_to`, value: "other", "data-field": "queue_to" });
    this.ownGroupName = h("strong");
    this.queueTo = h("fieldset", { class: "queue-to", hidden: true },
      h("legend", {}, "Queue the SR to"),
      h("label", { class: "check" }, this.queueOwn, "Own group: ", this.ownGroupName),
      h("label", { class: "check" }, this.queueOther, " Another group"),
      this.otherGroup,
      h("div", { class: "field-error", "data-error-for": "queue_to", hidden: true }));

    this.head = h("header", { class: "sr-head" });
    this.conflict = h("div", { class: "banner banner-conflict", role: "alert", hidden: true });
    this.draftNote = h("div", { class: "banner banner-draft", hidden: true });
    this.saveState = h("span", { class: "save-state", "aria-live": "polite" });
    this.saveButton = h("button", { type: "submit", class: "btn btn-primary save-button" }, "Save");
    this.discardButton = h("button", { type: "button", class: "btn discard-button", hidden: true, onclick: () => this.discard() }, "Discard");

    this.form = h("form", { class: "sr-fields", novalidate: true },
      this.field("Status", "status", this.status), this.queueTo,
      this.field("Owner group", "owner_group_id", this.ownerGroup),
      h("div", { class: "field-row" },
        this.field("Reported priority", "reported_priority", this.priority),
        this.field("Impact", "impact", this.impact)),
      this.field("Configuration item (CI)", "ci", this.ci.el),
      this.field("Asset", "asset", this.asset.el),
      this.field("Solution", "solution", this.solution),
      this.field("Note for the status history", "memo", this.memo),
      h("div", { class: "form-footer" }, this.saveState, h("span", { class: "spacer" }), this.discardButton, this.saveButton));
    this.form.addEventListener("input", () => this.changed());
    this.form.addEventListener("change", () => this.changed());
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });

    this.activity = new SrActivity(this.number, { compact: this.compact, onDirtyChange: () => this.onDirtyChange(this.dirty) });
    this.root.replaceChildren(h("div", { class: `sr-form ${this.compact ? "sr-form-compact" : ""}`, dataset: { number: this.number } },
      h("div", { class: "sr-main card" }, this.head, this.conflict, this.draftNote, this.form), this.activity.el));
  }

  // --- filling -------------------------------------------------------------------------------

  fill(sr) {
    this.sr = sr;
    this.baseVersion = sr.version;
    const reporter = sr.reported_by || {};
    const where = contextItems(sr.context);
    this.head.replaceChildren(
      h("div", { class: "sr-title-row" },
        h("a", { class: "sr-number", href: `/sr/${encodeURIComponent(sr.number)}`, target: this.compact ? "_blank" : null }, sr.number),
        h("span", { class: `status-badge status-${sr.status.toLowerCase()}`, "data-sr-status": sr.status }, sr.status),
        h("span", { class: "sr-version muted", title: "Version used to detect concurrent edits" }, `v${sr.version}`)),
      h("h2", { class: "sr-summary" }, sr.summary),
      h("dl", { class: "sr-facts" },
        h("dt", {}, "Reported by"), h("dd", {}, reporter.name || "—",
          reporter.email ? h("span", { class: "muted" }, ` · ${reporter.email}`) : null,
          reporter.phone ? h("span", { class: "muted" }, ` · ${reporter.phone}`) : null),
        h("dt", {}, "Owner"), h("dd", { class: "sr-owner" }, sr.owner ? sr.owner.name : "—"),
        h("dt", {}, "Changed"), h("dd", {}, localDateTime(sr.changed_at), sr.changed_by ? ` by ${sr.changed_by}` : ""),
        where.length ? [h("dt", {}, "Asked from"), h("dd", { class: "sr-context" }, where)] : null),
    );
    const keep = sr.allowed_transitions.includes(sr.status)
      ? `Keep ${sr.status} (no status change)` : `${sr.status} (no status change)`;
    this.status.replaceChildren(h("option", { value: "" }, keep),
      ...sr.allowed_transitions.map((s) => h("option", { value: s }, `${s} — ${STATUS_HELP[s] || s}`)));
    this.status.disabled = sr.allowed_transitions.length === 0;
    const groupOptions = (exclude) => this.groups.filter((g) => g.id !== exclude)
      .map((g) => h("option", { value: g.id }, g.name + (g.mine ? " (mine)" : "")));
    this.ownerGroup.replaceChildren(h("option", { value: "" }, "—"), ...groupOptions(null));
    this.otherGroup.replaceChildren(h("option", { value: "" }, "Choose a group…"), ...groupOptions(sr.owner_group?.id));
    this.ownGroupName.textContent = sr.owner_group ? sr.owner_group.name : "(none)";
    this.queueOwn.disabled = !sr.owner_group;
    this.priority.replaceChildren(...options(PRIORITY));
    this.impact.replaceChildren(...options(IMPACT));
    this.setValues(this.serverValues());
    this.activity.draw(sr);
    this.markClean();
  }

  serverValues() {
    const sr = this.sr;
    return {
      status: "", queue_to: "", other_group: "", owner_group_id: sr.owner_group ? String(sr.owner_group.id) : "",
      reported_priority: sr.reported_priority ? String(sr.reported_priority) : "",
      impact: sr.impact ? String(sr.impact) : "", ci: sr.ci, asset: sr.asset,
      solution: sr.solution || "", memo: "",
    };
  }

  values() {
    return {
      status: this.status.value,
      queue_to: this.queueOwn.checked ? "own" : this.queueOther.checked ? "other" : "",
      other_group: this.otherGroup.value,
      owner_group_id: this.ownerGroup.value,
      reported_priority: this.priority.value,
      impact: this.impact.value,
      ci: this.ci.value,
      asset: this.asset.value,
      solution: this.solution.value,
      memo: this.memo.value,
    };
  }

  setValues(v) {
    this.status.value = [...this.status.options].some((o) => o.value === v.status) ? v.status : "";
    this.queueOwn.checked = v.queue_to === "own";
    this.queueOther.checked = v.queue_to === "other";
    this.otherGroup.value = v.other_group || "";
    this.ownerGroup.value = v.owner_group_id || "";
    this.priority.value = v.reported_priority || "";
    this.impact.value = v.impact || "";
    this.ci.set(v.ci || null);
    this.asset.set(v.asset || null);
    this.solution.value = v.solution || "";
    this.memo.value = v.memo || "";
    this.layoutStatus();
  }

  layoutStatus() {
    const queued = this.status.value === "QUEUED";
    this.queueTo.hidden = !queued;
    this.ownerGroup.closest(".field").hidden = queued;
    this.otherGroup.disabled = !this.queueOther.checked;
    this.solution.closest(".field").classList.toggle("required", this.status.value === "RESOLVED");
    this.memo.closest(".field").hidden = !this.status.value; // a note goes with a status change
  }

  // --- dirty tracking and drafts -------------------------------------------------------------

  changedFields() {
    const now = this.values();
    const server = this.serverValues();
    return FIELDS.filter((name) => {
      if (name === "ci" || name === "asset") return (now[name]?.id ?? null) !== (server[name]?.id ?? null);
      if (name === "queue_to" || name === "other_group") return now.status === "QUEUED" && now[name] !== server[name];
      return now[name] !== server[name];
    });
  }

  changed() {
    this.layoutStatus();
    this.clearErrors();
    if (!this.sr) return;
    const dirty = this.changedFields().length > 0;
    if (dirty) {
      writeDraft(draftKey(this.number), { base_version: this.baseVersion, values: this.values() });
    } else {
      forgetDraft(draftKey(this.number));
    }
    setDirty(this, dirty);
    this.showDirty(dirty);
  }

  showDirty(dirty) {
    this.saveState.textContent = dirty ? "Unsaved changes (draft kept)" : "All changes saved";
    this.saveState.title = dirty ? "Your edits are kept in this browser until you save or discard them." : "";
    this.saveState.classList.toggle("is-dirty", dirty);
    this.discardButton.hidden = !dirty;
    this.root.dataset.dirty = dirty ? "true" : "false";
    this.onDirtyChange(dirty);
  }

  markClean() {
    forgetDraft(draftKey(this.number));
    setDirty(this, false);
    this.showDirty(false);
  }

  restoreDraft(draft) {
    if (!draft?.values) return;
    this.setValues({ ...this.serverValues(), ...draft.values });
    if (draft.base_version) this.baseVersion = draft.base_version;
    this.changed();
    if (!isDirty(this)) return;
    const stale = draft.base_version && draft.base_version !== this.sr.version;
    this.draftNote.replaceChildren(
      h("span", {}, `Restored your unsaved changes from ${localDateTime(draft.saved_at)}.`,
        stale ? " The SR has changed since; saving will show you the conflict." : ""));
    this.draftNote.hidden = false;
  }

  discard() {
    this.setValues(this.serverValues());
    this.baseVersion = this.sr.version;
    this.markClean();
    this.draftNote.hidden = true;
    this.conflict.hidden = true;
  }

  // --- saving --------------------------------------------------------------------------------

  payload() {
    const v = this.values();
    const s = this.serverValues();
    const changes = {};
    const num = (text) => (text === "" ? null : Number(text));
    if (v.status === "QUEUED") {
      if (v.queue_to === "own") changes.owner_group_id = this.sr.owner_group?.id ?? null;
      else if (v.queue_to === "other") changes.owner_group_id = num(v.other_group);
    } else if (v.owner_group_id !== s.owner_group_id) changes.owner_group_id = num(v.owner_group_id);
    if (v.reported_priority !== s.reported_priority) changes.reported_priority = num(v.reported_priority);
    if (v.impact !== s.impact) changes.impact = num(v.impact);
    if ((v.ci?.id ?? null) !== (s.ci?.id ?? null)) changes.ci_id = v.ci?.id ?? null;
    if ((v.asset?.id ?? null) !== (s.asset?.id ?? null)) changes.asset_id = v.asset?.id ?? null;
    if (v.solution !== s.solution) changes.solution = v.solution;
    const body = { version: this.baseVersion, changes };
    if (v.status) body.status = v.status;
    if (v.memo.trim()) body.memo = v.memo;
    return body;
  }

  showError(field, message) {
    const map = { owner_group_id: this.status.value === "QUEUED" ? "queue_to" : "owner_group_id", ci_id: "ci", asset_id: "asset" };
    const name = map[field] || field;
    const box = this.root.querySelector(`[data-error-for="${name}"]`);
    if (box) { box.textContent = message; box.hidden = false; return; }
    this.conflict.replaceChildren(h("span", {}, message));
    this.conflict.hidden = false;
  }

  clearErrors() {
    for (const box of this.form.querySelectorAll(".field-error")) box.hidden = true;
  }

  async save() {
    if (!this.sr || this.saving) return;
    this.clearErrors();
    const v = this.values();
    if (v.status === "QUEUED" && !v.queue_to) { this.showError("queue_to", "Choose own group or another group."); return; }
    if (v.status === "QUEUED" && v.queue_to === "other" && !v.other_group) { this.showError("queue_to", "Choose the group to queue the SR to."); return; }
    if (!this.changedFields().length) { toast("Nothing to save."); return; }
    this.saving = true;
    this.saveButton.disabled = true;
    this.saveButton.textContent = "Saving…";
    const result = await api("POST", `/agent/api/sr/${encodeURIComponent(this.number)}`, this.payload());
    this.saving = false;
    this.saveButton.disabled = false;
    this.saveButton.textContent = "Save";
    if (result.ok) {
      this.conflict.hidden = true;
      this.draftNote.hidden = true;
      this.fill(result.data.sr);
      toast(`${this.number} saved.`, "success");
      return;
    }
    if (result.status === 409) { this.showConflict(result.data.message); return; }
    if (result.status === 401) { this.showError(null, "Your session has ended. Your edits are kept as a draft: log in again in another tab, then save."); return; }
    this.showError(result.data.field, result.data.message || "The SR could not be saved.");
  }

  showConflict(message) {
    const reload = h("button", { type: "button", class: "btn btn-small", onclick: () => this.rebase() }, "Load their version, keep my edits");
    this.draftNote.hidden = true;
    this.conflict.replaceChildren(h("strong", {}, "Someone else changed this SR. "), h("span", {}, message), " ", reload);
    this.conflict.hidden = false;
    this.conflict.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  /** After a conflict: take the latest SR as the base and lay the agent's edits over it again. */
  async rebase() {
    const mine = this.values();
    const edited = this.changedFields();
    const result = await api("GET", `/agent/api/sr/${encodeURIComponent(this.number)}`);
    if (!result.ok) { this.showError(null, result.data.message); return; }
    this.fill(result.data.sr);
    const merged = this.serverValues();
    for (const name of edited) merged[name] = mine[name];
    if (!result.data.sr.allowed_transitions.includes(merged.status)) merged.status = "";
    this.setValues(merged);
    this.changed();
    this.conflict.hidden = true;
    toast("Loaded the latest version; your edits are still in the form. Check them and save.");
  }

  /** Reload from the server (e.g. after the chat closed and attached its transcript). */
  async refresh() {
    const result = await api("GET", `/agent/api/sr/${encodeURIComponent(this.number)}`);
    if (!result.ok || !this.sr) return;
    if (isDirty(this)) { this.activity.draw(result.data.sr); return; }
    this.fill(result.data.sr);
  }
}
