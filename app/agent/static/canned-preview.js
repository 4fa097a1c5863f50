// The live preview of a canned response being written (console settings and admin form): the
// text as a chat would receive it, with sample values, and unknown placeholders named at once
// (the server refuses them on save with the same words).

const BRACES = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

/** {text, unknown: [...], unbalanced: bool} for `body` filled with `values`. */
export function fillPreview(body, values) {
  const unknown = [];
  let unbalanced = false;
  const text = body.replace(BRACES, (match, name) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    if (name === undefined) { unbalanced = true; return match; }
    if (Object.hasOwn(values, name)) return values[name];
    unknown.push(`{${name}}`);
    return match;
  });
  return { text, unknown, unbalanced };
}

export function attachPreview(body, box) {
  const values = JSON.parse(box.dataset.sample || "{}");
  const known = JSON.parse(box.dataset.placeholders || "[]").map((name) => `{${name}}`).join(", ");
  const textEl = box.querySelector(".preview-text");
  const problemEl = box.querySelector(".preview-problem");
  const draw = () => {
    const { text, unknown, unbalanced } = fillPreview(body.value, values);
    textEl.textContent = text || "The filled-in text appears here as you type.";
    textEl.classList.toggle("muted", !text);
    const problems = [];
    if (unknown.length) problems.push(`Unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; use ${known}.`);
    if (unbalanced) problems.push("A brace is not closed: write {{ or }} for a brace itself.");
    problemEl.textContent = problems.join(" ");
    problemEl.hidden = !problems.length;
  };
  body.addEventListener("input", draw);
  draw();
}

for (const box of document.querySelectorAll("[data-canned-preview]")) {
  const body = box.closest("form")?.querySelector("[data-canned-body], textarea[name='body']")
    || document.querySelector("[data-canned-body]");
  if (body) attachPreview(body, box);
}
