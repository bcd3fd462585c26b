// Traces: every `generate` call of the project, newest first (GET /v1/projects/{id}/traces), a page
// at a time; each links to its details.

import { enc, get, query } from "../api.js";
import { busy, errorBox, h, show, table } from "../dom.js";

const usd = (v) => (typeof v === "number" ? `$${v.toFixed(6)}` : "—");

export async function render(main, { project }) {
  const rows = [];
  const body = h("div", {});
  const more = h("button", { type: "button", class: "secondary" }, "Load more");
  let after = null;

  async function load() {
    const page = await get(`/v1/projects/${enc(project)}/traces${query({ limit: 50, after })}`);
    rows.push(...page.items);
    after = page.next_after;
    more.hidden = !after;
    show(
      body,
      rows.length
        ? table(
            [
              { label: "Trace", get: (t) => h("a", { href: `#/p/${enc(project)}/traces/${enc(t.id)}` }, h("code", {}, t.id)) },
              { label: "When", get: (t) => t.at },
              { label: "Prompt version", get: (t) => `v${t.version}${t.label ? ` (${t.label})` : ""}` },
              { label: "Model", get: (t) => t.model },
              { label: "Tokens in+out", get: (t) => `${t.tokens?.prompt ?? "—"}+${t.tokens?.completion ?? "—"}`, num: true },
              { label: "Cost", get: (t) => usd(t.cost_usd), num: true },
              { label: "Latency (ms)", get: (t) => t.latency_ms, num: true },
              { label: "Outcome", get: (t) => (t.blocked ? "blocked by guardrails" : t.cached ? "from cache" : "answered") },
            ],
            rows,
            "Generate traces, newest first",
          )
        : h("p", {}, "No traces yet: every POST /v1/generate of this project leaves one."),
    );
  }

  more.addEventListener("click", () => busy(more, () => load().catch((err) => show(body, errorBox(err)))));
  show(main, h("h1", {}, "Traces"), body, h("div", { class: "actions" }, more));
  await load();
}
