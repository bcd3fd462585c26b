// One AutoML experiment: where its search stands against its budgets (refreshed while it runs), what it
// learns from (features, columns and rows left out, warnings), its leaderboard with why the
// winner wins (the selection rule), the accuracy-vs-latency Pareto front, run / cancel / resume, and
// registering a trial as a model version (POST /v1/models, then .../versions {trial_id}); once it has
// completed, its report: the winner's importance and SHAP tables and the report's plots (PNG).

import { enc, get, post } from "../api.js";
import { scatter } from "../charts.js";
import { announce, busy, errorBox, field, fmtDate, fmtNum, h, link, ok, show, table } from "../dom.js";
import { statusBadge } from "./experiments.js";

const ACTIVE = ["queued", "running"];
const REFRESH_MS = 2000;

/** The registry's model of this name in the project, created when there is none. */
async function modelNamed(project, name) {
  for (let after = null; ; ) {
    const page = await get(`/v1/models?project_id=${enc(project)}&limit=1000${after ? `&after=${enc(after)}` : ""}`);
    const found = page.items.find((m) => m.name === name);
    if (found) return found;
    if (!page.next_after) break;
    after = page.next_after;
  }
  return post("/v1/models", { project_id: project, name });
}

export async function render(main, { project, experiment }) {
  const base = `/v1/experiments/${enc(experiment)}`;
  const root = h("div");
  const out = h("div", { "aria-live": "polite" });
  const here = location.hash;
  let timer = null;

  function actions(e) {
    const act = (label, path, done) => {
      const btn = h("button", { type: "button", class: "secondary" }, label);
      btn.addEventListener("click", () =>
        busy(btn, async () => {
          try {
            await post(`${base}/${path}`);
            show(out, ok(done));
            announce(done);
            await load();
          } catch (err) {
            show(out, errorBox(err));
          }
        }),
      );
      return btn;
    };
    return h(
      "p",
      { class: "actions" },
      e.status === "created" ? act("Run", "run", "The search is queued.") : null,
      ACTIVE.includes(e.status) ? act("Cancel", "cancel", "Cancel requested: the search stops after its current trial.") : null,
      ["cancelled", "failed"].includes(e.status) ? act("Resume", "resume", "The search goes on from its recorded trials.") : null,
    );
  }

  function register(board) {
    if (!board.trials.length || board.status !== "completed") return null;
    const name = h("input", { type: "text", required: true, value: `${board.trials[0].model}` });
    const trial = h(
      "select",
      {},
      board.trials.map((t, i) => h("option", { value: t.trial_id }, `#${t.rank} ${t.model} (${t.trial_id})${i === 0 ? ", the winner" : ""}`)),
    );
    const btn = h("button", { type: "submit" }, "Register");
    const form = h(
      "form",
      { class: "panel", "aria-label": "Register a trial as a model version" },
      h("h2", {}, "Register a trial"),
      field("Trial", trial),
      field("Model name", name, "The project's model of this name (created when there is none) gets a new version from the trial's artifact."),
      btn,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(btn, async () => {
        try {
          const m = await modelNamed(project, name.value.trim());
          const v = await post(`/v1/models/${enc(m.id)}/versions`, { trial_id: trial.value });
          show(out, ok(`Registered ${trial.value} as `), link(`#/p/${enc(project)}/models/${enc(m.id)}`, `${m.name} v${v.version}`));
          announce(`Registered as ${m.name} v${v.version}`);
        } catch (err) {
          show(out, errorBox(err));
        }
      });
    });
    return form;
  }

  function paretoChart(board) {
    const front = new Set((board.pareto?.trials || []).map((p) => p.trial_id));
    const pts = board.trials
      .filter((t) => t.cost && typeof t.cost.latency_ms_p95 === "number" && typeof t.metrics[board.metric] === "number")
      .map((t) => [t.cost.latency_ms_p95, t.metrics[board.metric], front.has(t.trial_id)]);
    if (!pts.length) return null;
    return h(
      "figure",
      {},
      scatter(pts, {
        label: `${board.metric} against estimated latency for ${pts.length} trials; squares are on the Pareto front`,
        xTitle: "latency p95 (ms)",
        yTitle: board.metric,
      }),
      h("figcaption", { class: "muted" }, `Squares: the accuracy-vs-latency Pareto front (${front.size} trials).`),
    );
  }

  /** The report's tables, and its PNGs fetched as the signed-in person (a bearer key cannot ride on
   * an <img src>) and shown from blob: URLs. */
  function reportSection(e) {
    const rep = e.report;
    if (!rep || !rep.permutation_importance) return null;
    const shap = Object.fromEntries(((rep.shap || {}).mean_abs || []).map((r) => [r.feature, r.value]));
    const figures = h("div", { class: "figures" });
    const files = Object.keys((rep.plots || {}).files || {});
    const alt = {
      "importance.png": "Permutation importance of the winner's features",
      "shap.png": "Mean absolute SHAP value of the winner's features",
      "reliability.png": "Reliability curve: mean predicted probability against observed frequency",
      "thresholds.png": "Precision, recall, F1 and share flagged against the decision threshold",
    };
    for (const file of files) {
      const k = /^pdp_(\d+)\.png$/.exec(file);
      const feature = k ? ((rep.partial_dependence || [])[Number(k[1])] || {}).feature : null;
      const label = alt[file] || (feature ? `Partial dependence and ICE curves of ${feature}` : file);
      get(`${base}/report/${enc(file)}`, { blob: true })
        .then((b) => figures.append(h("figure", {}, h("img", { src: URL.createObjectURL(b), alt: label, width: 480 }), h("figcaption", { class: "muted" }, label))))
        .catch((err) => figures.append(errorBox(err)));
    }
    return h(
      "section",
      { class: "panel", "aria-labelledby": "report-h" },
      h("h2", { id: "report-h" }, `Report: ${rep.model}`),
      table(
        [
          { label: "Feature", get: (r) => r.feature },
          { label: "Permutation importance", get: (r) => fmtNum(r.importance), num: true },
          { label: "Mean |SHAP|", get: (r) => fmtNum(shap[r.feature]), num: true },
        ],
        rep.permutation_importance.slice(0, 10),
        "The winner's most important features",
      ),
      rep.plots && rep.plots.note ? h("p", { class: "muted" }, rep.plots.note) : null,
      figures,
    );
  }

  /** What the search learnt from: its features, the columns left out and why, the rows left out,
   * and the experiment's warnings (a class too rare to cross-validate, a short forecast history). */
  function dataSection(e) {
    const left = Object.entries(e.excluded || {});
    const notes = e.warnings || [];
    return h(
      "section",
      { class: "panel", "aria-label": "What the search learns from" },
      h("h2", {}, "What the search learns from"),
      h(
        "p",
        {},
        `${(e.features || []).length} features`,
        e.dropped_rows ? `; ${e.dropped_rows} rows left out (a missing target, or a class too rare to cross-validate)` : "",
      ),
      notes.length ? h("ul", {}, notes.map((w) => h("li", {}, typeof w === "string" ? w : w.reason || JSON.stringify(w)))) : null,
      left.length
        ? table(
            [
              { label: "Column", get: ([c]) => h("code", {}, c) },
              { label: "Why", get: ([, why]) => why },
            ],
            left,
            "Columns left out",
          )
        : null,
    );
  }

  /** The budgets the search runs under: trials, and wall-clock or CPU seconds when set. */
  function budgets(e) {
    const c = e.config || {};
    const parts = [`${c.hpo?.trials ?? "?"} trials`];
    if (c.budget_s) parts.push(`${fmtNum(c.budget_s)} s`);
    if (c.budget_cpu_s) parts.push(`${fmtNum(c.budget_cpu_s)} CPU-seconds`);
    return `budget: ${parts.join(", ")} (the first spent ends the search)`;
  }

  async function load() {
    const [e, board] = await Promise.all([get(base), get(`${base}/leaderboard?limit=100`)]);
    const p = e.progress || {};
    const sel = board.selection || {};
    show(
      root,
      h("h1", {}, `Experiment ${e.name || e.id}`),
      h("p", { class: "muted" }, h("code", {}, e.id), ` — ${e.task_type} of ${e.target ?? "every row"} on table `, h("code", {}, e.dataset_id)),
      h(
        "p",
        {},
        statusBadge(e.status),
        ` ${p.trials_done ?? 0} / ${p.trials_total ?? "?"} trials`,
        p.elapsed_s !== undefined ? `, ${Math.round(p.elapsed_s)} s` : "",
        p.cpu_s !== undefined ? `, ${fmtNum(p.cpu_s)} CPU-seconds` : "",
        `; ${budgets(e)}`,
        `; ${e.metric} (${e.direction})`,
        e.finished_at ? `; finished ${fmtDate(e.finished_at)}` : "",
      ),
      e.error ? h("p", { class: "alert" }, e.error) : null,
      actions(e),
      sel.reason ? h("section", { class: "panel", "aria-label": "Why the winner wins" }, h("h2", {}, "Why the winner wins"), h("p", {}, sel.reason)) : null,
      dataSection(e),
      table(
        [
          { label: "Rank", get: (t) => t.rank, num: true },
          { label: "Trial", get: (t) => h("code", {}, t.trial_id) },
          // a small table's hedge: the rule's pick (trial number `hedges`) averaged with the linear model
          { label: "Model", get: (t) => (t.hedges == null ? t.model : `${t.model}: trial #${t.hedges} + logistic regression`) },
          { label: board.metric, get: (t) => fmtNum(t.metrics[board.metric]), num: true },
          { label: "Latency p95 (ms)", get: (t) => fmtNum(t.cost?.latency_ms_p95), num: true },
          { label: "Feasible", get: (t) => (t.feasible ? "yes" : `no: ${t.violations.join("; ")}`) },
          { label: "Pareto", get: (t) => (t.pareto ? "yes" : "") },
        ],
        board.trials,
        `Leaderboard: ${board.trials.length} completed trials, the winner first`,
      ),
      paretoChart(board),
      reportSection(e),
      register(board),
    );
    clearTimeout(timer);
    // a running search is followed until it ends, while this page is the one shown
    if (ACTIVE.includes(e.status)) {
      timer = setTimeout(() => {
        if (location.hash === here && document.body.contains(root)) load().catch((err) => show(out, errorBox(err)));
      }, REFRESH_MS);
    }
  }

  show(main, root, out);
  await load();
}
