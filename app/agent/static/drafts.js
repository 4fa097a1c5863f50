// Unsaved edits: kept in localStorage (so a reload or a crash loses nothing), and a warning
// before the page is left while any are held.

const holders = new Set();

export function setDirty(holder, dirty) {
  if (dirty) holders.add(holder);
  else holders.delete(holder);
}

export const isDirty = (holder) => holders.has(holder);

/** True when anything on this page holds unsaved edits. */
export const anyDirty = () => holders.size > 0;

export function readDraft(key) {
  try { return JSON.parse(localStorage.getItem(key) || "null"); } catch { return null; }
}

export function writeDraft(key, value) {
  localStorage.setItem(key, JSON.stringify({ ...value, saved_at: new Date().toISOString() }));
}

export function forgetDraft(key) {
  localStorage.removeItem(key);
}

window.addEventListener("beforeunload", (event) => {
  if (!anyDirty()) return;
  event.preventDefault();
  event.returnValue = "You have unsaved changes to a service request.";
});
