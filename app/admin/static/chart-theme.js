// What the admin's charts share (dashboard, reports): the desk's colours, spans of time as
// people read them, and Chart.js's defaults in the admin's look.

const css = getComputedStyle(document.documentElement);
const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;

export const PALETTE = {
  primary: color("--desk-primary", "#2f6fed"),
  success: color("--desk-success", "#1f9d63"),
  danger: color("--desk-danger", "#d64545"),
  warning: color("--desk-warning", "#e8a317"),
  muted: color("--desk-muted", "#94a3b8"),
};

export const grid = { color: "rgba(148,163,184,.18)" };

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
Chart.defaults.color = "#475569";
Chart.defaults.plugins.legend.labels.usePointStyle = true;
Chart.defaults.plugins.legend.labels.boxWidth = 8;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.animation.duration = 400;
