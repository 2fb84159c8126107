// Shared by projector, console and phone: the socket, the live view, actions, timer.
// The server renders every view; this module swaps it in and sends what people do.

// The small helpers every screen's script uses (imported from here, written once).
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
export const i18n = () => ($("#i18n") || { dataset: {} }).dataset;

// crypto.randomUUID needs a secure context; phones on http://<LAN address> are not one.
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function toast(message, kind = "error") {
  const el = $("[data-toast]");
  if (!el) return;
  el.textContent = message;
  el.className = `toast toast-${kind}`;
  el.hidden = false;
  clearTimeout(el._t);
  el._t = setTimeout(() => { el.hidden = true; }, 5000);
}

function setConn(state) {
  for (const el of $$("[data-conn]")) {
    el.dataset.conn = state;
    el.textContent = i18n()[state] || state;
  }
}

// --- timer: the server sends milliseconds left; we count down locally -------------
let timerEnd = null;
function setTimer(timer) {
  timerEnd = timer ? performance.now() + timer.left_ms : null;
  tick();
}
function tick() {
  for (const el of $$("[data-timer]")) {
    if (timerEnd === null) { el.hidden = true; continue; }
    const left = Math.max(0, Math.round((timerEnd - performance.now()) / 1000));
    el.hidden = false;
    el.classList.toggle("ending", left <= 30);
    el.classList.toggle("done", left === 0);
    const text = left === 0 ? (i18n().timeup || "0:00")
      : `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    const out = $("[data-timer-text]", el);
    if (out.textContent !== text) out.textContent = text;
  }
}
setInterval(tick, 250);

// --- forms: keep what someone is typing when a new view arrives --------------------
// Fields marked data-http (event, cid, CSRF token) only serve the plain form post that
// works without JavaScript; socket payloads accept no unknown field.
function collect(form) {
  const data = {};
  const httpOnly = new Set($$("[data-http]", form).map((el) => el.name));
  for (const [key, value] of new FormData(form)) {
    if (httpOnly.has(key)) continue;
    if (key in data || key.endsWith("_ids")) data[key] = [].concat(data[key] ?? [], value);
    else data[key] = value;
  }
  return data;
}

// A form is known by its event, its stage and its item (a comment box or a verdict per
// concept or draft), so a draft of one form is never poured into another form; a form may
// also name itself (data-key).
function formKey(form) {
  const item = form.elements.item_id;
  const itemId = item && item.type === "hidden" ? item.value : "";
  return form.dataset.key || `${form.dataset.event}|${form.elements.stage_id?.value ?? ""}|${itemId}`;
}
const findForm = (key, root = document) => $$("form[data-event]", root).find((f) => formKey(f) === key);

// A draft is every field's own value: fields sharing a name (next steps, verdicts per draft)
// are told apart by their place among that name's fields, checkboxes and radios by their value.
const kept = (el) => el.name && el.type !== "file" && el.dataset.http === undefined
  && el.tagName !== "BUTTON" && el.type !== "submit";
function fieldKeys(form) {
  const seen = {};
  const out = [];
  for (const el of form.elements) {
    if (!kept(el)) continue;
    const checkable = el.type === "checkbox" || el.type === "radio";
    const n = (seen[el.name] = (seen[el.name] ?? -1) + 1);
    out.push([checkable ? `${el.name}=${el.value}` : `${el.name}#${n}`, el]);
  }
  return out;
}
function snapshot(form) {
  const draft = {};
  for (const [k, el] of fieldKeys(form)) {
    if (el.type === "checkbox" || el.type === "radio") draft[k] = el.checked;
    else if (el.multiple) draft[k] = Array.from(el.selectedOptions, (o) => o.value);
    else draft[k] = el.value;
  }
  return draft;
}
function restore(form, draft) {
  for (const [k, el] of fieldKeys(form)) {
    if (!(k in draft)) continue;
    const value = draft[k];
    if (el.type === "checkbox" || el.type === "radio") el.checked = value;
    else if (el.multiple) for (const o of el.options) o.selected = value.includes(o.value);
    else el.value = value;
  }
}

