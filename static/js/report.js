// The report page: while a report is queued or rendering, poll its status and show it;
// when it is done or failed, reload so the server-rendered links (or the error) appear.
const box = document.querySelector("[data-report-status]");
const busy = (state) => state === "queued" || state === "rendering";

async function poll() {
  try {
    const res = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    const status = await res.json();
    if (!busy(status.status)) {
      location.reload();
      return;
    }
    const line = box.querySelector("[data-report-state]");
    // A queued report says how many are ahead of it (the server's words, in the page's language).
    const text = status.waiting || document.querySelector("#i18n").dataset[status.status];
    if (line && text) line.textContent = text;
  } catch (err) {
    // Offline for a moment: try again on the next tick.
  }
  setTimeout(poll, 1000);
}

if (box && busy(box.dataset.state)) setTimeout(poll, 1000);
