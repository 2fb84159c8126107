// The console: every control is a [data-event] button or form handled by live.js;
// concept and draft uploads (multipart, with an image) go over HTTP.
import { followJoinAddress } from "./join.js";
import { finds } from "./find.js";
import { i18n as strings, start, toast } from "./live.js";

const live = start({ beforeView: () => finds.keep(), onView: () => { finds.carry(); placePanels(); } });
followJoinAddress(live);

document.addEventListener("submit", async (e) => {
  const form = e.target.closest("form[data-upload]");
  if (!form) return;
  e.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const res = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content },
    });
    const reply = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (reply && reply.ok) {
      form.reset();
      delete form.dataset.dirty;
      // A push during the request kept this form as typed; render the saved values now.
      if (form.dataset.upload === "edit") live.sync();
      const done = form.dataset.upload === "edit" ? "saved" : "added";
      toast(`${document.querySelector("#i18n").dataset[done]}: ${reply.item.title}`, "ok");
    } else {
      toast((reply && reply.error) || (res.status === 413 ? strings().toolarge : strings().error) || `Error ${res.status}`);
    }
  } catch (err) {
    toast(document.querySelector("#i18n").dataset.offline || "Offline");
  } finally {
    button.disabled = false;
  }
});

// The small preview of what phones see is drawn again with each view (so it is never stale).
// The panels (items, tally, decision, notes) scroll inside the screen under the controls. A push
// redraws them: the scroll position is kept while the stage and phase stay; a new phase opens on
// what comes next (its items, or its decision).
let place = { key: "", top: 0 };

function placePanels() {
  const slot = document.querySelector("[data-preview]");
  const frame = document.getElementById("phone-preview");
  if (slot && frame && !slot.querySelector("iframe")) slot.prepend(frame.content.cloneNode(true));
  const bar = document.querySelector(".console-tabs");
  const box = document.querySelector(".tab-panels");
  if (!bar || !box) return;
  const key = `${bar.dataset.stage}:${bar.dataset.phase}`;
  if (key === place.key) {
    box.scrollTop = place.top;
  } else {
    const first = document.getElementById(`panel-${bar.dataset.default}`);
    box.scrollTop = first && bar.dataset.default !== "items" ? first.offsetTop : 0;
    place = { key, top: box.scrollTop };
  }
  box.addEventListener("scroll", () => { place.top = box.scrollTop; }, { passive: true });
}

document.addEventListener("keydown", (e) => {
  // Shortcuts: N next, R reveal or hide results, T start or stop the timer; never while typing.
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.("input, textarea, select, [contenteditable]")) return;
  const key = e.key.length === 1 ? e.key.toUpperCase() : "";
  const button = key && document.querySelector(`#view [aria-keyshortcuts="${key}"]`);
  if (button && !button.disabled) {
    e.preventDefault();
    button.click();
  }
});
