// A searchable picker (combobox) for CIs and assets: type to search, arrows + Enter to choose.

import { h } from "./dom.js";
import { api } from "./http.js";

let counter = 0;

export class Picker {
  constructor({ name, url, placeholder, onChange }) {
    const id = `picker-${name}-${++counter}`;
    this.url = url;
    this.onChange = onChange || (() => {});
    this.value = null;
    this.items = [];
    this.active = -1;
    this.input = h("input", {
      type: "search", id, name, placeholder, autocomplete: "off", role: "combobox",
      "aria-expanded": "false", "aria-controls": `${id}-list`, "aria-autocomplete": "list",
    });
    this.list = h("ul", { class: "picker-list", id: `${id}-list`, role: "listbox", hidden: true });
    this.el = h("div", { class: "picker", dataset: { picker: name } }, this.input, this.list);
    this.id = id;
    let timer = null;
    this.input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(this.input.value), 150);
    });
    this.input.addEventListener("focus", () => this.search(""));
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.settle(), 120));
  }

  set(value) {
    this.value = value;
    this.input.value = value ? value.label : "";
  }

  async search(text) {
    const result = await api("GET", `${this.url}?q=${encodeURIComponent(text.trim())}`);
    if (!result.ok || document.activeElement !== this.input) return;
    this.items = result.data.items;
    this.active = this.items.length ? 0 : -1;
    this.draw();
  }

  draw() {
    const options = this.items.map((item, index) => h("li", {
      role: "option", id: `${this.id}-opt-${index}`, class: index === this.active ? "active" : "",
      "aria-selected": index === this.active ? "true" : "false",
      onmousedown: (event) => { event.preventDefault(); this.choose(item); },
    }, h("span", { class: "picker-label" }, item.label),
       item.detail ? h("span", { class: "picker-detail" }, item.detail) : null));
    if (!options.length) options.push(h("li", { class: "picker-none" }, "No match"));
    this.list.replaceChildren(...options);
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `${this.id}-opt-${this.active}`);
  }

  key(event) {
    if (this.list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.items.length) % Math.max(1, this.items.length);
      this.draw();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (this.items[this.active]) this.choose(this.items[this.active]);
    } else if (event.key === "Escape") {
      this.close();
      this.input.value = this.value ? this.value.label : "";
    }
  }

  choose(item) {
    this.set({ id: item.id, label: item.label });
    this.close();
    this.onChange(this.value);
  }

  settle() {
    if (document.activeElement === this.input) return;
    this.close();
    if (!this.input.value.trim()) {
      if (this.value) { this.value = null; this.onChange(null); }
    } else {
      this.input.value = this.value ? this.value.label : "";
    }
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
