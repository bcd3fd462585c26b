// One trace: what was rendered and answered, by which model, at what cost, and the guardrails' verdicts.

import { enc, get } from "../api.js";
import { h, json, show, table } from "../dom.js";

export async function render(main, { project, trace }) {
  const t = await get(`/v1/traces/${enc(trace)}`);
  const facts = [
    ["When", t.at],
    ["Who", t.principal],
    ["Prompt version", h("a", { href: `#/p/${enc(project)}/prompts/${enc(t.prompt_id)}` }, `v${t.version} (${t.prompt_version_id})`)],
    ["Label", t.label ?? "—"],
    ["Model", `${t.model} (${t.provider})`],
    ["Tokens in+out", `${t.tokens?.prompt}+${t.tokens?.completion}`],
    ["Cost", `$${Number(t.cost_usd).toFixed(6)}`],
    ["Latency", `${t.latency_ms} ms (provider ${t.provider_latency_ms} ms)`],
    ["Attempts", t.attempts],
    ["Outcome", t.blocked ? "blocked by guardrails" : t.cached ? "from cache" : "answered"],
  ];
  show(
    main,
    h("h1", {}, `Trace ${t.id}`),
    table(
      [
        { label: "Field", get: (r) => r[0] },
        { label: "Value", get: (r) => r[1] },
      ],
      facts,
      "Trace summary",
    ),
    h("h2", {}, "Prompt (PII redacted)"),
    h("pre", { class: "mono", tabindex: "0" }, t.prompt ?? ""),
    h("h2", {}, "Output (PII redacted)"),
    h("pre", { class: "mono", tabindex: "0" }, t.output ?? ""),
    h("h2", {}, "Guardrails"),
    h("pre", { class: "mono", tabindex: "0" }, json(t.guardrails ?? {})),
    h("p", {}, h("a", { href: `#/p/${enc(project)}/traces` }, "All traces")),
  );
}
