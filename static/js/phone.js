// The phone: ideas and dots go through the outbox; "mine" shows what this phone gave.
import { start, toast } from "./live.js";

const key = `charrette:mine:${document.body.dataset.code}`;
let mine = JSON.parse(localStorage.getItem(key) || "{}");

function save() { localStorage.setItem(key, JSON.stringify(mine)); }

function stageId() {
  const el = document.querySelector("[data-stage]");
  return el ? Number(el.dataset.stage) : null;
}

function show() {
  const dots = mine.stage_id === stageId() ? mine.dots || {} : {};
  const list = document.querySelector("[data-budget]");
  if (list) {
    const budget = Number(list.dataset.budget);
    const used = Object.values(dots).reduce((a, b) => a + b, 0);
    for (const out of document.querySelectorAll("[data-dots-for]")) {
      const n = dots[out.dataset.dotsFor] || 0;
      out.textContent = n;
      out.closest(".dot-card").classList.toggle("has-dots", n > 0);
    }
    for (const b of document.querySelectorAll("[data-dot]")) {
      const n = dots[b.dataset.item] || 0;
      b.disabled = b.dataset.dot === "1" ? used >= budget : n === 0;
    }
    const left = document.querySelector("[data-left]");
    if (left) left.textContent = Math.max(budget - used, 0);
  }
  const ideas = mine.stage_id === stageId() ? mine.ideas || [] : [];
  const box = document.querySelector("[data-my-ideas]");
  if (box) {
    box.hidden = ideas.length === 0;
    const ul = box.querySelector("[data-my-ideas-list]");
    ul.replaceChildren(...ideas.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
  }
}

const live = start({
  onView: show,
  onMine(serverMine) {
    if (live.outbox.pending) return; // our queued actions are newer than this
    mine = serverMine || {};
    save();
  },
  onAck(event, payload, reply) {
    if (reply.mine && !live.outbox.pending) { mine = { ...mine, ...reply.mine }; save(); show(); }
  },
  onRemap(remap) {
    const dots = mine.dots || {};
    for (const [from, to] of Object.entries(remap)) {
      if (dots[from]) { dots[to] = (dots[to] || 0) + dots[from]; delete dots[from]; }
    }
    save();
  },
  beforeSubmit(form, payload) {
    if (form.dataset.event === "idea:add") {
      if (!payload.title.trim()) return false;
      if (mine.stage_id !== stageId()) mine = { stage_id: stageId(), dots: {}, ideas: [] };
      mine.ideas = [...(mine.ideas || []), payload.title.trim()];
      save();
      show();
    }
    return true;
  },
  onDenied(message) {
    // Not joined (new phone, cleared cookies) or the workshop ended: back to the join page.
    setTimeout(() => { window.location.href = window.location.pathname; }, 2500);
  },
});

document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-dot]");
  if (!b) return;
  e.preventDefault();
  const item = b.dataset.item;
  const budget = Number(document.querySelector("[data-budget]").dataset.budget);
  if (mine.stage_id !== stageId()) mine = { stage_id: stageId(), dots: {}, ideas: [] };
  mine.dots = mine.dots || {};
  const used = Object.values(mine.dots).reduce((a, c) => a + c, 0);
  const delta = Number(b.dataset.dot);
  if (delta > 0 && used >= budget) { toast(document.querySelector("#i18n").dataset.nodots || "No dots left"); return; }
  const next = Math.max(0, (mine.dots[item] || 0) + delta);
  mine.dots[item] = next;
  save();
  show();
  live.outbox.add("vote", { item_id: item, dots: next });
});
