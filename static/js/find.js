// The console's searches over a stage's many items ([data-find] boxes, templates/_macros.html `finder`):
// a page of matching items comes over HTTP for this console only (facilitate.browse_items) and is put
// in place; its buttons and fields work like the pushed view's (live.js listens on the document).
// A push redraws the view: a box someone used ([data-browse]) is carried over as it was, with what
// was found, typed and ticked, then asked for again (at most once a second) so it never goes stale.
import { $, $$, i18n } from "./live.js";

const REFRESH_MS = 1000;
let carried = new Map(); // data-browse key -> the box as it was before the push
let focused = null;

async function load(box, page = Number(box.dataset.page || 0)) {
  const q = $("[data-find-q]", box)?.value ?? "";
  const show = $("[data-find-show]", box)?.value ?? "all";
  const url = `${box.dataset.find}&q=${encodeURIComponent(q)}&show=${encodeURIComponent(show)}&page=${page}`;
  const ask = (box._asked = (box._asked || 0) + 1);
  let html;
  try {
    const res = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!res.ok) throw new Error(String(res.status));
    html = await res.text();
  } catch (e) {
    if (ask === box._asked) $("[data-found]", box).textContent = i18n().error || "Error";
    return;
  }
  if (ask !== box._asked) return; // a later search answered first
  const found = $("[data-found]", box);
  // What was ticked stays ticked when the same item is found again.
  const ticked = new Set($$("input:checked", found).map((el) => `${el.name}=${el.value}`));
  const had = found.contains(document.activeElement) ? document.activeElement : null;
  found.innerHTML = html;
  box.dataset.page = String(page);
  box.dataset.loaded = "1";
  for (const el of $$("input[type=radio], input[type=checkbox]", found)) {
    if (ticked.has(`${el.name}=${el.value}`)) el.checked = true;
  }
  // A choice also listed in the form around (a decision's leaders) is offered once.
  const form = box.closest("form");
  if (form) {
    for (const el of $$("input[type=checkbox]", found)) {
      const twin = $$(`input[name="${el.name}"][value="${el.value}"]`, form).find((o) => !found.contains(o));
      if (twin) el.closest("label")?.remove();
    }
  }
  if (had && !had.isConnected) $("button, input", found)?.focus();
}

function refreshSoon(box) {
  if (box._timer) return;
  box._timer = setTimeout(() => { box._timer = null; if (box.isConnected) load(box); }, REFRESH_MS);
}

export const finds = {
  // Before a push redraws the view: note the boxes in use and what had the focus.
  keep() {
    carried = new Map();
    for (const el of $$("[data-browse]")) {
      if (el.open || $$("[data-find][data-loaded]", el).length) carried.set(el.dataset.browse, el);
    }
    focused = document.activeElement;
  },
  // After: put them back in place of their fresh copies, and ask for what they show again.
  carry() {
    for (const fresh of $$("[data-browse]")) {
      const old = carried.get(fresh.dataset.browse);
      if (!old || old === fresh) continue;
      fresh.replaceWith(old);
      for (const box of $$("[data-find][data-loaded]", old)) refreshSoon(box);
      if (focused && old.contains(focused)) focused.focus();
    }
    carried = new Map();
  },
};

// Typing searches after a pause; Enter searches at once (never submits the form around the box).
let typing = null;
document.addEventListener("input", (e) => {
  const box = e.target.closest?.("[data-find]");
  if (!box || !e.target.matches("[data-find-q]")) return;
  clearTimeout(typing);
  typing = setTimeout(() => load(box, 0), 300);
});
document.addEventListener("change", (e) => {
  const box = e.target.closest?.("[data-find]");
  if (box && e.target.matches("[data-find-show]")) load(box, 0);
});
document.addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || !e.target.matches?.("[data-find-q]")) return;
  e.preventDefault();
  clearTimeout(typing);
  load(e.target.closest("[data-find]"), 0);
});
document.addEventListener("click", (e) => {
  const go = e.target.closest?.("[data-find-go], [data-find-page]");
  if (!go) return;
  const box = go.closest("[data-find]");
  if (!box) return;
  e.preventDefault();
  load(box, go.dataset.findPage !== undefined ? Number(go.dataset.findPage) : 0);
});
// Opening a box lists its first page at once: the facilitator sees what can be searched.
document.addEventListener("toggle", (e) => {
  const el = e.target;
  if (!el.open || !el.matches?.("[data-browse]")) return;
  for (const box of $$("[data-find]", el)) if (!box.dataset.loaded) load(box, 0);
}, true);
