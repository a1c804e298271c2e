// Live updates and keyboard shortcuts for the game screen.
//
// The page works without this script: options are plain form posts. With it,
// turns played elsewhere (another tab, the API) appear without a reload, and
// keys 1-3 choose an option.

const root = document.getElementById("game-screen");
const indicator = document.getElementById("live-indicator");
const announcer = document.getElementById("live-announcer");

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;
const FINAL_CLOSE_CODES = [4401, 4404];

let socket = null;
let pinger = null;
// The server closes a socket that stays silent; a ping keeps it open.
const PING_MS = 30000;
let retryMs = RETRY_MIN_MS;
let refreshing = null;
let refreshAgain = false;
let submitting = false;

function currentScreen() {
  return root.querySelector(".screen");
}

function pageTurn() {
  const screen = currentScreen();
  return screen ? Number(screen.dataset.turn) : 0;
}

function setIndicator(state, text) {
  indicator.dataset.state = state;
  indicator.querySelector(".live-text").textContent = text;
}

function announce(text) {
  announcer.textContent = text;
}

// Fetches the server-rendered screen and swaps it in. Calls made while a fetch
// is in flight collapse into one more fetch afterwards, so a burst of turns
// never leaves the page behind the last one.
async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const response = await fetch(root.dataset.screenUrl, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (!response.ok) {
        throw new Error(`screen fetch failed with ${response.status}`);
      }
      // A redirect means the login has lapsed; the full page shows where to go.
      if (response.redirected) {
        window.location.reload();
        return;
      }
      const before = pageTurn();
      const hadFocus = root.contains(document.activeElement);
      root.innerHTML = await response.text();
      // Swapping the markup drops keyboard focus to the body; put it back on
      // the first choice so a keyboard player keeps their place.
      if (hadFocus) {
        const target =
          root.querySelector(".option") || document.getElementById("main");
        target.focus();
      }
      submitting = false;
      applyLogFilter();
      const after = pageTurn();
      if (after !== before) {
        document.title = document.title.replace(/turn \d+/, `turn ${after}`);
        announce(`Turn ${after} has been played.`);
      }
    } finally {
      refreshing = null;
    }
  })();
  await refreshing.catch(() => setIndicator("offline", "Offline"));
  if (refreshAgain) {
    refreshAgain = false;
    await refresh();
  }
}

// What the player reads while a model works on their turn, by agent.
const AGENT_AT_WORK = {
  planner: "your orders are being read",
  characters: "your people are having their say",
  events: "the next hours are taking shape",
  narrator: "the chronicle is being written",
};

// A turn played on a worker: say so above the options and lock them. The
// turn itself (or its failure) arrives as a later message.
function showPending(pending) {
  if (!pending) {
    return;
  }
  let line = document.getElementById("pending-turn");
  if (!line) {
    const form = document.getElementById("options-form");
    if (!form) {
      return;
    }
    line = document.createElement("p");
    line.id = "pending-turn";
    line.className = "pending-turn";
    line.setAttribute("role", "status");
    form.before(line);
  }
  // Every way of giving orders waits for this turn, not only the options.
  for (const control of root.querySelectorAll(
    "#options-form fieldset, .orders button, .orders input, .orders select",
  )) {
    control.disabled = true;
  }
  const doing = AGENT_AT_WORK[pending.agent];
  line.textContent = `Turn ${pending.turn} is being played${doing ? `: ${doing}` : ""}…`;
}

// The chronicle's filter: text and kind of turn. The screen is swapped when
// a turn lands, so the filter is kept here and applied again each time.
const logFilter = { text: "", kind: "" };

function applyLogFilter() {
  const entries = root.querySelectorAll(".log-entry");
  let shown = 0;
  for (const entry of entries) {
    const text = logFilter.text.toLowerCase();
    const matchesText = !text || entry.textContent.toLowerCase().includes(text);
    const matchesKind =
      !logFilter.kind ||
      (logFilter.kind === "refused"
        ? entry.dataset.refused === "true"
        : entry.dataset.kind === logFilter.kind);
    entry.hidden = !(matchesText && matchesKind);
    shown += entry.hidden ? 0 : 1;
  }
  const count = root.querySelector(".log-filter-count");
  if (count) {
    count.textContent =
      logFilter.text || logFilter.kind ? `${shown} of ${entries.length} turns shown` : "";
  }
  for (const control of root.querySelectorAll("[data-log-filter]")) {
    control.value = logFilter[control.dataset.logFilter];
  }
}

root?.addEventListener("input", (event) => {
  const control = event.target.closest("[data-log-filter]");
  if (control) {
    logFilter[control.dataset.logFilter] = control.value;
    applyLogFilter();
  }
});

function onMessage(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  if (message.type === "watchers" || message.type === "hello") {
    const count = message.type === "watchers" ? message.count : message.watchers;
    if (typeof count === "number") {
      document.querySelector("#watchers .watchers-count").textContent = String(count);
    }
  }
  if (message.type === "pending" || message.type === "progress") {
    showPending(message.pending);
    return;
  }
  if (message.type === "status") {
    announce("This siege has been ended.");
    refresh();
    return;
  }
  if (message.type === "closed" && message.reason === "game_private") {
    announce("The owner has made this siege private; it can no longer be watched.");
    return;
  }
  if (message.type === "turn_failed") {
    const reason = message.pending && message.pending.error;
    announce(`Those orders were not carried out: ${reason || "unknown reason"}`);
    refresh();
    return;
  }
  if (message.type !== "hello" && message.type !== "turn") {
    return;
  }
  // A hello ahead of the page means turns were missed while disconnected; a
  // turn ahead of the page (by one or by a gap) means the page is stale.
  if (typeof message.turn === "number" && message.turn > pageTurn()) {
    refresh();
  }
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  // since= asks for any turns played while this page was not listening.
  const url = `${scheme}//${window.location.host}${root.dataset.wsPath}?since=${pageTurn()}`;
  setIndicator("connecting", "Connecting");
  socket = new WebSocket(url);

  socket.addEventListener("open", () => {
    retryMs = RETRY_MIN_MS;
    const open = socket;
    pinger = window.setInterval(() => open.send(JSON.stringify({ type: "ping" })), PING_MS);
    setIndicator("live", "Live");
  });
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", (event) => {
    setIndicator("offline", "Offline");
    window.clearInterval(pinger);
    socket = null;
    // 4401 and 4404 mean this visitor may not watch this game; retrying
    // would only be refused again.
    if (FINAL_CLOSE_CODES.includes(event.code)) {
      return;
    }
    window.setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  });
}

function typingInField(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) {
    return;
  }
  if (typingInField(event.target)) {
    return;
  }
  const button = root.querySelector(`.option[data-key="${event.key}"]`);
  if (button) {
    event.preventDefault();
    button.click();
  }
});

// A second submit while the first is on its way would only be refused as
// stale, so it is dropped here instead.
root.addEventListener("submit", (event) => {
  if (!event.target.matches("#options-form")) {
    return;
  }
  if (submitting) {
    event.preventDefault();
    return;
  }
  submitting = true;
});

window.addEventListener("pageshow", (event) => {
  // Coming back through the history cache must not leave the form locked.
  if (event.persisted) {
    submitting = false;
  }
});

if (root) {
  connect();
}
