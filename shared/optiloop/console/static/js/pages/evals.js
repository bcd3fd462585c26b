// Evaluation results: the project's evaluation runs (from the audit log's `eval.completed` records,
// newest first), each with its mean scores and its verdict against the version it was compared to.

import { enc, get, query } from "../api.js";
import { h, show, table } from "../dom.js";

const fmt = (v) => (typeof v === "number" ? v.toFixed(3) : "—");

export async function render(main, { project }) {
  const page = await get(`/v1/audit/logs${query({ project_id: project, action: "eval.completed", limit: 1000 })}`);
  const runs = [...page.items].reverse();
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.details.aggregates || {})))];
  show(
    main,
    h("h1", {}, "Evaluation results"),
    runs.length
      ? table(
          [
            { label: "Run", get: (r) => h("a", { href: `#/p/${enc(project)}/evals/${enc(r.target)}` }, h("code", {}, r.target)) },
            { label: "When", get: (r) => r.at },
            { label: "By", get: (r) => r.principal },
            { label: "Prompt version", get: (r) => h("code", {}, r.details.prompt_version_id) },
            { label: "Dataset", get: (r) => h("code", {}, r.details.dataset_id) },
            ...metrics.map((m) => ({ label: `${m} (mean)`, get: (r) => fmt(r.details.aggregates?.[m]), num: true })),
            { label: "Verdict", get: (r) => r.details.verdict ?? "no comparison" },
          ],
          runs,
          "Evaluation runs, newest first",
        )
      : h("p", {}, "No evaluation has run in this project yet (POST /v1/evals/run, or optiloop prompts-demo)."),
  );
}
