// A project's experiments: AutoML searches (their status, progress and best so far, each opening its
// leaderboard) and online experiments (docs/decisions.md), which share the resource.

import { enc, get } from "../api.js";
import { fmtDate, fmtNum, h, link, show, table } from "../dom.js";

export function statusBadge(s) {
  const cls = s === "completed" || s === "Completed" ? "badge good" : s === "failed" ? "badge bad" : "badge";
  return h("span", { class: cls }, s);
}

function progressOf(e) {
  const p = e.progress;
  return p ? `${p.trials_done} / ${p.trials_total} trials` : "";
}

function bestOf(e) {
  if (!e.best) return "—";
  return `${e.best.model} ${e.metric} ${fmtNum((e.best.metrics || {})[e.metric])}`;
}

export async function render(main, { project }) {
  const page = await get(`/v1/experiments?project_id=${enc(project)}&limit=1000`);
  const automl = page.items.filter((e) => e.kind === "automl");
  const online = page.items.filter((e) => e.kind === "online");
  show(
    main,
    h("h1", {}, "Experiments"),
    table(
      [
        { label: "Name", get: (e) => link(`#/p/${enc(project)}/experiments/${enc(e.id)}`, e.name || e.id) },
        { label: "Task", get: (e) => `${e.task_type} (${e.metric}, ${e.direction})` },
        { label: "Status", get: (e) => statusBadge(e.status) },
        { label: "Progress", get: progressOf },
        { label: "Best so far", get: bestOf },
        { label: "Created", get: (e) => `${fmtDate(e.created_at)} by ${e.created_by || ""}` },
      ],
      automl,
      `${automl.length} AutoML experiments`,
    ),
    online.length
      ? table(
          [
            { label: "Name", get: (e) => e.name || e.id },
            { label: "Type", get: (e) => e.type },
            { label: "Metric", get: (e) => e.metric || "" },
            { label: "Status", get: (e) => statusBadge(e.status) },
            { label: "Created", get: (e) => `${fmtDate(e.created_at)} by ${e.created_by || ""}` },
          ],
          online,
          `${online.length} online experiments`,
        )
      : null,
    h(
      "p",
      { class: "muted" },
      "An AutoML experiment is created from an ingested table (POST /v1/experiments, the SDK's experiments.create or `optiloop automl`); docs/automl.md.",
    ),
  );
}