function keepDrafts(view, render) {
  const drafts = {};
  for (const form of $$("form[data-event]", view)) {
    if (form.dataset.dirty) drafts[formKey(form)] = snapshot(form);
  }
  // An upload form being filled in (a chosen file cannot be set again) is carried over as is.
  const uploads = $$("form[data-upload][data-dirty]", view);
  const active = document.activeElement;
  const inView = active && active !== view && view.contains(active);
  const focusId = inView ? active.id : null;
  const caret = focusId && "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;
  // A keyboard user's place survives a redraw even on a control without an id (a "Next"
  // button): the same kind of element at the same position gets the focus back.
  const focusSel = inView && !focusId ? `${active.tagName}${active.className ? "." + active.className.trim().split(/\s+/).join(".") : ""}` : null;
  const focusIndex = focusSel ? $$(focusSel, view).indexOf(active) : -1;
  render();
  for (const old of uploads) {
    const fresh = $$("form[data-upload]", view).find((f) => f.action === old.action);
    if (fresh) fresh.replaceWith(old);
  }
  for (const [key, draft] of Object.entries(drafts)) {
    const form = findForm(key, view);
    if (!form) continue;
    form.dataset.dirty = "1";
    restore(form, draft);
    form.dispatchEvent(new CustomEvent("draft:restored", { bubbles: true }));
  }
  if (focusId) {
    const el = document.getElementById(focusId);
    if (el) { el.focus(); if (caret && el.setSelectionRange) try { el.setSelectionRange(...caret); } catch (e) { /* not a text field */ } }
  } else if (focusSel && focusIndex >= 0) {
    const same = $$(focusSel, view);
    same[Math.min(focusIndex, same.length - 1)]?.focus();
  }
}

// --- outbox: actions a phone made, kept across reloads until the server acks them ----
class Outbox {
  constructor(key, live) {
    this.key = key;
    this.live = live;
    this.items = JSON.parse(localStorage.getItem(key) || "[]");
    this.busy = false;
  }
  save() { localStorage.setItem(this.key, JSON.stringify(this.items)); }
  add(event, payload) {
    this.items.push({ event, payload: { ...payload, cid: newId() } });
    this.save();
    this.flush();
  }
  get pending() { return this.items.length; }
  async flush() {
    if (this.busy || !this.items.length) return;
    this.busy = true;
    try {
      while (this.items.length && this.live.socket.connected) {
        const { event, payload } = this.items[0];
        this.live.status("sending");
        let reply;
        try {
          reply = await this.live.socket.timeout(10000).emitWithAck(event, payload);
        } catch (e) {
          break; // no ack in time: keep it, it is retried on reconnect (the cid makes that safe)
        }
        this.items.shift();
        this.save();
        this.live.onReply(event, payload, reply);
      }
    } finally {
      this.busy = false;
    }
    this.live.status(this.items.length ? (this.live.socket.connected ? "sending" : "queued") : "saved");
  }
}

