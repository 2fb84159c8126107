// The phone: every action goes through the outbox; "mine" shows what this phone gave.
// Kinds mark their controls with data attributes, so one script serves every stage:
//   [data-dot]            +/- a dot on an idea (Pick a trend, within a budget)
//   [data-choice]         a button that sets item[:criterion] to a value (ranks, ratings)
//   [data-choice-input]   a radio in a vote form (verdicts, fist-of-five), [data-note-input] its text
//   [data-saved-for]      says what the server has stored for an item
import { start, toast } from "./live.js";

const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const i18n = () => document.querySelector("#i18n").dataset;
const key = `charrette:mine:${document.body.dataset.code}`;
// What this phone gave, per stage: going to another stage and back (and back to voting) shows
// the phone its own votes of that stage again, not an empty ballot.
let stages = (() => {
  const kept = JSON.parse(localStorage.getItem(key) || "{}");
  return kept.stages || (kept.stage_id ? { [kept.stage_id]: kept } : {});
})();
let mine = {};

function save() {
  if (mine.stage_id) stages[mine.stage_id] = mine;
  localStorage.setItem(key, JSON.stringify({ stages }));
}

function stageId() {
  const el = document.querySelector("[data-stage]");
  return el ? Number(el.dataset.stage) : null;
}

function current() {
  const id = stageId();
  if (mine.stage_id !== id) {
    if (mine.stage_id) stages[mine.stage_id] = mine;
    mine = stages[id] || { stage_id: id };
  }
  mine.dots ||= {};
  mine.choices ||= {};
  mine.notes ||= {};
  return mine;
}

// The server's word on one stage (a sync or an acknowledgement) replaces what was kept of it.
function fromServer(serverMine) {
  if (!serverMine || !serverMine.stage_id) return;
  stages[serverMine.stage_id] = serverMine;
  if (mine.stage_id === serverMine.stage_id || !mine.stage_id) mine = serverMine;
  save();
}

// An element's text as a screen reader says it: without decorative symbols (aria-hidden).
function spoken(el) {
  const copy = el.cloneNode(true);
  for (const hidden of copy.querySelectorAll("[aria-hidden=true]")) hidden.remove();
  return copy.textContent.replace(/\s+/g, " ").trim();
}

const choiceKey = (el) => `${el.dataset.item}:${el.dataset.criterion || ""}`;

function showDots(dots) {
  const list = document.querySelector("[data-budget]");
  if (!list) return;
  const budget = Number(list.dataset.budget);
  const used = Object.values(dots).reduce((a, b) => a + b, 0);
  for (const out of $$("[data-dots-for]")) {
    const n = dots[out.dataset.dotsFor] || 0;
    out.textContent = n;
    out.closest(".dot-card").classList.toggle("has-dots", n > 0);
  }
  for (const b of $$("[data-dot]")) {
    const n = dots[b.dataset.item] || 0;
    b.disabled = b.dataset.dot === "1" ? used >= budget : n === 0;
  }
  const left = document.querySelector("[data-left]");
  if (left) left.textContent = Math.max(budget - used, 0);
}

function showChoices(m) {
  const { choices, notes } = m;
  for (const b of $$("[data-choice]")) {
    // Ratings are radio groups (aria-checked); ranks are toggle buttons (aria-pressed).
    b.setAttribute(b.getAttribute("role") === "radio" ? "aria-checked" : "aria-pressed",
      String(String(choices[choiceKey(b)]) === b.dataset.value));
  }
  for (const card of $$("[data-card]")) {
    card.classList.toggle("has-choice", Object.keys(choices).some((k) => k.startsWith(`${card.dataset.card}:`)));
  }
  for (const input of $$("[data-choice-input]")) {
    if (!input.form.dataset.dirty) input.checked = String(choices[`${input.dataset.item}:`]) === input.value;
  }
  for (const text of $$("[data-note-input]")) {
    if (!text.form.dataset.dirty) text.value = notes[`${text.dataset.item}:`] || "";
  }
  for (const line of $$("[data-saved-for]")) {
    const value = choices[`${line.dataset.savedFor}:`];
    const input = value === undefined ? null
      : line.closest("form").querySelector(`[data-choice-input][value="${value}"]`);
    line.textContent = input ? `✓ ${i18n().savedvote || "Saved"}: ${spoken(input.parentElement)}` : "";
  }
  const ranked = document.querySelector("[data-ranked]");
  if (ranked) {
    const n = Object.values(choices).filter((v) => v > 0).length;
    ranked.textContent = (i18n().ranked || "{n} of {top} ranked").replace("{n}", n).replace("{top}", ranked.dataset.top);
  }
  for (const ul of $$("[data-my-comments]")) {
    const mineHere = (m.comments || []).filter((c) => String(c.item_id) === ul.dataset.myComments);
    ul.replaceChildren(...mineHere.map((c) => Object.assign(document.createElement("li"),
      { textContent: `${i18n()[`tag_${c.tag}`] || c.tag}: ${c.text}` })));
  }
}

