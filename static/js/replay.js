// Arrow keys step through a replay by following its previous and next links.

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) {
    return;
  }
  if (event.target.closest("input, textarea, select, [contenteditable]")) {
    return;
  }
  const target =
    event.key === "ArrowLeft"
      ? document.getElementById("replay-prev")
      : event.key === "ArrowRight"
        ? document.getElementById("replay-next")
        : null;
  if (target) {
    event.preventDefault();
    window.location.assign(target.href);
  }
});
