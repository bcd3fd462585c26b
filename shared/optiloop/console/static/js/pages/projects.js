// Projects: the list, and a form to create one (POST /v1/projects).

import { get, post } from "../api.js";
import { busy, errorBox, field, fmtCents, fmtDate, h, link, show, table } from "../dom.js";

export async function render(main) {
  const list = h("div");
  const out = h("div", { "aria-live": "polite" });
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 200 });
  const description = h("input", { type: "text", name: "description" });
  const budget = h("input", { type: "number", name: "budget_cents", min: 0, step: "any" });
  const submit = h("button", { type: "submit" }, "Create project");
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "new-project" },
    h("h2", { id: "new-project" }, "New project"),
    h("div", { class: "row" }, field("Name", name), field("Description", description), field("Budget (cents, optional)", budget)),
    h("div", { class: "actions" }, submit),
    out,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const body = { name: name.value, description: description.value };
      if (budget.value) body.budget_cents = Number(budget.value);
      try {
        const p = await post("/v1/projects", body);
        location.hash = `#/p/${encodeURIComponent(p.id)}`;
      } catch (err) {
        show(out, errorBox(err));
      }
    });
  });

  async function load() {
    const items = [];
    let after = "";
    do {
      const page = await get(`/v1/projects?limit=200${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      items.push(...page.items);
      after = page.next_after;
    } while (after && items.length < 1000);
    show(
      list,
      table(
        [
          { label: "Name", get: (p) => link(`#/p/${encodeURIComponent(p.id)}`, p.name) },
          { label: "Id", get: (p) => h("code", {}, p.id) },
          { label: "Description", get: (p) => p.description },
          { label: "Budget", get: (p) => fmtCents(p.budget_cents), num: true },
          { label: "Created", get: (p) => `${fmtDate(p.created_at)} by ${p.created_by}` },
        ],
        items,
        `${items.length} project${items.length === 1 ? "" : "s"}`,
      ),
    );
  }
  show(main, h("h1", {}, "Projects"), list, form);
  await load();
}
