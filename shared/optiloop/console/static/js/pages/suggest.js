// The suggest console: generator, batch size, seed, objectives and weights -> the suggested tests.

import { enc, post } from "../api.js";
import { busy, download, errorBox, field, fmtCents, h, json, show, table } from "../dom.js";

const GENERATORS = ["hybrid", "qmc", "coverage", "bo", "random"];
const OBJECTIVES = [
  ["coverage_gain", "Coverage gain"],
  ["failure_prob", "Failure probability"],
  ["cost", "Cost"],
];

const fmt = (v) => (v === undefined ? "—" : typeof v === "number" ? String(Math.round(v * 1e4) / 1e4) : String(v));

export async function render(main, { project }) {
  const generator = h("select", { name: "generator" }, GENERATORS.map((g) => h("option", { value: g }, g)));
  const batch = h("input", { type: "number", name: "batch_size", min: 1, max: 500, value: "10", required: true });
  const seed = h("input", { type: "number", name: "seed", min: 0, step: 1 });
  const budget = h("input", { type: "number", name: "budget_cents", min: 0, step: "any" });
  const objectives = OBJECTIVES.map(([value, label]) => {
    const box = h("input", { type: "checkbox", name: "objectives", value, checked: true });
    const weight = h("input", { type: "number", min: 0, step: "any", value: "1", "aria-label": `${label} weight`, class: "weight" });
    return { value, box, weight, el: h("div", { class: "row" }, h("label", { class: "inline" }, box, label), weight) };
  });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Suggest");
  const form = h(
    "form",
    { class: "panel", "aria-label": "Suggest tests" },
    h("div", { class: "row" }, field("Generator", generator), field("Batch size", batch), field("Seed (optional)", seed), field("Batch budget (cents, optional)", budget)),
    h("fieldset", {}, h("legend", {}, "Objectives and weights"), objectives.map((o) => o.el)),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const chosen = objectives.filter((o) => o.box.checked);
      const body = {
        generator: generator.value,
        batch_size: Number(batch.value),
        objectives: chosen.map((o) => o.value),
        objective_weights: chosen.map((o) => Number(o.weight.value)),
      };
      if (seed.value !== "") body.seed = Number(seed.value);
      if (budget.value !== "") body.budget_cents = Number(budget.value);
      try {
        const s = await post(`/v1/projects/${enc(project)}/tests:suggest`, body);
        showBatch(out, s);
      } catch (err) {
        show(out, errorBox(err));
      }
    });
  });
  show(main, h("h1", {}, "Suggest tests"), form, out);
}

function showBatch(out, s) {
  const why = Object.fromEntries((s.explanations || []).map((x) => [x.id, x.rationale]));
  const names = [...new Set(s.tests.flatMap((t) => Object.keys(t.params)))];
  const csv = [["id", ...names, "score"].join(","), ...s.tests.map((t) => [t.id, ...names.map((n) => fmt(t.params[n])), t.score].join(","))].join("\n");
  show(
    out,
    h(
      "p",
      {},
      `${s.tests.length} tests from ${s.policy_version}, seed ${s.seed}, predicted cost ${fmtCents(s.predicted_cost_cents)}. `,
      h("button", { type: "button", class: "link", onclick: () => download(`${s.suggestion_id}.csv`, csv) }, "Download CSV"),
      h("button", { type: "button", class: "link", onclick: () => download(`${s.suggestion_id}.json`, json(s), "application/json") }, "Download JSON"),
    ),
    table(
      [
        { label: "Test", get: (t) => h("code", {}, t.id) },
        ...names.map((n) => ({ label: n, get: (t) => fmt(t.params[n]) })),
        { label: "Score", get: (t) => fmt(t.score), num: true },
        { label: "Why", get: (t) => why[t.id] || "" },
      ],
      s.tests,
      `Suggested tests (${s.suggestion_id})`,
    ),
  );
}
