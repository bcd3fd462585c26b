// Workflow executions of a project (train -> evaluate -> register -> approve -> deploy): each with its
// status and the attempts of its steps.

import { enc, get } from "../api.js";
import { fmtDate, h, json, show, table } from "../dom.js";

function statusBadge(s) {
  const cls = s === "SUCCEEDED" ? "badge good" : ["FAILED", "ABORTED", "TIMED_OUT"].includes(s) ? "badge bad" : "badge";
  return h("span", { class: cls }, s);
}

export async function render(main, { project }) {
  const page = await get(`/v1/projects/${enc(project)}/workflow_executions`);
  show(
    main,
    h("h1", {}, "Workflow executions"),
    page.items.length ? null : h("p", { class: "muted" }, "No executions yet (POST /v1/workflow_executions, or policies:train)."),
    page.items.map((x) =>
      h(
        "section",
        { class: "panel", "aria-labelledby": `wf-${x.id}` },
        h("h2", { id: `wf-${x.id}` }, `${x.workflow} `, h("code", {}, x.id), " ", statusBadge(x.status)),
        h("p", {}, `Started ${fmtDate(x.started_at)} by ${x.started_by}; now at ${x.current_state}${x.ended_at ? `; ended ${fmtDate(x.ended_at)}` : ""}.`),
        x.error ? h("pre", { class: "alert" }, json(x.error)) : null,
        table(
          [
            { label: "State", get: (e) => e.state },
            { label: "Step", get: (e) => e.step || "" },
            { label: "Attempt", get: (e) => e.attempt, num: true },
            { label: "Status", get: (e) => statusBadge(e.status) },
            { label: "Started", get: (e) => fmtDate(e.started_at) },
            { label: "Ended", get: (e) => fmtDate(e.ended_at) },
            { label: "Error", get: (e) => (e.error ? e.error.message || json(e.error) : "") },
          ],
          x.events,
          "Steps",
        ),
      ),
    ),
  );
}
