// The projector: read-only. F toggles full screen, J the big join panel, H high contrast
// (remembered on this laptop, since the same projector is used all day).
// Whatever a stage shows (forty ideas, a long strategy) stays readable from the back of the room:
// no text in the stage area is drawn below MIN_PX (at 1920x1080); what does not fit at that size is
// shown in pages that turn by themselves (PAGE_SECONDS), with "page 1 / 3" on screen.
import { followJoinAddress } from "./join.js";
import { start } from "./live.js";

const MIN_PX = 24;
const PAGE_SECONDS = 12;
const CONTRAST_KEY = "charrette:projector:contrast";

const setContrast = (high) => {
  document.body.classList.toggle("hc", high);
  try { localStorage.setItem(CONTRAST_KEY, high ? "high" : "normal"); } catch (e) { /* private mode: not remembered */ }
};
try { setContrast(localStorage.getItem(CONTRAST_KEY) === "high"); } catch (e) { /* storage blocked */ }

let pager = { key: "", page: 0, timer: null };

function hide(el, hidden) {
  el.hidden = hidden;
  if (hidden) el.dataset.paged = "1"; else delete el.dataset.paged;
}

// The text elements of the stage area (those with text of their own).
function texts(root) {
  return Array.from(root.querySelectorAll("*")).filter((el) =>
    Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()));
}

// The part of the stage that holds many like things (a list, a table's rows, a document's sections).
function pageable(body) {
  let best = null;
  for (const el of body.querySelectorAll("ol, ul, tbody, .strategy, .concept-grid, .idea-wall")) {
    if (el.children.length >= 2 && (!best || el.scrollHeight > best.scrollHeight)) best = el;
  }
  return best;
}

function fit() {
  const view = document.getElementById("view");
  const body = view.querySelector(".stage-body");
  clearInterval(pager.timer);
  if (!body) return;
  // Again from whole (a resize): no page count, nothing hidden by paging.
  for (const el of body.querySelectorAll(".page-count")) el.remove();
  for (const el of body.querySelectorAll("[data-paged]")) { el.hidden = false; delete el.dataset.paged; }
  // A floor, whatever a kind's CSS says: scaled to the window (MIN_PX at 1920 px wide).
  const floor = MIN_PX * Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  for (const el of texts(body)) {
    if (parseFloat(getComputedStyle(el).fontSize) < floor) el.style.fontSize = `${floor}px`;
  }
  for (const d of body.querySelectorAll("details")) d.open = true;  // nothing to press on a projector
  const bottom = () => view.getBoundingClientRect().bottom - parseFloat(getComputedStyle(view).paddingBottom);
  const fits = () => body.getBoundingClientRect().bottom <= bottom() + 1;
  if (fits()) return;
  const box = pageable(body);
  if (!box) return;
  const items = Array.from(box.children);
  const count = document.createElement("p");
  count.className = "page-count";
  body.append(count);
  // Pages: as many items as fit, in order; an item taller than the screen is a page of its own.
  const pages = [];
  let start = 0;
  while (start < items.length) {
    items.forEach((el, i) => hide(el, i < start));
    let end = start + 1;
    for (; end < items.length; end++) {
      items.forEach((el, i) => hide(el, i < start || i > end));
      count.textContent = "0 / 0";
      if (!fits()) break;
    }
    pages.push([start, end]);
    start = end;
  }
  const key = `${body.className}:${body.querySelector(".prompt")?.textContent}:${items.length}`;
  if (pager.key !== key) pager = { key, page: 0, timer: null };
  const show = () => {
    const [from, to] = pages[pager.page % pages.length];
    items.forEach((el, i) => hide(el, i < from || i >= to));
    count.textContent = `${(pager.page % pages.length) + 1} / ${pages.length}`;
  };
  show();
  if (pages.length > 1) pager.timer = setInterval(() => { pager.page += 1; show(); }, PAGE_SECONDS * 1000);
}

followJoinAddress(start({ onView: fit }));
window.addEventListener("resize", fit);
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "f" || e.key === "F") {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen?.();
  } else if (e.key === "j" || e.key === "J") {
    document.body.classList.toggle("join-big");
  } else if (e.key === "h" || e.key === "H") {
    setContrast(!document.body.classList.contains("hc"));
  }
});