export function start(hooks = {}) {
  const body = document.body;
  const role = body.dataset.role;
  const code = body.dataset.code;
  const view = $("#view");
  let connectedOnce = false;

  // A join's POST answers with the phone page itself: make this history entry a plain GET, so a
  // reload asks for the page again instead of posting the form once more.
  if (role === "phone") history.replaceState(history.state, "", location.href);

  // WebSocket first: long-polling only where a venue blocks WebSocket.
  // Reconnecting (the server restarted, the venue's Wi-Fi came back): every phone of the room
  // lost its socket at the same moment, so each waits a random 0-2 s before its first try
  // (randomizationFactor 1: delay x (1 +/- up to 100%)), then doubles up to 5 s, so the server
  // sees the room come back spread out, not all in the same 100 ms. scripts/bench_reconnect.py
  // simulates the same back-off (its RECONNECT): keep the two alike.
  // A page the server drew for this screen (the phone's: its view, and in #drawn the rest of what a
  // `sync` answers) needs no sync on its first connection: the socket says which `version` of the
  // workshop the page shows, and the server answers "stale" only if it changed since.
  const drawnEl = document.getElementById("drawn");
  const drawn = drawnEl && body.dataset.version !== undefined ? JSON.parse(drawnEl.textContent) : null;
  const auth = { role, code };
  const socket = io({ auth: drawn ? { ...auth, version: Number(body.dataset.version) } : auth,
                      transports: ["websocket"],
                      reconnectionDelay: 1000, randomizationFactor: 1, reconnectionDelayMax: 5000 });
  const live = {
    socket, role, code,
    status: setConn,
    onReply(event, payload, reply) {
      if (!reply || !reply.ok) {
        toast((reply && reply.error) || i18n().error || "Error");
        hooks.onRefused?.(event, payload, reply);
        sync();
      } else {
        hooks.onAck?.(event, payload, reply);
      }
    },
    async send(event, payload) {
      if (!socket.connected) { toast(i18n().offline || "Offline"); return null; }
      try {
        const reply = await socket.timeout(10000).emitWithAck(event, payload);
        if (!reply.ok) toast(reply.error);
        return reply;
      } catch (e) {
        toast(i18n().offline || "Offline");
        return null;
      }
    },
  };
  const outbox = new Outbox(`charrette:outbox:${code}`, live);
  live.outbox = outbox;

  function numbers(payload) {
    if (payload.participants !== undefined) {
      for (const el of $$("[data-participants]")) el.textContent = payload.participants;
    }
    setTimer(payload.timer);
  }

  let shown = {}; // stage and phase of the view on screen
  function render(payload) {
    // The facilitator changed the workshop's language: the projector's whole page follows.
    if (payload.lang && payload.lang !== document.documentElement.lang) { location.reload(); return; }
    hooks.beforeView?.(payload, live);
    keepDrafts(view, () => { view.innerHTML = payload.html; });
    shown = { stage_id: payload.stage_id, phase: payload.phase };
    numbers(payload);
    hooks.onView?.(payload, live);
  }

  // A numbers-only push (votes coming in): update the figures in place, keep the view.
  function liveNumbers(payload) {
    numbers(payload);
    const progress = payload.progress || {};
    const figures = { ...progress, participants: payload.participants };
    for (const el of $$("[data-num]", view)) {
      if (figures[el.dataset.num] !== undefined) el.textContent = figures[el.dataset.num];
    }
    for (const el of $$("[data-bar]", view)) {
      const n = progress[el.dataset.bar];
      if (n !== undefined) el.setAttribute("width", (payload.participants ? (100 * n) / payload.participants : 0).toFixed(2));
    }
    // Parts belong to one stage's phase: never pour another stage's tally into this view.
    if (payload.stage_id !== shown.stage_id || payload.phase !== shown.phase) return;
    for (const [name, html] of Object.entries(payload.parts || {})) {
      const el = $(`[data-part="${name}"]`, view);
      if (el) el.innerHTML = html;
    }
  }

  async function sync() {
    try {
      const reply = await socket.timeout(10000).emitWithAck("sync", {});
      if (reply && reply.ok) {
        hooks.onMine?.(reply.mine, live);
        render(reply.view);
      }
    } catch (e) { /* the next reconnect syncs again */ }
  }
  live.sync = sync;
  if (drawn) {
    shown = { stage_id: drawn.view.stage_id, phase: drawn.view.phase };
    numbers(drawn.view);
    queueMicrotask(() => { // the screen's script holds `live` by then
      hooks.onMine?.(drawn.mine, live);
      hooks.onView?.(drawn.view, live);
    });
  }

  socket.on("connect", () => {
    const first = !connectedOnce;
    connectedOnce = true;
    socket.auth = auth; // a reconnection syncs: the page may be out of date by then
    live.status(outbox.pending ? "sending" : "connected");
    if (first && drawn) outbox.flush();
    else sync().then(() => outbox.flush());
  });
  socket.on("stale", () => sync());
  socket.on("disconnect", () => live.status(outbox.pending ? "queued" : "offline"));
  socket.on("connect_error", (err) => {
    // "timeout": the connection was not up in time (a slow network), not a refusal.
    if (err.type === "TransportError" || !err.message || err.message === "timeout") {
      // WebSocket blocked or server down: start with long-polling, which gets through venue
      // proxies, and upgrade to WebSocket once it works. (Listing WebSocket first would retry
      // only WebSocket: the client tries the first transport alone.) A phone whose WebSocket
      // worked before is waiting for a server that restarts: it keeps to WebSocket (one request
      // per reconnect, not a polling handshake and an upgrade for every phone of the room).
      if (!connectedOnce) socket.io.opts.transports = ["polling", "websocket"];
      live.status(outbox.pending ? "queued" : "offline");
      return;
    }
    // Refused by the server (not joined, workshop closed, signed out): say why.
    live.status("offline");
    toast(err.message);
    hooks.onDenied?.(err.message, live);
  });
  // Typed text survives a redraw (keepDrafts), but an open dropdown would close:
  // while a select has focus, hold tally refreshes for up to 3 s.
  let held = null;
  let heldTimer = null;
  const selecting = () => {
    const el = document.activeElement;
    return el && view.contains(el) && el.tagName === "SELECT";
  };
  const release = () => {
    clearTimeout(heldTimer);
    heldTimer = null;
    if (held) { const p = held; held = null; render(p); }
  };
  socket.on("view", (payload) => {
    if (payload.numbers) { liveNumbers(payload); return; }
    // The facilitator moved votes (a hide or a merge): read this screen's own again, each
    // screen at its own moment within a second so a whole room does not ask at once.
    if (payload.resync) setTimeout(sync, Math.random() * 1000);
    if (payload.coalesced && selecting()) {
      held = payload;
      numbers(payload); // the joined count and timer outside the view stay live
      heldTimer ??= setTimeout(release, 3000);
      return;
    }
    held = null;
    render(payload);
  });
  view.addEventListener("focusout", () => setTimeout(() => { if (!selecting()) release(); }, 0));

  // Busy, not disabled, while a reply is awaited: disabling the focused button would drop a
  // keyboard user's focus to the top of the page.
  const setBusy = (el, on) => {
    if (!el) return;
    if (on) { el.dataset.busy = "1"; el.setAttribute("aria-disabled", "true"); }
    else { delete el.dataset.busy; el.removeAttribute("aria-disabled"); }
  };

  // One listener for every action on the page: buttons and forms carry data-event.
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-event]");
    if (!button || button.form?.dataset.event) return;
    e.preventDefault();
    if (button.dataset.busy) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const { event, confirm, ...payload } = button.dataset;
    setBusy(button, true);
    await live.send(event, payload);
    setBusy(button, false);
  });
  // How many times each form was typed into, by its key: a reply to an earlier submit
  // never clears what was typed after it.
  const typed = {};
  const markDirty = (e) => {
    const form = e.target.closest("form[data-event], form[data-upload]");
    if (!form) return;
    form.dataset.dirty = "1";
    if (form.dataset.event) { const key = formKey(form); typed[key] = (typed[key] || 0) + 1; }
  };
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  document.addEventListener("submit", async (e) => {
    const form = e.target.closest("form[data-event]");
    if (!form) return;
    e.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const payload = collect(form);
    if (hooks.beforeSubmit && hooks.beforeSubmit(form, payload) === false) return;
    const key = formKey(form);
    const sentAt = typed[key] || 0;
    const done = () => {
      // The view may have been redrawn while we waited: settle the form now on the page,
      // unless the next entry is already being typed into it.
      if ((typed[key] || 0) !== sentAt) return;
      const current = findForm(key) || form;
      delete current.dataset.dirty;
      if (current.dataset.reset !== undefined) current.reset();
    };
    if (form.dataset.outbox !== undefined) {
      outbox.add(form.dataset.event, payload);
      done();
      return;
    }
    const submit = form.querySelector("button:not([type=button])");
    if (submit?.dataset.busy) return;
    setBusy(submit, true);
    const reply = await live.send(form.dataset.event, payload);
    setBusy(submit, false);
    if (reply && reply.ok) {
      done();
      if (form.dataset.saved !== undefined) toast(i18n().saved || "Saved", "ok");
    }
  });
  window.addEventListener("online", () => outbox.flush());
  live.status("connecting");
  return live;
}
