// The coverage dashboard: coverage over tests, marginal gain per 100 tests, failures by severity,
// tests to first failure, spend vs budget (GET /v1/projects/{id}/coverage), a heatmap of the tests
// run over two chosen params (GET .../space and .../tests), each chart as PNG, the data as CSV.

import { enc, get, query } from "../api.js";
import { barChart, heatmap, lineChart, savePng, spendChart } from "../charts.js";
import { announce, busy, download, errorBox, field, fmtCents, h, show, table } from "../dom.js";

function card(label, value) {
  return h("div", { class: "card" }, h("div", { class: "value" }, value ?? "—"), h("div", { class: "label" }, label));
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

function pngButton(title, svg, project) {
  const b = h("button", { type: "button", class: "link" }, `Save “${title}” as PNG`);
  b.addEventListener("click", () => busy(b, () => savePng(svg, `${slug(title)}-${project}.png`)));
  return b;
}

function chartWithTable(title, svg, columns, rows, project) {
  return h(
    "figure",
    { class: "panel" },
    h("figcaption", {}, title),
    svg,
    pngButton(title, svg, project),
    h("details", {}, h("summary", {}, `${title}: data table`), table(columns, rows)),
  );
}

export async function render(main, { project }) {
  const path = `/v1/projects/${enc(project)}/coverage`;
  const body = h("div", { id: "coverage-body" });
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const csv = h("button", { type: "button", class: "secondary" }, "Export CSV");

  async function load() {
    const c = await get(path);
    const curve = c.growth_curve || [];
    const severities = Object.entries(c.failures_by_severity || {}).sort((a, b) => Number(a[0]) - Number(b[0]));
    const gains = (c.marginal_gain_per_100 || []).map((g, i) => [`${i * 100 + 1}–${Math.min((i + 1) * 100, c.tests_run)}`, g]);
    const failures = severities.reduce((n, [, k]) => n + k, 0);
    show(
      body,
      h(
        "div",
        { class: "cards" },
        card("unique coverage buckets", c.unique_buckets),
        card("tests run", c.tests_run),
        card("tests pending", c.pending),
        card("failures", failures),
        card("tests to first failure", c.tests_to_first_failure),
        card("tests to first severe failure", c.tests_to_first_severe_failure),
        card("spend / budget", `${fmtCents(c.spend_cents)} / ${fmtCents(c.budget_cents)}`),
      ),
      h(
        "div",
        { class: "charts" },
        chartWithTable(
          "Coverage over tests",
          lineChart(curve, {
            label: `Coverage over tests: ${c.unique_buckets} unique buckets after ${c.tests_run} tests`,
            xTitle: "tests run",
            yTitle: "unique buckets",
          }),
          [
            { label: "tests run", get: (p) => p[0], num: true },
            { label: "unique buckets", get: (p) => p[1], num: true },
          ],
          curve,
          project,
        ),
        chartWithTable(
          "Failures by severity",
          barChart(
            severities.map(([sev, n]) => [`sev ${sev}`, n]),
            { label: `Failures by severity: ${severities.map(([sev, n]) => `${n} of severity ${sev}`).join(", ") || "none"}`, xTitle: "severity", yTitle: "failures" },
          ),
          [
            { label: "severity", get: (r) => r[0] },
            { label: "failures", get: (r) => r[1], num: true },
          ],
          severities,
          project,
        ),
        chartWithTable(
          "New buckets per 100 tests",
          barChart(gains, { label: `New coverage buckets per 100 tests: ${gains.map((g) => g[1]).join(", ") || "none yet"}`, xTitle: "tests", yTitle: "new buckets" }),
          [
            { label: "tests", get: (r) => r[0] },
            { label: "new buckets", get: (r) => r[1], num: true },
          ],
          gains,
          project,
        ),
        chartWithTable(
          "Spend vs budget",
          spendChart(c.spend_cents || 0, c.budget_cents, {
            label: `Spend ${fmtCents(c.spend_cents)} of budget ${fmtCents(c.budget_cents)}`,
          }),
          [
            { label: "spent", get: (r) => fmtCents(r.spend_cents), num: true },
            { label: "budget", get: (r) => fmtCents(r.budget_cents), num: true },
            { label: "left", get: (r) => fmtCents(r.budget_left_cents), num: true },
          ],
          [c],
          project,
        ),
      ),
    );
  }

  refresh.addEventListener("click", () =>
    busy(refresh, async () => {
      try {
        await load();
        announce("Coverage refreshed");
      } catch (err) {
        show(body, errorBox(err));
      }
    }),
  );
  csv.addEventListener("click", () =>
    busy(csv, async () => {
      try {
        download(`coverage-${project}.csv`, await get(`${path}?format=csv`, { text: true }));
      } catch (err) {
        show(body, errorBox(err));
      }
    }),
  );
  show(main, h("h1", {}, "Coverage"), h("div", { class: "actions row" }, refresh, csv), body, await heatmapPanel(project));
  await load();
}

const MAX_TESTS = 5000; // the heatmap reads at most this many run tests (five pages)
const BINS = 6;

/** How a param's values fall into the heatmap's rows or columns: labels and value -> index. */
function binsOf(spec) {
  if (spec.type === "boolean") return { labels: ["false", "true"], index: (v) => (v ? 1 : 0) };
  if (Array.isArray(spec.enum)) return { labels: spec.enum.map(String), index: (v) => spec.enum.indexOf(v) };
  const lo = Number(spec.min);
  const hi = Number(spec.max);
  const width = (hi - lo) / BINS || 1;
  const round = (v) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100);
  const labels = Array.from({ length: BINS }, (_, i) => `${round(lo + i * width)}–${round(lo + (i + 1) * width)}`);
  return { labels, index: (v) => (typeof v === "number" ? Math.min(BINS - 1, Math.max(0, Math.floor((v - lo) / width))) : -1) };
}

