// The audit log (newest pages on demand) and the verification of its hash chain (GET /v1/audit/verify).

import { get, query } from "../api.js";
import { busy, errorBox, field, fmtDate, h, json, show, table } from "../dom.js";

export async function render(main) {
  const project = h("input", { type: "text", name: "project_id", placeholder: "prj_… (optional)" });
  const rows = [];
  let cursor = null;
  const list = h("div");
  const verifyOut = h("div", { "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary" }, "Load more");
  const verify = h("button", { type: "button" }, "Verify the chain");

  const draw = () =>
    show(
      list,
      table(
        [
          { label: "Seq", get: (r) => r.seq, num: true },
          { label: "At", get: (r) => fmtDate(r.at) },
          { label: "Principal", get: (r) => r.principal },
          { label: "Action", get: (r) => h("code", {}, r.action) },
          { label: "Project", get: (r) => r.project_id || "" },
          { label: "Target", get: (r) => r.target || "" },
          { label: "Details", get: (r) => h("details", {}, h("summary", {}, "show"), h("pre", {}, json(r.details))) },
          { label: "Hash", get: (r) => h("code", { title: r.hash }, r.hash.slice(0, 12)) },
        ],
        rows,
        `${rows.length} records`,
      ),
    );

  const load = async (reset) => {
    if (reset) {
      rows.length = 0;
      cursor = null;
    }
    const page = await get(`/v1/audit/logs${query({ limit: 100, project_id: project.value.trim(), ...cursor })}`);
    rows.push(...page.items);
    // one cursor name for every listing (docs/api-versioning.md, "Listings")
    cursor = page.next_after ? { after: page.next_after } : null;
    more.hidden = !cursor;
    draw();
  };

  more.addEventListener("click", () => busy(more, () => load(false).catch((err) => show(list, errorBox(err)))));
  verify.addEventListener("click", () =>
    busy(verify, async () => {
      try {
        const v = await get("/v1/audit/verify");
        show(
          verifyOut,
          v.ok
            ? h("div", { class: "ok", role: "status" }, `Chain verified: ${v.records} records in ${v.shards} shard(s), signatures ${v.signatures}.`)
            : h("div", { class: "alert", role: "alert" }, `Chain broken at seq ${v.first_bad_seq}: ${v.problem}`),
        );
      } catch (err) {
        show(verifyOut, errorBox(err));
      }
    }),
  );
  const filter = h("form", { class: "row", "aria-label": "Filter the audit log" }, h("div", {}, field("Project", project)), h("button", { type: "submit", class: "secondary" }, "Show"));
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    load(true).catch((err) => show(list, errorBox(err)));
  });
  show(main, h("h1", {}, "Audit log"), h("div", { class: "row" }, verify), verifyOut, filter, list, more);
  await load(true);
}
