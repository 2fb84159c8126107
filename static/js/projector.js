// The projector: read-only. F toggles full screen, J the big join panel, H high contrast
// (remembered on this laptop, since the same projector is used all day).
import { start } from "./live.js";

const CONTRAST_KEY = "charrette:projector:contrast";
const setContrast = (high) => {
  document.body.classList.toggle("hc", high);
  try { localStorage.setItem(CONTRAST_KEY, high ? "high" : "normal"); } catch (e) { /* private mode: not remembered */ }
};
try { setContrast(localStorage.getItem(CONTRAST_KEY) === "high"); } catch (e) { /* storage blocked */ }

start();
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
