// The phone: every action goes through the outbox; "mine" shows what this phone gave.
// Kinds mark their controls with data attributes, so one script serves every stage:
//   [data-dot]            +/- a dot on an idea (Pick a trend, within a budget)
//   [data-choice]         a button that sets item[:criterion] to a value (ranks, ratings)
//   [data-choice-input]   a radio in a vote form (verdicts, fist-of-five), [data-note-input] its text
//   [data-saved-for]      says what the server has stored for an item
import { $$, i18n, start, toast } from "./live.js";
const key = `charrette:mine:${document.body.dataset.code}`;
// What this phone gave, per stage: going to another stage and back (and back to voting) shows
// the phone its own votes of that stage again, not an empty ballot.
let stages = (() => {
  const kept = JSON.parse(localStorage.getItem(key) || "{}");
  return kept.stages || (kept.stage_id ? { [kept.stage_id]: kept } : {});
})();
let mine = {};

// Stored as the current stage's record (steps.js reads its choices and notes) plus every stage's.
function save() {
  if (mine.stage_id) stages[mine.stage_id] = mine;
  localStorage.setItem(key, JSON.stringify({ ...mine, stages }));
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
    save();
  }
  mine.dots ||= {};
  mine.choices ||= {};
  mine.notes ||= {};
  return mine;
}

// The server's word on one stage (a sync or an acknowledgement) replaces what was kept of it.
function fromServer(serverMine) {
  if (!serverMine || !serverMine.stage_id) return;
  if (mine.stage_id) stages[mine.stage_id] = mine;
  mine = serverMine; // the stage on screen now: the view follows (current() picks a kept record)
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
    const form = line.closest("form");
    const input = value === undefined ? null : form.querySelector(`[data-choice-input][value="${value}"]`);
    const unsaved = unsavedHint(form, m);
    line.classList.toggle("unsaved", Boolean(unsaved));
    line.textContent = unsaved || (input ? `✓ ${i18n().savedvote || "Saved"}: ${spoken(input.parentElement)}` : "");
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
  counters();
  pager();
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
    const long = $$("[data-max]", form).find((el) => el.value.length > Number(el.dataset.max));
    if (long) {
      toast(tooLong(long));
      long.focus();
      return false;
    }
    if (form.dataset.event === "comment:add" && !payload.tag) {
      toast(form.dataset.tagMissing);
      form.querySelector("input[name=tag]")?.focus();
      return false;
    }
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
    } else if (form.dataset.event === "vote" && payload.value !== undefined) {
      const k = `${payload.item_id}:`;
      m.choices[k] = /^\d+$/.test(payload.value) ? Number(payload.value) : payload.value;
      if ((payload.note || "").trim()) m.notes[k] = payload.note.trim(); else delete m.notes[k];
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

// --- long text is never cut without a word ----------------------------------------------
// The browser's maxlength would silently drop what is pasted beyond it: the field counts its
// characters instead, says when it is too long, and the form is not sent until it fits.
const fmt = (n) => n.toLocaleString(document.documentElement.lang || undefined);
const tooLong = (el) => (i18n().toolong || "Too long: {n} of {max}").replace("{n}", fmt(el.value.length)).replace("{max}", fmt(Number(el.dataset.max)));

function count(el) {
  const max = Number(el.dataset.max);
  let out = el.nextElementSibling?.classList.contains("char-count") ? el.nextElementSibling : null;
  const near = el.tagName === "TEXTAREA" || el.value.length > 0.8 * max;
  if (!out && near) {
    out = Object.assign(document.createElement("p"), { className: "char-count", id: `${el.id || el.name}-count` });
    el.after(out);
    el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), out.id].filter(Boolean).join(" "));
  }
  if (!out) return;
  const over = el.value.length > max;
  out.hidden = !near;
  out.classList.toggle("over", over);
  out.textContent = over ? tooLong(el) : (i18n().chars || "{n} / {max}").replace("{n}", fmt(el.value.length)).replace("{max}", fmt(max));
  if (over) el.setAttribute("aria-invalid", "true"); else el.removeAttribute("aria-invalid");
  if (over && !el.dataset.wasOver) toast(tooLong(el)); // said once, as it happens (a paste)
  if (over) el.dataset.wasOver = "1"; else delete el.dataset.wasOver;
}

