// Live progress of a background job on its admin page.
//
// Follows /ws/jobs/<id>/ with the page's session cookie. The page is correct
// without it; with it the bar moves, and the page reloads once the job ends
// so its report appears.

// The admin loads its scripts in the page head, before the progress box
// exists, so the work waits for the document.
function followJob() {
  const box = document.querySelector(".job-progress");
  if (!box || box.dataset.state === "succeeded" || box.dataset.state === "failed") {
    return;
  }
  const bar = box.querySelector("progress");
  const text = box.querySelector(".job-progress-text");
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.host}/ws/jobs/${box.dataset.jobId}/`;
  let retryMs = 1000;
  const states = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function show(done, total, state) {
    bar.max = Math.max(total, 1);
    bar.value = done;
    text.textContent = `${done} of ${total} · ${states[state] || state}`;
  }

  function connect() {
    const socket = new WebSocket(url);
    // The server closes a socket that stays silent; a ping keeps it open.
    let pinger = null;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "hello" || message.type === "finished") {
        show(message.progress.done, message.progress.total, message.state);
        if (message.state === "succeeded" || message.state === "failed") {
          window.location.reload();
        }
      } else if (message.type === "progress") {
        show(message.done, message.total, "running");
      }
    });
    socket.addEventListener("open", () => {
      retryMs = 1000;
      pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), 30000);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      if (event.code >= 4400 && event.code < 4500) {
        return;
      }
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    });
  }

  connect();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", followJob);
} else {
  followJob();
}
