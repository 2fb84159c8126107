// The projector: read-only. F toggles full screen, J toggles the big join panel.
import { start } from "./live.js";

start();
document.addEventListener("keydown", (e) => {
  if (e.key === "f" || e.key === "F") {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen?.();
  } else if (e.key === "j" || e.key === "J") {
    document.body.classList.toggle("join-big");
  }
});
