// The Reports screen's charts, drawn with Chart.js (served locally) from the figures the
// page embeds; the table is the server's. All text goes through Chart.js (canvas), no HTML.

import { PALETTE, duration, grid } from "./chart-theme.js";

const data = JSON.parse(document.getElementById("report-data").textContent);

function periodLabel(period) {
  if (data.period === "week") return period.key.slice(5); // W48
  const [y, m, d] = period.first.split("-").map(Number);
  const options = data.period === "month" ? { month: "short", year: "numeric" } : { month: "short", day: "numeric" };
  return new Date(y, m - 1, d || 1).toLocaleDateString(undefined, options);
}

const labels = data.periods.map(periodLabel);
const series = (figure) => data.by_period.map((row) => row[figure]);

new Chart(document.getElementById("chart-report-chats"), {
  type: "bar",
  data: { labels, datasets: [
    { label: "Requested", data: series("requested"), backgroundColor: "rgba(47,111,237,.25)", borderColor: PALETTE.primary, borderWidth: 1.5, borderRadius: 5 },
    { label: "Accepted", data: series("accepted"), backgroundColor: PALETTE.success, borderRadius: 5 },
    { label: "Abandoned", data: series("abandoned"), backgroundColor: PALETTE.danger, borderRadius: 5 },
  ] },
  options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, grid }, x: { grid: { display: false } } } },
});

new Chart(document.getElementById("chart-report-times"), {
  type: "line",
  data: { labels, datasets: [
    { label: "Median wait", data: series("median_wait_seconds"), borderColor: PALETTE.primary, backgroundColor: "rgba(47,111,237,.12)", fill: true, tension: 0.3, spanGaps: true },
    { label: "90% accepted within", data: series("p90_wait_seconds"), borderColor: PALETTE.warning, borderDash: [6, 4], tension: 0.3, spanGaps: true },
    { label: "Median first response", data: series("median_first_response_seconds"), borderColor: PALETTE.success, tension: 0.3, spanGaps: true },
  ] },
  options: {
    scales: { y: { beginAtZero: true, grid, ticks: { callback: (v) => duration(v) } }, x: { grid: { display: false } } },
    plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${duration(ctx.parsed.y)}` } } },
  },
});

new Chart(document.getElementById("chart-report-groups"), {
  type: "bar",
  data: { labels: data.groups.map((g) => g.name), datasets: [
    { label: "Handled chats", data: data.by_group.map((row) => row.handled), backgroundColor: "rgba(47,111,237,.8)", borderRadius: 5, maxBarThickness: 48, yAxisID: "y", order: 1 },
    { label: "CSAT average", data: data.by_group.map((row) => row.csat_average), type: "line", borderColor: "#fff", backgroundColor: PALETTE.warning, showLine: false, pointRadius: 7, pointBorderWidth: 2, yAxisID: "csat", order: 0 },
  ] },
  options: {
    scales: {
      y: { beginAtZero: true, ticks: { precision: 0 }, grid },
      csat: { position: "right", min: 0, max: 5, grid: { display: false } },
      x: { grid: { display: false } },
    },
  },
});
document.getElementById("report-table").dataset.charts = "drawn";
