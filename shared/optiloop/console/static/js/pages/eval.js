// One evaluation run: what ran, its scores with 95% confidence intervals, the paired comparison, and
// the score of every example (the first 1,000).

import { enc, get } from "../api.js";
import { h, show, table } from "../dom.js";

const fmt = (v) => (typeof v === "number" ? v.toFixed(3) : "—");

export async function render(main, { project, eval: runId }) {
  const run = await get(`/v1/evals/${enc(runId)}`);
  const results = await get(`/v1/evals/${enc(runId)}/results?limit=1000`);
  const aggregates = Object.entries(run.aggregates || {});
  const comparison = Object.entries(run.comparison?.metrics || {});
  show(
    main,
    h("h1", {}, `Evaluation ${run.id}`),
    h(
      "p",
      {},
      `Prompt version v${run.version} (`,
      h("code", {}, run.prompt_version_id),
      `) on dataset `,
      h("code", {}, run.dataset_id),
      ` (content ${run.dataset_hash}), ${run.n} examples, ${run.errors} errors, $${Number(run.cost_usd).toFixed(6)}.`,
    ),
    table(
      [
        { label: "Metric", get: (r) => r[0] },
        { label: "Mean", get: (r) => fmt(r[1].mean), num: true },
        { label: "95% CI low", get: (r) => fmt(r[1].ci_low), num: true },
        { label: "95% CI high", get: (r) => fmt(r[1].ci_high), num: true },
      ],
      aggregates,
      "Scores",
    ),
    comparison.length
      ? table(
          [
            { label: "Metric", get: (r) => r[0] },
            { label: "Mean difference", get: (r) => fmt(r[1].mean_diff), num: true },
            { label: "p", get: (r) => fmt(r[1].p_value), num: true },
            { label: "Verdict", get: (r) => r[1].verdict ?? "—" },
          ],
          comparison,
          `Against version ${run.comparison?.baseline_version ?? ""} (paired, same examples)`,
        )
      : null,
    table(
      [
        { label: "Example", get: (r) => h("code", {}, r.id) },
        ...Object.keys(run.aggregates || {}).map((m) => ({ label: m, get: (r) => fmt(r.scores?.[m]), num: true })),
        { label: "Error", get: (r) => r.error ?? "" },
      ],
      results.items || [],
      "Per-example scores",
    ),
    h("p", {}, h("a", { href: `#/p/${enc(project)}/evals` }, "All evaluation runs")),
  );
}
