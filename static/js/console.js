// The console: every control is a [data-event] button or form handled by live.js;
// concept and draft uploads (multipart, with an image) go over HTTP.
import { followJoinAddress } from "./join.js";
import { start, toast } from "./live.js";

const strings = () => document.querySelector("#i18n").dataset;

const live = start();
followJoinAddress(live);

document.addEventListener("submit", async (e) => {
  const form = e.target.closest("form[data-upload]");
  if (!form) return;
  e.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const res = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content },
    });
    const reply = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (reply && reply.ok) {
      form.reset();
      delete form.dataset.dirty;
      // A push during the request kept this form as typed; render the saved values now.
      if (form.dataset.upload === "edit") live.sync();
      const done = form.dataset.upload === "edit" ? "saved" : "added";
      toast(`${document.querySelector("#i18n").dataset[done]}: ${reply.item.title}`, "ok");
    } else {
      toast((reply && reply.error) || (res.status === 413 ? strings().toolarge : strings().error) || `Error ${res.status}`);
    }
  } catch (err) {
    toast(document.querySelector("#i18n").dataset.offline || "Offline");
  } finally {
    button.disabled = false;
  }
});