function show() {
  const m = current();
  showDots(m.dots);
  showChoices(m);
  const box = document.querySelector("[data-my-ideas]");
  if (box) {
    const ideas = m.ideas || [];
    box.hidden = ideas.length === 0;
    box.querySelector("[data-my-ideas-list]").replaceChildren(
      ...ideas.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
  }
}

let shownStage = null;
const live = start({
  onView() {
    const id = stageId();
    // Back to a stage this phone was in before: read its own votes there again (each phone at its
    // own moment within a second), in case they changed meanwhile; until then the kept ones show.
    if (id !== shownStage && id && stages[id] && shownStage !== null) setTimeout(() => live.sync(), Math.random() * 1000);
    shownStage = id;
    show();
  },
  onMine(serverMine) {
    if (live.outbox.pending) return; // our queued actions are newer than this
    fromServer(serverMine);
  },
  onAck(event, payload, reply) {
    if (reply.mine && !live.outbox.pending) {
      const same = reply.mine.stage_id === mine.stage_id;
      fromServer(same ? { ...mine, ...reply.mine } : reply.mine);
      show();
    }
  },
  beforeSubmit(form, payload) {
    const m = current();
    if (form.dataset.event === "idea:add") {
      if (!payload.title.trim()) return false;
      m.ideas = [...(m.ideas || []), payload.title.trim()];
    } else if (form.dataset.needsNote && form.dataset.needsNote.split(" ").includes(payload.value)
               && !(payload.note || "").trim()) {
      toast(form.dataset.noteMissing);
      form.elements.note.focus();
      return false;
    } else if (form.dataset.event === "comment:add") {
      if (!payload.text.trim()) return false;
      m.comments = [...(m.comments || []), { item_id: Number(payload.item_id), tag: payload.tag, text: payload.text.trim() }];
    }
    save();
    show();
    return true;
  },
  onDenied() {
    // Not joined (new phone, cleared cookies) or the workshop ended: back to the join page.
    setTimeout(() => { window.location.href = window.location.pathname; }, 2500);
  },
});

document.addEventListener("click", (e) => {
  const dot = e.target.closest("button[data-dot]");
  const choice = e.target.closest("button[data-choice]");
  if (!dot && !choice) return;
  e.preventDefault();
  const m = current();
  if (dot) {
    const item = dot.dataset.item;
    const budget = Number(document.querySelector("[data-budget]").dataset.budget);
    const used = Object.values(m.dots).reduce((a, c) => a + c, 0);
    const delta = Number(dot.dataset.dot);
    if (delta > 0 && used >= budget) { toast(i18n().nodots || "No dots left"); return; }
    m.dots[item] = Math.max(0, (m.dots[item] || 0) + delta);
    live.outbox.add("vote", { item_id: item, dots: m.dots[item] });
  } else {
    const k = choiceKey(choice);
    let value = Number(choice.dataset.value);
    if (choice.dataset.toggle !== undefined && m.choices[k] === value) value = 0;
    if (choice.dataset.unique !== undefined && value) {
      for (const [other, v] of Object.entries(m.choices)) if (v === value && other !== k) delete m.choices[other];
    }
    if (value) m.choices[k] = value; else delete m.choices[k];
    const payload = { item_id: choice.dataset.item, value };
    if (choice.dataset.criterion) payload.criterion = choice.dataset.criterion;
    live.outbox.add("vote", payload);
  }
  save();
  show();
});

// A long ballot comes a page at a time: "Show more" adds the next page in place (without
// JavaScript the same link opens the phone page at that page). Focus moves to the first new idea.
document.addEventListener("click", async (e) => {
  const more = e.target.closest("a[data-more]");
  if (!more) return;
  e.preventDefault();
  if (more.getAttribute("aria-busy")) return;
  more.setAttribute("aria-busy", "true");
  try {
    const r = await fetch(`/j/${document.body.dataset.code}/ballot?from=${more.dataset.more}`, { credentials: "same-origin" });
    if (!r.ok) throw new Error(r.status);
    const li = more.closest("li");
    const page = document.createRange().createContextualFragment(await r.text());
    const first = page.querySelector(".dot-card");
    li.replaceWith(page);
    show();
    first?.querySelector("summary, button:not([disabled])")?.focus();
  } catch {
    more.removeAttribute("aria-busy");
    window.location.href = more.href; // the page load shows the same ideas
  }
});

// Arrow keys move between the options of a rating, as in any radio group.
document.addEventListener("keydown", (e) => {
  const radio = e.target.closest?.("[role=radio]");
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
  if (!radio || !step) return;
  const options = $$("[role=radio]", radio.closest("[role=radiogroup]"));
  const next = options[(options.indexOf(radio) + step + options.length) % options.length];
  e.preventDefault();
  next.focus();
});
