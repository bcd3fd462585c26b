// The suggest console: generator, batch size, seed, objectives and weights -> the suggested tests,
// and, when asked, the candidate pool's Pareto front (a chart of two of its objectives, a table, PNG).

import { enc, post } from "../api.js";
import { savePng, scatter } from "../charts.js";
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
  const pareto = h("input", { type: "checkbox", name: "pareto" });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Suggest");
  const form = h(
    "form",
    { class: "panel", "aria-label": "Suggest tests" },
    h("div", { class: "row" }, field("Generator", generator), field("Batch size", batch), field("Seed (optional)", seed), field("Batch budget (cents, optional)", budget)),
    h("fieldset", {}, h("legend", {}, "Objectives and weights"), objectives.map((o) => o.el)),
    h("label", { class: "inline" }, pareto, "Also show the Pareto front of the candidates (coverage gain, failure probability, duration, flakiness)"),
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
      if (pareto.checked) body.pareto = {};
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
    s.pareto ? paretoFront(s.pareto, s.suggestion_id) : null,
  );
}

/** The front's members over its first two objectives: squares are in this batch, circles are not. */
function paretoFront(p, suggestionId) {
  const [a, b] = p.objectives;
  const goal = (o) => `${o.name} (${o.goal === "max" || o.goal === "maximise" ? "higher is better" : "lower is better"})`;
  const points = p.front.map((m) => [m.values[a.name], m.values[b.name], Boolean(m.test_id)]);
  const title = `Pareto front: ${a.name} against ${b.name}`;
  const svg = scatter(points, {
    label: `${title}; ${p.front_size} candidates of ${p.sorted} on the first front, ${points.filter((x) => x[2]).length} of them in this batch (squares)`,
    xTitle: goal(a),
    yTitle: goal(b),
  });
  const save = h("button", { type: "button", class: "link" }, "Save the front as PNG");
  save.addEventListener("click", () => busy(save, () => savePng(svg, `pareto-${suggestionId}.png`)));
  return h(
    "figure",
    { class: "panel" },
    h("figcaption", {}, `${title} (${p.fronts} fronts over ${p.sorted} candidates; squares: in this batch)`),
    svg,
    save,
    table(
      [
        { label: "In batch", get: (m) => (m.test_id ? h("code", {}, m.test_id) : "no") },
        ...p.objectives.map((o) => ({ label: o.name, get: (m) => fmt(m.values[o.name]), num: true })),
        { label: "Params", get: (m) => Object.entries(m.params).map(([k, v]) => `${k}=${fmt(v)}`).join(", ") },
      ],
      p.front,
      "Pareto front members",
    ),
  );
}
