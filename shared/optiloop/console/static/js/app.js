// The console's entry point: hash routes -> page modules, the navigation, sign-in state.
// Each page module exports `render(main, params)`; pages are loaded on first use.

import { consoleConfig, restoreSession, signedIn, signOut, useCredential } from "./api.js";
import { finish, isCallback } from "./oidc.js";
import { errorBox, h, show } from "./dom.js";

/** [pattern, module, project-scoped?]: `:name` captures a path segment. */
const ROUTES = [
  ["/signin", "signin"],
  ["/projects", "projects"],
  ["/p/:project", "project", true],
  ["/p/:project/suggest", "suggest", true],
  ["/p/:project/coverage", "coverage", true],
  ["/p/:project/prompts", "prompts", true],
  ["/p/:project/prompts/:prompt", "prompt", true],
  ["/p/:project/deployments", "deployments", true],
  ["/p/:project/traces", "traces", true],
  ["/p/:project/traces/:trace", "trace", true],
  ["/p/:project/evals", "evals", true],
  ["/p/:project/evals/:eval", "eval", true],
  ["/p/:project/models", "models", true],
  ["/p/:project/models/:model", "model", true],
  ["/p/:project/experiments", "experiments", true],
  ["/p/:project/experiments/:experiment", "experiment", true],
  ["/p/:project/workflows", "workflows", true],
  ["/approvals", "approvals"],
  ["/audit", "audit"],
];

const PROJECT_PAGES = [
  ["", "Constraints"],
  ["/suggest", "Suggest"],
  ["/coverage", "Coverage"],
  ["/prompts", "Prompts"],
  ["/deployments", "Deployments"],
  ["/traces", "Traces"],
  ["/evals", "Evaluations"],
  ["/models", "Models"],
  ["/experiments", "Experiments"],
  ["/workflows", "Workflows"],
];

function match(path) {
  const parts = path.split("/").filter(Boolean);
  for (const [pattern, page, scoped] of ROUTES) {
    const want = pattern.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(":") ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i]))) {
      return { page, params, scoped };
    }
  }
  return null;
}

function markCurrent(container, hash) {
  for (const a of container.querySelectorAll("a")) {
    const here = a.getAttribute("href") === hash || (a.dataset.prefix && hash.startsWith(a.dataset.prefix));
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function projectNav(project, hash) {
  const nav = document.getElementById("projectnav");
  if (!project) {
    nav.hidden = true;
    return;
  }
  const base = `#/p/${encodeURIComponent(project)}`;
  show(
    nav,
    h(
      "ul",
      {},
      h("li", { class: "muted" }, h("span", { class: "mono" }, project)),
      PROJECT_PAGES.map(([suffix, label]) => h("li", {}, h("a", { href: base + suffix }, label))),
    ),
  );
  nav.hidden = false;
  markCurrent(nav, hash);
}

async function route() {
  const hash = location.hash || "#/projects";
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  if (!signedIn() && hash !== "#/signin" && !(await restoreSession())) {
    location.hash = "#/signin";
    return;
  }
  nav.hidden = !signedIn();
  markCurrent(nav, hash.split("?")[0]);
  const m = match(hash.slice(1).split("?")[0]);
  if (!m) {
    show(main, h("h1", {}, "Not found"), h("p", {}, "No console page here. ", h("a", { href: "#/projects" }, "Projects")));
    return;
  }
  projectNav(m.scoped ? m.params.project : null, hash);
  show(main, h("p", { class: "muted" }, "Loading…"));
  try {
    const mod = await import(`./pages/${m.page}.js`);
    await mod.render(main, m.params);
  } catch (err) {
    show(main, h("h1", {}, "Something went wrong"), errorBox(err));
  }
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · OptiLoop` : "OptiLoop console";
  // keyboard and screen-reader users start at the new page's content — unless they already moved
  // into it: a page shows its form before it has finished loading (sign-in fetches its config), and
  // focus must not be taken back from a field someone is typing in
  if (!main.contains(document.activeElement)) main.focus();
}

window.addEventListener("hashchange", route);
window.addEventListener("optiloop:signedout", () => {
  if (location.hash !== "#/signin") location.hash = "#/signin";
});
document.getElementById("signout").addEventListener("click", () => {
  signOut({ server: true });
  location.hash = "#/signin";
});

/** A static console's OIDC redirect (`/?code=&state=`): redeem it, then drop it from the address bar. */
async function start() {
  const config = await consoleConfig();
  if (config) {
    // served as static files: the API docs (/docs) are optiloop serve's pages, not on this origin
    document.querySelector('#nav a[href="/docs"]')?.closest("li")?.remove();
  }
  if (config && config.oidc && isCallback(location.search)) {
    const search = location.search;
    history.replaceState(null, "", location.pathname + "#/projects"); // the code is single-use anyway
    try {
      useCredential(await finish(config.oidc, search), config.api || "");
    } catch (err) {
      signOut();
      location.hash = "#/signin";
      await route();
      document.getElementById("main").prepend(errorBox(err));
      return;
    }
  }
  await route();
}
start();
