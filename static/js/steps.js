// A per-participant flow, one screen at a time (a pre-test's materials, a survey's questions):
// a kind draws every screen as [data-step] inside [data-steps]; this shows one, moves on when
// its form is sent ([data-next] / [data-back] buttons too), and remembers where this phone is
// (sessionStorage, per stage). Without JavaScript every screen shows, one under the other.
// Answers this phone gave are drawn into its forms from what phone.js keeps ("mine"): keyed
// `<item>:<field>` in a form about an item (a pre-test's material), by the field's name otherwise.
const view = document.querySelector("#view");
const code = document.body.dataset.code;
const mineKey = `charrette:mine:${code}`;

function steps() { return view?.querySelector("[data-steps]"); }
function placeKey(box) { return `charrette:step:${code}:${box.dataset.steps}`; }
function list(box) { return Array.from(box.querySelectorAll("[data-step]")); }

function fill(box) {
  let mine = {};
  try { mine = JSON.parse(localStorage.getItem(mineKey) || "{}"); } catch { /* none */ }
  for (const form of box.querySelectorAll("form[data-answers]")) {
    if (form.dataset.dirty) continue;
    const item = form.elements.item_id?.value;
    for (const el of form.elements) {
      const k = item === undefined ? el.name : `${item}:${el.name}`;
      if (el.type === "radio") el.checked = String((mine.choices || {})[k]) === el.value;
      else if (el.tagName === "TEXTAREA" && !el.value) el.value = (mine.notes || {})[k] || "";
    }
  }
}

function show(box, index, focus) {
  const all = list(box);
  if (!all.length) return;
  index = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((step, n) => { step.classList.toggle("on", n === index); });
  box.classList.add("stepping");
  sessionStorage.setItem(placeKey(box), String(index));
  const counter = box.querySelector("[data-step-count]");
  if (counter) counter.textContent = `${index + 1} / ${all.length}`;
  if (focus) {
    window.scrollTo(0, 0);
    all[index].querySelector("h1, h2, [tabindex='-1']")?.focus({ preventScroll: true });
  }
}

function current(box) { return Number(sessionStorage.getItem(placeKey(box)) || 0); }

function apply() {
  const box = steps();
  if (!box) return;
  fill(box);
  show(box, current(box), false);
}

document.addEventListener("click", (e) => {
  const box = steps();
  const button = e.target.closest("[data-next], [data-back]");
  if (!box || !button || !box.contains(button)) return;
  e.preventDefault();
  const here = current(box);
  show(box, here + (button.dataset.back !== undefined ? -1 : Number(button.dataset.next || 1)), true);
});
// A step's form is sent by phone.js (through its outbox); this moves to the next screen.
document.addEventListener("submit", (e) => {
  const box = steps();
  if (!box || !box.contains(e.target) || !e.target.matches("form[data-answers]")) return;
  setTimeout(() => show(box, current(box) + 1, true), 0);
});
if (view) new MutationObserver(apply).observe(view, { childList: true });
apply();
