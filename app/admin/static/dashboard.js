// The desk dashboard: draws the charts with Chart.js (served locally) and keeps every figure
// live by polling the dashboard JSON. All text goes through textContent.

import { PALETTE, duration, grid } from "./chart-theme.js";

const root = document.getElementById("dashboard");
const url = root.dataset.url;
const pollMs = Math.max(2, Number(root.dataset.pollSeconds) || 5) * 1000;
const STATUS_COLORS = {
  NEW: "#38bdf8", QUEUED: PALETTE.warning, INPROGRESS: PALETTE.primary, RESOLVED: PALETTE.success,
  CLOSED: "#64748b", CANCELLED: "#cbd5e1",
};

function pick(data, path) {
  return path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);
}

function dayLabel(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { weekday: "short", day: "numeric" });
}

const charts = {
  queues: new Chart(document.getElementById("chart-queues"), {
    type: "bar",
    data: { labels: [], datasets: [
      { label: "Waiting", data: [], backgroundColor: PALETTE.warning, borderRadius: 6, maxBarThickness: 36 },
      { label: "Agents online", data: [], backgroundColor: PALETTE.primary, borderRadius: 6, maxBarThickness: 36 },
    ] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, grid }, x: { grid: { display: false } } } },
  }),
  chats: new Chart(document.getElementById("chart-chats"), {
    type: "bar",
    data: { labels: [], datasets: [
      { label: "Requested", data: [], backgroundColor: "rgba(47,111,237,.25)", borderColor: PALETTE.primary, borderWidth: 1.5, borderRadius: 5 },
      { label: "Accepted", data: [], backgroundColor: PALETTE.success, borderRadius: 5 },
      { label: "Abandoned", data: [], backgroundColor: PALETTE.danger, borderRadius: 5 },
    ] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, grid }, x: { grid: { display: false } } } },
  }),
  waits: new Chart(document.getElementById("chart-waits"), {
    type: "line",
    data: { labels: [], datasets: [
      { label: "Median", data: [], borderColor: PALETTE.primary, backgroundColor: "rgba(47,111,237,.12)", fill: true, tension: 0.3, spanGaps: true },
      { label: "90th percentile", data: [], borderColor: PALETTE.warning, borderDash: [6, 4], tension: 0.3, spanGaps: true },
    ] },
    options: {
      scales: { y: { beginAtZero: true, grid, ticks: { callback: (v) => duration(v) } }, x: { grid: { display: false } } },
      plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${duration(ctx.parsed.y)}` } } },
    },
  }),
  srs: new Chart(document.getElementById("chart-srs"), {
    type: "bar",
    data: { labels: ["Today", "Last 7 days"], datasets: [] },
    options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid }, y: { stacked: true, grid: { display: false } } } },
  }),
  srsAll: new Chart(document.getElementById("chart-srs-all"), {
    type: "doughnut",
    data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderWidth: 2 }] },
    options: { cutout: "62%", plugins: { legend: { position: "right" } } },
  }),
};

function renderQueueTable(queues) {
  const body = document.querySelector("#queue-table tbody");
  const rows = queues.map((q) => {
    const tr = document.createElement("tr");
    tr.dataset.queue = q.name;
    if (q.waiting) tr.classList.add("has-waiting");
    const cells = [
      ["", q.name], ["text-right waiting", String(q.waiting)],
      ["text-right oldest", duration(q.oldest_wait_seconds)], ["text-right online", String(q.agents_online)],
      ["text-right available", String(q.agents_available ?? 0)],
    ];
    for (const [cls, text] of cells) {
      const td = document.createElement("td");
      if (cls) td.className = cls;
      td.textContent = text;
      tr.append(td);
    }
    if (!q.is_chat_queue) {
      const badge = document.createElement("span");
      badge.className = "badge badge-light ml-1";
      badge.textContent = "not a queue";
      tr.firstChild.append(badge);
    }
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 4; td.className = "text-muted"; td.textContent = "No chat queues yet.";
    tr.append(td); rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function render(data) {
  for (const el of document.querySelectorAll("[data-kpi]")) {
    const value = pick(data, el.dataset.kpi);
    el.textContent = el.dataset.kind === "duration" ? duration(value) : String(value ?? "—");
  }
  document.querySelector('[data-kpi-card="waiting_total"]')?.classList.toggle("is-hot", data.waiting_total > 0);
  renderQueueTable(data.queues);

  charts.queues.data.labels = data.queues.map((q) => q.name);
  charts.queues.data.datasets[0].data = data.queues.map((q) => q.waiting);
  charts.queues.data.datasets[1].data = data.queues.map((q) => q.agents_online);

  const labels = data.daily.map((d) => dayLabel(d.date));
  charts.chats.data.labels = labels;
  charts.chats.data.datasets[0].data = data.daily.map((d) => d.requested);
  charts.chats.data.datasets[1].data = data.daily.map((d) => d.accepted);
  charts.chats.data.datasets[2].data = data.daily.map((d) => d.abandoned);
  charts.waits.data.labels = labels;
  charts.waits.data.datasets[0].data = data.daily.map((d) => d.median_wait_seconds);
  charts.waits.data.datasets[1].data = data.daily.map((d) => d.p90_wait_seconds);

  const statuses = Object.keys(data.srs_by_status_all);
  const srSets = statuses.map((status) => ({
    label: status, backgroundColor: STATUS_COLORS[status] || PALETTE.muted, borderRadius: 4,
    data: [data.today.srs_by_status[status], data.last_7_days.srs_by_status[status]],
  }));
  if (charts.srs.data.datasets.length === srSets.length) {
    srSets.forEach((set, i) => { charts.srs.data.datasets[i].data = set.data; });
  } else {
    charts.srs.data.datasets = srSets;
  }
  charts.srsAll.data.labels = statuses;
  charts.srsAll.data.datasets[0].data = statuses.map((s) => data.srs_by_status_all[s]);
  charts.srsAll.data.datasets[0].backgroundColor = statuses.map((s) => STATUS_COLORS[s] || PALETTE.muted);

  Object.values(charts).forEach((chart) => chart.update());
  const updated = document.getElementById("updated-at");
  updated.dateTime = data.generated_at;
  updated.textContent = new Date(data.generated_at).toLocaleTimeString();
  root.dataset.generatedAt = data.generated_at;
  root.dataset.waitingTotal = String(data.waiting_total);
}

function setLive(state, text) {
  const box = document.getElementById("live-state");
  box.dataset.state = state;
  document.getElementById("live-text").textContent = text;
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.redirected || response.status === 403) {
      setLive("error", "Signed out: reload the page to log in again");
      return; // no point polling a login page
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
    setLive("live", "Live");
  } catch (error) {
    setLive("error", "Connection lost, retrying");
  }
  if (!document.hidden) timer = setTimeout(refresh, pollMs);
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) clearTimeout(timer);
  else refresh();
});

render(JSON.parse(document.getElementById("dashboard-data").textContent));
timer = setTimeout(refresh, pollMs);
