// A project: its details, its constraints, the constraint editor and a preview of feasible samples.
// The editor checks JSON syntax as you type; the constraint language itself is checked by the API
// on save (the parser is the server's: one truth), and its 422 is shown field by field, with a
// caret under the position the parser names.

import { enc, get, post } from "../api.js";
import { announce, busy, errorBox, field, fmtCents, fmtDate, h, json, ok, show, table } from "../dom.js";

const TEMPLATE = {
  params: {
    qps: { type: "integer", min: 1, max: 5000 },
    region: { type: "string", enum: ["us", "eu", "apac"] },
    payload_kb: { type: "number", min: 0.1, max: 512.0 },
    cache: { type: "boolean" },
  },
  relations: ['if(region=="eu") then(payload_kb<=256.0)', "qps * payload_kb <= 1.0e6"],
};

/** Where JSON.parse failed, as a character offset (Chrome: "at position N"; Firefox: line/column). */
function jsonErrorPosition(text, message) {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (!lc) return null;
  const lines = text.split("\n").slice(0, Number(lc[1]) - 1);
  return lines.reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
}

/** field name in a 422 (json_schema.relations[0]) -> the text it refers to, for the caret. */
function sourcesOf(schema) {
  const out = {};
  (schema.relations || []).forEach((r, i) => (out[`json_schema.relations[${i}]`] = r));
  for (const [name, p] of Object.entries(schema.params || {})) {
    if (p && typeof p.active_if === "string") out[`json_schema.params.${name}.active_if`] = p.active_if;
  }
  return out;
}

export function paramsTable(tests, caption) {
  const names = [...new Set(tests.flatMap((t) => Object.keys(t.params)))];
  return table(
    [{ label: "Test", get: (t) => h("code", {}, t.id) }, ...names.map((n) => ({ label: n, get: (t) => fmt(t.params[n]) }))],
    tests,
    caption,
  );
}

const fmt = (v) => (v === undefined ? "—" : typeof v === "number" ? String(Math.round(v * 1e4) / 1e4) : String(v));

export async function render(main, { project }) {
  const base = `/v1/projects/${enc(project)}`;
  const [p, constraints] = await Promise.all([get(base), get(`${base}/constraints`)]);
  const latest = constraints.items.at(-1);

  const list = h("div");
  const showList = (items) =>
    show(
      list,
      table(
        [
          { label: "Name", get: (c) => c.name },
          { label: "Type", get: (c) => (c.type === "soft" ? `soft (weight ${c.weight})` : c.type) },
          { label: "Version", get: (c) => c.version, num: true },
          { label: "Relations", get: (c) => h("ul", {}, (c.json_schema.relations || []).map((r) => h("li", {}, h("code", {}, r)))) },
          { label: "Saved", get: (c) => `${fmtDate(c.created_at)} by ${c.created_by}` },
        ],
        items,
        "Constraints",
      ),
    );
  showList(constraints.items);

  // the editor
  const name = h("input", { type: "text", name: "name", required: true, value: latest ? latest.name : "base" });
  const type = h("select", { name: "type" }, h("option", { value: "hard" }, "hard"), h("option", { value: "soft" }, "soft"));
  const weight = h("input", { type: "number", name: "weight", min: 0, step: "any", value: "1" });
  const schema = h("textarea", { name: "json_schema", rows: 16, spellcheck: "false" });
  schema.value = json(latest ? latest.json_schema : TEMPLATE);
  const syntax = h("div", { id: "schema-syntax", "aria-live": "polite" });
  const out = h("div", { id: "constraint-result", "aria-live": "polite" });
  const save = h("button", { type: "submit" }, "Validate and save");
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "editor-title", novalidate: true },
    h("h2", { id: "editor-title" }, "Constraint editor"),
    h("p", { class: "muted" }, 'Params and relations as JSON: {"params": {...}, "relations": ["..."]}. The API parses relations on save and names the position of any error.'),
    h("div", { class: "row" }, field("Name", name), field("Type", type), field("Weight (soft only)", weight)),
    field("Parameter space (JSON)", schema),
    syntax,
    h("div", { class: "actions" }, save),
    out,
  );
  schema.setAttribute("aria-describedby", "schema-syntax constraint-result");

  let timer;
  const checkSyntax = () => {
    try {
      JSON.parse(schema.value);
      schema.removeAttribute("aria-invalid");
      syntax.replaceChildren();
      return true;
    } catch (e) {
      schema.setAttribute("aria-invalid", "true");
      const pos = jsonErrorPosition(schema.value, e.message);
      const line = pos === null ? null : schema.value.slice(0, pos).split("\n").length;
      show(syntax, h("div", { class: "alert", role: "alert" }, `JSON syntax: ${e.message}${line ? ` (line ${line})` : ""}`));
      return false;
    }
  };
  schema.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(checkSyntax, 300);
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!checkSyntax()) return;
    busy(save, async () => {
      const parsed = JSON.parse(schema.value);
      const body = { name: name.value, type: type.value, json_schema: parsed };
      if (type.value === "soft") body.weight = Number(weight.value);
      try {
        const c = await post(`${base}/constraints`, body);
        schema.removeAttribute("aria-invalid");
        const frac = c.feasible_fraction === undefined ? "" : `; about ${(100 * c.feasible_fraction).toFixed(1)}% of the space is feasible`;
        show(out, ok(`Saved ${c.name} v${c.version} (space ${c.space_version})${frac}.`));
        announce("Constraint saved");
        showList((await get(`${base}/constraints`)).items);
      } catch (err) {
        schema.setAttribute("aria-invalid", "true");
        show(out, errorBox(err, sourcesOf(parsed)));
      }
    });
  });

  // the preview: a small real suggestion (random generator)
  const previewOut = h("div", { "aria-live": "polite" });
  const previewBtn = h("button", { type: "button", class: "secondary" }, "Preview 5 feasible samples");
  previewBtn.addEventListener("click", () =>
    busy(previewBtn, async () => {
      try {
        const s = await post(`${base}/tests:suggest`, { generator: "random", batch_size: 5 });
        show(previewOut, paramsTable(s.tests, `Feasible samples (space ${s.space_version})`));
      } catch (err) {
        show(previewOut, errorBox(err));
      }
    }),
  );

  show(
    main,
    h("h1", {}, p.name),
    h(
      "p",
      {},
      h("code", {}, p.id),
      p.description ? ` — ${p.description}` : "",
      `. Budget ${fmtCents(p.budget_cents)}. Created ${fmtDate(p.created_at)} by ${p.created_by}.`,
    ),
    list,
    form,
    h(
      "section",
      { class: "panel", "aria-labelledby": "preview-title" },
      h("h2", { id: "preview-title" }, "Preview feasible samples"),
      h("p", { class: "muted" }, "Asks the suggest endpoint for a small random batch: every sample satisfies every hard relation. They are real suggestions, kept as pending tests."),
      previewBtn,
      previewOut,
    ),
  );
}

