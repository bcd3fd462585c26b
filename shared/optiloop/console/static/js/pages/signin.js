// Sign in: an API key exchanged for a session (HttpOnly cookie + CSRF token), or the configured
// OpenID provider (authorization code + PKCE, run by the server at /console/oidc/login). A console
// served as static files (S3) runs the PKCE flow in the browser instead (../oidc.js).

import { ApiError, consoleConfig, get, oidcEnabled, signIn, signOut } from "../api.js";
import { authorizeUrl } from "../oidc.js";
import { busy, errorBox, field, h, show } from "../dom.js";

export async function render(main) {
  const key = h("input", { type: "password", name: "key", autocomplete: "off", required: true, spellcheck: "false" });
  const base = h("input", { type: "url", name: "base", placeholder: "https://api.example.com" });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "signin-title" },
    field("API key", key, "The key make run printed (export OPTILOOP_API_KEY=olk_…), or one an admin minted for you."),
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
      try {
        await signIn(key.value, base.value);
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
    h("p", {}, "The console uses the REST API as you: your key opens a session here (a cookie no script can read) and is not kept in the browser."),
    form,
  );
  const config = await consoleConfig();
  if (config && config.oidc) {
    const go = h("button", { type: "button" }, "Sign in with your identity provider");
    go.addEventListener("click", () =>
      busy(go, async () => {
        location.assign(await authorizeUrl(config.oidc));
      }),
    );
    main.append(h("p", {}, go));
  } else if (await oidcEnabled()) {
    main.append(h("p", {}, h("a", { class: "button", href: "/console/oidc/login" }, "Sign in with your identity provider")));
  }
}
