// The projector: read-only. F toggles full screen, J the big join panel, H high contrast
// (remembered on this laptop, since the same projector is used all day).
// Whatever a stage shows (forty ideas, a long strategy) is scaled down to fit the screen,
// never cut off, and never below a size the back of the room can still read.
import { followJoinAddress } from "./join.js";
import { start } from "./live.js";

const MIN_ZOOM = 0.55;
const CONTRAST_KEY = "charrette:projector:contrast";

const setContrast = (high) => {
  document.body.classList.toggle("hc", high);
  try { localStorage.setItem(CONTRAST_KEY, high ? "high" : "normal"); } catch (e) { /* private mode: not remembered */ }
};
try { setContrast(localStorage.getItem(CONTRAST_KEY) === "high"); } catch (e) { /* storage blocked */ }

function fit() {
  const view = document.getElementById("view");
  const body = view.querySelector(".stage-body");
  if (!body) return;
  const bottom = view.getBoundingClientRect().bottom - parseFloat(getComputedStyle(view).paddingBottom);
  const fits = () => body.getBoundingClientRect().bottom <= bottom + 1;
  body.style.zoom = "";
  if (fits()) return;
  // Zooming reflows the text (lines get longer), so search for the largest zoom that fits.
  let low = MIN_ZOOM, high = 1;
  for (let i = 0; i < 7; i++) {
    const mid = (low + high) / 2;
    body.style.zoom = mid;
    if (fits()) low = mid; else high = mid;
  }
  body.style.zoom = low;
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
