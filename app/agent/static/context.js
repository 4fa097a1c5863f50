// The end user's context as chips: browser and OS, language, time zone with his local time,
// the page he asked from and where he came from. Shared by the chat's header and the SR form.

import { h } from "./dom.js";

/** The chips for a context object (each field may be null); [] when there is nothing. */
export function contextItems(context) {
  if (!context) return [];
  const parts = [];
  const where = [context.browser, context.os].filter(Boolean).join(" on ");
  if (where) parts.push(h("span", { class: "ctx-item ctx-browser", title: "Browser and operating system" }, where));
  if (context.language) parts.push(h("span", { class: "ctx-item ctx-language", title: "Browser language" }, context.language));
  if (context.time_zone) parts.push(h("span", { class: "ctx-item ctx-zone", title: "Time zone" }, `${context.time_zone} · ${localTimeIn(context.time_zone)}`));
  if (context.page_url) {
    parts.push(h("a", { class: "ctx-item ctx-page", href: context.page_url, target: "_blank", rel: "noopener noreferrer", title: context.page_url },
      context.page_title || shortUrl(context.page_url)));
  }
  if (context.referrer) parts.push(h("span", { class: "ctx-item ctx-referrer", title: context.referrer }, `from ${shortUrl(context.referrer)}`));
  return parts;
}

function shortUrl(url) {
  try { const u = new URL(url); return u.host + (u.pathname === "/" ? "" : u.pathname); } catch { return url; }
}

function localTimeIn(zone) {
  try { return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: zone }); } catch { return ""; }
}