function counters() {
  for (const el of $$("#view form[data-event] textarea, #view form[data-event] input")) {
    if (el.maxLength > 0 && el.type !== "hidden") { el.dataset.max = el.maxLength; el.removeAttribute("maxlength"); }
    if (el.dataset.max) count(el);
  }
}
document.addEventListener("input", (e) => { if (e.target.dataset?.max) count(e.target); });

// --- verdicts and support save on tap, like ratings; what still needs "Save" is said ----------
function unsavedHint(form, m) {
  if (form.dataset.autosave === undefined) return "";
  const picked = form.querySelector("[data-choice-input]:checked");
  if (!picked) return "";
  const k = `${picked.dataset.item}:`;
  const note = (form.elements.note?.value || "").trim();
  const same = String(m.choices[k]) === picked.value && note === (m.notes[k] || "");
  if (same) return "";
  const needsNote = (form.dataset.needsNote || "").split(" ").includes(picked.value);
  return needsNote && !note ? i18n().unsavedNote : i18n().unsaved;
}

document.addEventListener("change", (e) => {
  const input = e.target.closest?.("[data-choice-input]");
  const form = input?.form;
  if (!form || form.dataset.autosave === undefined) return;
  const needsNote = (form.dataset.needsNote || "").split(" ").includes(input.value);
  if (!needsNote || (form.elements.note?.value || "").trim()) form.requestSubmit();
  else { show(); form.elements.note?.focus(); }
});
document.addEventListener("input", (e) => {
  const form = e.target.closest?.("form[data-autosave]");
  if (form && e.target.name === "note") {
    const line = form.querySelector("[data-saved-for]");
    const hint = unsavedHint(form, current());
    if (line && hint) { line.textContent = hint; line.classList.add("unsaved"); }
  }
});

// --- "Let phones browse": one concept or draft per screen, Previous / Next, how many are done ---
const cardAt = {}; // stage id -> the card shown
function pager() {
  const box = document.querySelector("#view .concept-scroller");
  const cards = box ? $$(":scope > [data-card]", box) : [];
  if (cards.length < 2) return;
  const sid = stageId();
  const i = Math.min(cardAt[sid] ?? Number(sessionStorage.getItem(`charrette:card:${sid}`) || 0), cards.length - 1);
  cards.forEach((c, n) => { c.hidden = n !== i; });
  let nav = box.querySelector(":scope > .pager");
  if (!nav) {
    nav = document.createElement("nav");
    nav.className = "pager";
    nav.innerHTML = '<button type="button" class="button" data-pager="prev"><span aria-hidden="true">←</span> <span></span></button>'
      + '<p class="pager-count" aria-live="polite"></p>'
      + '<button type="button" class="button primary" data-pager="next"><span></span> <span aria-hidden="true">→</span></button>';
    nav.setAttribute("aria-label", box.dataset.pagerLabel || "");
    nav.querySelector("[data-pager=prev] span:last-child").textContent = box.dataset.prev || "Previous";
    nav.querySelector("[data-pager=next] span:first-child").textContent = box.dataset.next || "Next";
    box.append(nav);
  }
  const done = cards.filter((c) => c.classList.contains("has-choice")).length;
  nav.querySelector("[data-pager=prev]").disabled = i === 0;
  nav.querySelector("[data-pager=next]").disabled = i === cards.length - 1;
  nav.querySelector(".pager-count").textContent = `${(i18n().pager || "{n} of {total}").replace("{n}", i + 1).replace("{total}", cards.length)} · ${
    (i18n().done || "{done} of {total} done").replace("{done}", done).replace("{total}", cards.length)}`;
}

document.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-pager]");
  if (!button) return;
  const sid = stageId();
  const cards = $$("#view .concept-scroller > [data-card]");
  const now = cards.findIndex((c) => !c.hidden);
  const next = Math.max(0, Math.min(cards.length - 1, now + (button.dataset.pager === "next" ? 1 : -1)));
  cardAt[sid] = next;
  sessionStorage.setItem(`charrette:card:${sid}`, String(next));
  pager();
  const heading = cards[next].querySelector("h2");
  if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  cards[next].scrollIntoView({ block: "start" });
});
