// Files in the console's chats: the composer's tray (attach button, drag and drop, pasted
// screenshots; upload progress, retry, remove) and how a message shows the files it carries.

import { h } from "./dom.js";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

/** "48 kB", "1.2 MB". */
export function humanSize(size) {
  if (size < 1000) return `${size} B`;
  if (size < 1000000) return `${Math.round(size / 1000)} kB`;
  return `${(size / 1000000).toFixed(1)} MB`;
}

/** The files of a message: images as thumbnails opening the original, others as chips. */
export function filesOf(attachments) {
  if (!attachments?.length) return null;
  return h("div", { class: "msg-files" }, attachments.map((file) => (file.thumbnail_url
    ? h("a", { class: "msg-image", href: file.url, target: "_blank", rel: "noopener", title: `${file.name} · ${humanSize(file.size)}` },
      h("img", { src: file.thumbnail_url, alt: file.name, loading: "lazy", width: thumbWidth(file), height: thumbHeight(file) }))
    : h("a", { class: "msg-file", href: file.url, download: file.name, title: `Download ${file.name}` },
      h("span", { class: "file-icon", "aria-hidden": "true" }, extension(file.name)),
      h("span", { class: "file-text" }, h("span", { class: "file-name" }, file.name),
        h("span", { class: "file-meta" }, `${humanSize(file.size)} · ${file.content_type}`))))));
}

/** "PDF", "TXT": what the file's icon says. */
export function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1, dot + 5).toUpperCase() : "FILE";
}
const BOX = 240;
function scale(file) { return Math.min(1, BOX / Math.max(file.width || BOX, file.height || BOX)); }
function thumbWidth(file) { return file.width ? Math.round(file.width * scale(file)) : null; }
function thumbHeight(file) { return file.height ? Math.round(file.height * scale(file)) : null; }

/** The files waiting to go with the next message of one chat. */
export class AttachmentTray {
  constructor(composer, chatId, { onChange = () => {} } = {}) {
    this.chatId = chatId;
    this.items = [];
    this.onChange = onChange;
    this.list = composer.querySelector(".tray");
    this.input = composer.querySelector(".file-input");
    composer.querySelector(".attach-button").addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => { this.add([...this.input.files]); this.input.value = ""; });
    composer.querySelector("textarea").addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (!files.length) return;
      event.preventDefault();
      this.add(files.map(pastedName));
    });
  }

  /** Accept files dropped anywhere on the chat pane. */
  dropZone(el) {
    el.addEventListener("dragover", (event) => {
      if (![...event.dataTransfer.types].includes("Files")) return;
      event.preventDefault();
      el.classList.add("is-dropping");
    });
    el.addEventListener("dragleave", (event) => { if (!el.contains(event.relatedTarget)) el.classList.remove("is-dropping"); });
    el.addEventListener("drop", (event) => {
      el.classList.remove("is-dropping");
      if (!event.dataTransfer.files.length) return;
      event.preventDefault();
      this.add([...event.dataTransfer.files]);
    });
  }

  add(files) {
    for (const file of files) {
      const item = { file, state: "uploading", progress: 0, error: null, stored: null };
      item.el = h("li", { class: "tray-item" });
      this.items.push(item);
      this.list.append(item.el);
      this.upload(item);
    }
    this.changed();
  }

  upload(item) {
    item.state = "uploading";
    item.progress = 0;
    this.draw(item);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/chats/${this.chatId}/attachments`);
    xhr.setRequestHeader("X-CSRFToken", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) { item.progress = event.loaded / event.total; this.draw(item); }
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { body = {}; }
      if (xhr.status === 201) { item.state = "stored"; item.stored = body; }
      else { item.state = "failed"; item.error = body.message || `Upload failed (HTTP ${xhr.status}).`; }
      this.draw(item);
      this.changed();
    };
    xhr.onerror = () => { item.state = "failed"; item.error = "No connection: the file was not uploaded."; this.draw(item); this.changed(); };
    const form = new FormData();
    form.append("file", item.file, item.file.name);
    xhr.send(form);
  }

  draw(item) {
    const actions = [];
    if (item.state === "failed") actions.push(h("button", { type: "button", class: "link-button tray-retry", onclick: () => { this.upload(item); this.changed(); } }, "Retry"));
    actions.push(h("button", { type: "button", class: "tray-remove", "aria-label": `Remove ${item.file.name}`, title: "Remove", onclick: () => this.remove(item) }, "×"));
    item.el.dataset.state = item.state;
    item.el.replaceChildren(
      h("span", { class: "tray-name" }, item.file.name),
      h("span", { class: "tray-status" }, item.state === "uploading" ? `${Math.round(item.progress * 100)} %`
        : item.state === "stored" ? humanSize(item.stored.size) : item.error),
      item.state === "uploading" ? h("progress", { max: "1", value: String(item.progress), "aria-label": `Uploading ${item.file.name}` }) : null,
      ...actions);
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.el.remove();
    this.changed();
  }

  changed() {
    this.list.hidden = this.items.length === 0;
    this.onChange();
  }

  /** Still uploading, or a failed one not yet retried or removed: the message must wait. */
  get busy() { return this.items.some((item) => item.state !== "stored"); }

  get stored() { return this.items.map((item) => item.stored).filter(Boolean); }

  clear() {
    this.items = [];
    this.list.replaceChildren();
    this.changed();
  }
}

function pastedName(file) {
  if (file.name && file.name !== "image.png") return file;
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  return new File([file], `screenshot-${stamp}.${(file.type.split("/")[1] || "png")}`, { type: file.type });
}