const METRICS = {
  tests: ["tests run", () => 1],
  failures: ["failures", (t) => (t.run.status === "fail" ? 1 : 0)],
  buckets: ["new coverage buckets", (t) => t.run.new_buckets || 0],
};

async function ranTests(project) {
  const out = [];
  let after;
  while (out.length < MAX_TESTS) {
    const page = await get(`/v1/projects/${enc(project)}/tests${query({ status: "ran", limit: 1000, after })}`);
    out.push(...page.items);
    after = page.next_after;
    if (!after) break;
  }
  return out;
}

async function heatmapPanel(project) {
  const space = await get(`/v1/projects/${enc(project)}/space`);
  const params = Object.entries(space.params || {}).filter(([, spec]) => ["integer", "number", "string", "boolean"].includes(spec.type));
  const panel = h("section", { class: "panel", "aria-labelledby": "heatmap-title" }, h("h2", { id: "heatmap-title" }, "Coverage heatmap"));
  if (params.length < 2) {
    panel.append(h("p", {}, "The heatmap needs a space with two or more params."));
    return panel;
  }
  const pick = (name, chosen) =>
    h("select", { name }, params.map(([p]) => h("option", { value: p, selected: p === chosen ? "" : undefined }, p)));
  const xSel = pick("x", params[0][0]);
  const ySel = pick("y", params[1][0]);
  const mSel = h("select", { name: "metric" }, Object.entries(METRICS).map(([k, [label]]) => h("option", { value: k }, label)));
  const draw = h("button", { type: "button" }, "Draw");
  const out = h("div", { "aria-live": "polite" });
  panel.append(
    h("div", { class: "row" }, field("Columns (x)", xSel), field("Rows (y)", ySel), field("Count", mSel), h("div", { class: "actions" }, draw)),
    out,
  );
  const specs = Object.fromEntries(params);
  async function drawHeatmap() {
    const [xn, yn, metric] = [xSel.value, ySel.value, mSel.value];
    if (xn === yn) {
      show(out, h("p", { role: "alert" }, "Choose two different params."));
      return;
    }
    const tests = await ranTests(project);
    const bx = binsOf(specs[xn]);
    const by = binsOf(specs[yn]);
    const [what, value] = METRICS[metric];
    const cells = by.labels.map(() => bx.labels.map(() => 0));
    let placed = 0;
    for (const t of tests) {
      const i = bx.index(t.params[xn]);
      const j = by.index(t.params[yn]);
      if (i < 0 || j < 0) continue; // the param was inactive (active_if) in this test
      cells[j][i] += value(t);
      placed += 1;
    }
    const title = `${what} by ${xn} and ${yn}`;
    const svg = heatmap(cells, bx.labels, by.labels, {
      label: `Heatmap of ${title} over ${placed} run tests; the busiest cell has ${Math.max(0, ...cells.flat())}`,
      xTitle: xn,
      yTitle: yn,
    });
    const rows = by.labels.flatMap((yl, j) => bx.labels.map((xl, i) => [xl, yl, cells[j][i]]));
    const csv = [[xn, yn, what].join(","), ...rows.map((r) => r.map((v) => `"${String(v).replaceAll('"', '""')}"`).join(","))].join("\n");
    const csvButton = h("button", { type: "button", class: "link" }, "Download the heatmap as CSV");
    csvButton.addEventListener("click", () => download(`heatmap-${slug(xn)}-${slug(yn)}-${project}.csv`, csv));
    show(
      out,
      h(
        "figure",
        {},
        h("figcaption", {}, title),
        svg,
        pngButton(title, svg, project),
        csvButton,
        h(
          "details",
          {},
          h("summary", {}, `${title}: data table`),
          table(
            [
              { label: xn, get: (r) => r[0] },
              { label: yn, get: (r) => r[1] },
              { label: what, get: (r) => r[2], num: true },
            ],
            rows,
          ),
        ),
      ),
    );
  }
  draw.addEventListener("click", () => busy(draw, () => drawHeatmap().catch((err) => show(out, errorBox(err)))));
  await drawHeatmap().catch((err) => show(out, errorBox(err)));
  return panel;
}
