// The quick exit (safeguarding mode): one tap leaves nothing behind on this phone. The page's
// storage goes (answers waiting to be sent, this phone's own votes, where it was in the steps),
// then /x (the server forgets the phone and clears its cookies) *replaces* this page, so the
// back button does not bring it back. Escape pressed twice does the same on a keyboard.
function leave(href) {
  try { localStorage.clear(); sessionStorage.clear(); } catch { /* storage blocked: nothing kept there */ }
  location.replace(href || "/x");
}
document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-quick-exit]");
  if (!link) return;
  e.preventDefault();
  leave(link.getAttribute("href"));
});
let lastEscape = 0;
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  if (e.timeStamp - lastEscape < 800) leave("/x");
  lastEscape = e.timeStamp;
});
