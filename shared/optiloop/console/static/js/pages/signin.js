// Sign in with an API key: it is checked against the API once, then kept in sessionStorage only.

import { ApiError, get, signIn, signOut } from "../api.js";
import { busy, errorBox, field, h, show } from "../dom.js";

export async function render(main) {
  const key = h("input", { type: "password", name: "key", autocomplete: "off", required: true, spellcheck: "false" });
  const base = h("input", { type: "url", name: "base", placeholder: "https://api.example.com" });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "signin-title" },
    field("API key", key, "The key make run printed (olk_…), OPTILOOP_ADMIN_TOKEN, or one an admin minted for you."),
    h(
      "details",
      {},
      h("summary", {}, "API on another origin"),
      field("API URL", base, "Leave empty when this page is served by optiloop serve."),
    ),
    h("div", { class: "actions" }, submit),
    out,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      signIn(key.value, base.value);
      try {
        await get("/v1/projects?limit=1");
        location.hash = "#/projects";
      } catch (err) {
        signOut();
        show(out, errorBox(err instanceof ApiError ? err : new ApiError(0, { message: String(err) })));
        key.setAttribute("aria-invalid", "true");
        key.focus();
      }
    });
  });
  show(
    main,
    h("h1", { id: "signin-title" }, "Sign in to OptiLoop"),
    h("p", {}, "The console uses the REST API with your API key; it is kept in this tab only and forgotten when the tab closes."),
    form,
  );
}
