// The join address on the projector and the console. The server pushes a new one when the
// facilitator switches networks or the laptop joins one; the page follows without a reload.
import { $, $$, toast } from "./live.js";

function show(join) {
  for (const el of $$("[data-join-ok]")) el.hidden = !join.reachable;
  for (const el of $$("[data-join-none]")) el.hidden = join.reachable;
  for (const el of $$("[data-join-base]")) el.textContent = join.base;
  for (const el of $$("[data-join-url]")) el.textContent = join.join;
  for (const el of $$("[data-join-qr]")) el.innerHTML = join.qr; // the server's own SVG
  const form = $("[data-join-switch]");
  if (!form) return;
  form.hidden = join.choices.length < 2;
  const select = form.elements.address;
  if (document.activeElement === select) return; // never pull a list from under the pointer
  select.replaceChildren(...join.choices.map((c) => {
    const option = new Option(c.label, c.address);
    option.selected = c.address === join.in_use;
    return option;
  }));
}

export function followJoinAddress(live) {
  const src = $("[data-join-src]")?.dataset.joinSrc;
  if (!src) return;
  live.socket.on("address", show);
  // A push missed while disconnected (a laptop that slept): ask again on every (re)connect.
  live.socket.on("connect", async () => {
    try {
      const res = await fetch(src, { headers: { Accept: "application/json" } });
      if (res.ok) show(await res.json());
    } catch (e) { /* the next connect asks again */ }
  });
  const form = $("[data-join-switch]");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const res = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
      const reply = await res.json();
      if (reply.ok) show(reply); else toast(reply.error);
    } catch (err) {
      toast(($("#i18n") || { dataset: {} }).dataset.offline || "Offline");
    }
  });
}
