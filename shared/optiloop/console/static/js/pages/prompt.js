// One prompt: its versions (status, author, content hash), a form for a new version, submitting a
// version for approval, and a side-by-side diff of any two versions (GET /v1/prompt_versions/{id}/diff).

import { enc, get, post } from "../api.js";
import { sideBySide, lineDiff } from "../diff.js";
import { busy, errorBox, field, fmtDate, h, ok, show, table } from "../dom.js";

function badge(status) {
  const cls = status === "Approved" ? "badge good" : status === "Rejected" ? "badge bad" : "badge";
  return h("span", { class: cls }, status);
}

function diffView(from, to, d) {
  const rows = sideBySide(lineDiff(from.body, to.body));
  // one table, four columns, so a long line on one side keeps the rows of both sides aligned
  const cells = (op, side) => {
    if (!op) return [h("td", { class: "ln" }), h("td", { class: "code blank" })];
    const kind = op.op === "same" ? "same" : side === "a" ? "del" : "add";
    const mark = kind === "del" ? "− " : kind === "add" ? "+ " : "  ";
    return [h("td", { class: "ln" }, side === "a" ? op.ai : op.bi), h("td", { class: `code ${kind}` }, mark, side === "a" ? op.a : op.b)];
  };
  return h(
    "div",
    { id: "diff-view" },
    h("p", {}, d.identical ? "The two versions are identical." : `v${d.from.version} → v${d.to.version}: removed lines (−) on the left, added lines (+) on the right.`),
    h(
      "div",
      { class: "diff" },
      h(
        "table",
        {},
        h("caption", {}, `Body of v${from.version} (${from.status}) and v${to.version} (${to.status}), side by side`),
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, "line"), h("th", { scope: "col" }, `v${from.version}`), h("th", { scope: "col" }, "line"), h("th", { scope: "col" }, `v${to.version}`)),
        ),
        h("tbody", {}, rows.map(([l, r]) => h("tr", {}, cells(l, "a"), cells(r, "b")))),
      ),
    ),
    d.variables ? h("details", { open: true }, h("summary", {}, "Variables"), h("pre", {}, d.variables)) : null,
    d.defaults ? h("details", { open: true }, h("summary", {}, "Defaults"), h("pre", {}, d.defaults)) : null,
    h("details", {}, h("summary", {}, "Unified diff (as the API gives it)"), h("pre", {}, d.body || "(no change)")),
  );
}

export async function render(main, { project, prompt }) {
  const [p, versions] = await Promise.all([get(`/v1/prompts/${enc(prompt)}`), get(`/v1/prompts/${enc(prompt)}/versions?limit=200`)]);
  const items = versions.items;
  const byId = Object.fromEntries(items.map((v) => [v.id, v]));
  const rerender = () => render(main, { project, prompt });

  const actionOut = h("div", { "aria-live": "polite" });
  const submitFor = (v) => {
    if (v.status !== "Draft") return "";
    const btn = h("button", { type: "button", class: "secondary" }, `Submit v${v.version} for approval`);
    btn.addEventListener("click", () =>
      busy(btn, async () => {
        try {
          await post(`/v1/prompt_versions/${enc(v.id)}/submit_for_approval`, { comment: "" });
          await rerender();
        } catch (err) {
          show(actionOut, errorBox(err));
        }
      }),
    );
    return btn;
  };

  // diff picker
  const opt = (v, selected) => h("option", { value: v.id, selected: selected || null }, `v${v.version} (${v.status})`);
  const from = h("select", { name: "from" }, items.map((v, i) => opt(v, i === items.length - 2)));
  const to = h("select", { name: "to" }, items.map((v, i) => opt(v, i === items.length - 1)));
  const diffOut = h("div", { "aria-live": "polite" });
  const compare = h("button", { type: "submit" }, "Compare");
  const diffForm = h(
    "form",
    { class: "panel", "aria-labelledby": "diff-title" },
    h("h2", { id: "diff-title" }, "Compare versions"),
    h("div", { class: "row" }, field("From", from), field("To", to), compare),
    diffOut,
  );
  diffForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(compare, async () => {
      try {
        const d = await get(`/v1/prompt_versions/${enc(to.value)}/diff?against=${enc(from.value)}`);
        show(diffOut, diffView(byId[from.value], byId[to.value], d));
      } catch (err) {
        show(diffOut, errorBox(err));
      }
    });
  });

  // new version
  const last = items.at(-1);
  const body = h("textarea", { name: "body", rows: 6, required: true });
  body.value = last ? last.body : "You are a helpful assistant.\nQ: {{question}}\nA:";
  const variables = h("textarea", { name: "variables", rows: 2 });
  variables.value = JSON.stringify(last ? last.variables : { question: "str" });
  const notes = h("input", { type: "text", name: "notes" });
  const newOut = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit" }, "Save new version");
  const newForm = h(
    "form",
    { class: "panel", "aria-labelledby": "new-version" },
    h("h2", { id: "new-version" }, "New version"),
    field("Template body (Jinja2, sandboxed)", body),
    field("Variables (JSON: name -> str, int, float, bool, list, json)", variables),
    field("Notes", notes),
    h("div", { class: "actions" }, save),
    newOut,
  );
  newForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(save, async () => {
      let vars;
      try {
        vars = JSON.parse(variables.value || "{}");
      } catch (err) {
        show(newOut, h("div", { class: "alert", role: "alert" }, `Variables: ${err.message}`));
        return;
      }
      try {
        const v = await post(`/v1/prompts/${enc(prompt)}/versions`, { body: body.value, variables: vars, notes: notes.value });
        await rerender();
        main.querySelector("#version-table")?.after(ok(`Saved v${v.version}.`));
      } catch (err) {
        show(newOut, errorBox(err));
      }
    });
  });

  show(
    main,
    h("h1", {}, `Prompt ${p.name}`),
    h("p", { class: "muted" }, h("code", {}, p.id), ` · created ${fmtDate(p.created_at)} by ${p.created_by}`),
    h(
      "div",
      { id: "version-table" },
      table(
        [
          { label: "Version", get: (v) => `v${v.version}`, num: true },
          { label: "Status", get: (v) => badge(v.status) },
          { label: "Author", get: (v) => v.created_by },
          { label: "Notes", get: (v) => v.notes },
          { label: "Content hash", get: (v) => h("code", { title: v.content_hash }, v.content_hash.slice(7, 19)) },
          { label: "Id", get: (v) => h("code", {}, v.id) },
          { label: "Actions", get: (v) => submitFor(v) },
        ],
        items,
        "Versions",
      ),
    ),
    actionOut,
    items.length >= 2 ? diffForm : null,
    newForm,
  );
}
