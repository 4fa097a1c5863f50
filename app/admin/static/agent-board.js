// The managers' live agent board: every agent's status, since when, chats out of capacity
// and queues, refreshed every second from /admin/agents.json. All text via textContent.

const board = document.getElementById("agent-board");
const rowsEl = document.getElementById("board-rows");
const summary = document.getElementById("board-summary");
const url = board.dataset.url;
const pollMs = Math.max(1, Number(board.dataset.pollSeconds) || 1) * 1000;
const LABELS = { available: "Available", away: "Away", offline: "Offline" };

function since(iso) {
  if (!iso) return "—";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return new Date(iso).toLocaleString();
}

function cell(className, ...children) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.append(...children);
  return td;
}

function seatsCell(agent) {
  const bar = document.createElement("span");
  bar.className = "seat-bar";
  const fill = document.createElement("span");
  fill.style.width = `${Math.min(100, (100 * agent.active_chats) / Math.max(1, agent.max_chats))}%`;
  if (agent.active_chats >= agent.max_chats) bar.classList.add("is-full");
  bar.append(fill);
  const text = document.createElement("span");
  text.textContent = `${agent.active_chats} of ${agent.max_chats}`;
  return cell("seats", text, bar);
}

function render(data) {
  const rows = data.agents.map((agent) => {
    const tr = document.createElement("tr");
    tr.dataset.agent = agent.username;
    tr.dataset.status = agent.status;
    const pill = document.createElement("span");
    pill.className = `status-pill status-${agent.status}`;
    pill.textContent = LABELS[agent.status] || agent.status;
    const statusCell = cell("", pill);
    if (agent.reason) {
      const reason = document.createElement("span");
      reason.className = "status-reason text-muted small";
      reason.textContent = ` ${agent.reason}`;
      statusCell.append(reason);
    }
    const time = document.createElement("time");
    time.dateTime = agent.since || "";
    time.title = agent.since ? new Date(agent.since).toLocaleString() : "";
    time.textContent = since(agent.since);
    tr.append(cell("agent-name", agent.name), statusCell, cell("since", time), seatsCell(agent),
      cell("queues", agent.queues.join(", ") || "—"));
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell("text-muted", "No agents yet.");
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  rowsEl.replaceChildren(...rows);
  summary.replaceChildren(...data.queues.map((q) => {
    const chip = document.createElement("span");
    chip.className = `queue-available${q.agents_available ? "" : " is-empty"}`;
    chip.dataset.queue = q.name;
    chip.textContent = `${q.name}: ${q.agents_available} available${q.routing === "auto" ? " · auto" : ""}`;
    return chip;
  }));
}

async function refresh() {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      render(await response.json());
      board.dataset.state = "live";
    } else {
      board.dataset.state = "error";
    }
  } catch {
    board.dataset.state = "error";
  }
}

refresh();
setInterval(refresh, pollMs);
