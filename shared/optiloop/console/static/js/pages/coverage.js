// The coverage dashboard: coverage over tests, marginal gain per 100 tests, failures by severity,
// tests to first failure, spend vs budget (GET /v1/projects/{id}/coverage), and the CSV export.

import { enc, get } from "../api.js";
import { barChart, lineChart, spendChart } from "../charts.js";
import { announce, busy, download, errorBox, fmtCents, h, show, table } from "../dom.js";

function card(label, value) {
  return h("div", { class: "card" }, h("div", { class: "value" }, value ?? "—"), h("div", { class: "label" }, label));
}

function chartWithTable(title, svg, columns, rows) {
  return h(
    "figure",
    { class: "panel" },
    h("figcaption", {}, title),
    svg,
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
        ),
        chartWithTable(
          "New buckets per 100 tests",
          barChart(gains, { label: `New coverage buckets per 100 tests: ${gains.map((g) => g[1]).join(", ") || "none yet"}`, xTitle: "tests", yTitle: "new buckets" }),
          [
            { label: "tests", get: (r) => r[0] },
            { label: "new buckets", get: (r) => r[1], num: true },
          ],
          gains,
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
  show(main, h("h1", {}, "Coverage"), h("div", { class: "actions row" }, refresh, csv), body);
  await load();
}
