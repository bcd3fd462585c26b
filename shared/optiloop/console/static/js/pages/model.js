// One registered model: versions with their status, stages/aliases and metrics, and a version's model card.

import { enc, get } from "../api.js";
import { busy, errorBox, fmtDate, h, show, table } from "../dom.js";

const metricsOf = (v) =>
  Object.entries(v.metrics || {})
    .map(([k, x]) => `${k} ${typeof x === "number" ? Math.round(x * 1e4) / 1e4 : x}`)
    .join(", ");

/** "production → v3, staging → v4" from the model's alias map (alias -> version id). */
function stagesOf(m, items) {
  const number = Object.fromEntries(items.map((v) => [v.id, v.version]));
  const pairs = Object.entries(m.aliases || {}).map(([alias, id]) => `${alias} → v${number[id] ?? id}`);
  return pairs.length ? pairs.join(", ") : "none yet";
}

export async function render(main, { model }) {
  const base = `/v1/models/${enc(model)}`;
  const [m, versions] = await Promise.all([get(base), get(`${base}/versions?limit=200`)]);
  const card = h("div", { "aria-live": "polite" });
  const cardButton = (v) => {
    const btn = h("button", { type: "button", class: "secondary", "aria-label": `Model card of v${v.version}` }, "Card");
    btn.addEventListener("click", () =>
      busy(btn, async () => {
        try {
          const md = await get(`${base}/versions/${enc(String(v.version))}/card`, { text: true, accept: "text/markdown" });
          show(card, h("section", { class: "panel", "aria-label": `Model card v${v.version}` }, h("h2", {}, `Model card, v${v.version}`), h("pre", {}, md)));
        } catch (err) {
          show(card, errorBox(err));
        }
      }),
    );
    return btn;
  };
  show(
    main,
    h("h1", {}, `Model ${m.name}`),
    h("p", { class: "muted" }, h("code", {}, m.id), m.description ? ` — ${m.description}` : ""),
    h("p", {}, "Stages and aliases: ", stagesOf(m, versions.items)),
    table(
      [
        { label: "Version", get: (v) => `v${v.version}`, num: true },
        { label: "Status", get: (v) => v.status || "" },
        { label: "Stages and aliases", get: (v) => (v.aliases || []).join(", ") },
        { label: "Runtime", get: (v) => [v.framework, v.runtime].filter(Boolean).join(" / ") },
        { label: "Metrics", get: metricsOf },
        { label: "Registered", get: (v) => `${fmtDate(v.created_at)} by ${v.created_by || ""}` },
        { label: "Card", get: (v) => (v.card_key ? cardButton(v) : "none") },
      ],
      versions.items,
      "Versions",
    ),
    card,
  );
}
