// The model registry of a project: its models, each with its versions on the model's page.

import { enc, get } from "../api.js";
import { fmtDate, h, link, show, table } from "../dom.js";

export async function render(main, { project }) {
  const page = await get(`/v1/models?project_id=${enc(project)}`);
  show(
    main,
    h("h1", {}, "Models"),
    table(
      [
        { label: "Name", get: (m) => link(`#/p/${enc(project)}/models/${enc(m.id)}`, m.name) },
        { label: "Latest version", get: (m) => m.latest_version, num: true },
        { label: "Description", get: (m) => m.description || "" },
        { label: "Created", get: (m) => `${fmtDate(m.created_at)} by ${m.created_by || ""}` },
      ],
      page.items,
      `${page.items.length} models`,
    ),
    h("p", { class: "muted" }, "Models are registered by training jobs and experiment workflows (docs/models.md)."),
  );
}
