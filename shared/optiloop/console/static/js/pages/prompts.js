// A project's prompts: the list (with each one's latest version) and a form to create one.

import { enc, get, post } from "../api.js";
import { busy, errorBox, field, fmtDate, h, link, show, table } from "../dom.js";

export async function render(main, { project }) {
  const base = `/v1/projects/${enc(project)}/prompts`;
  const page = await get(base);
  const name = h("input", { type: "text", name: "name", required: true });
  const description = h("input", { type: "text", name: "description" });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Create prompt");
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "new-prompt" },
    h("h2", { id: "new-prompt" }, "New prompt"),
    h("div", { class: "row" }, field("Name", name), field("Description", description)),
    h("div", { class: "actions" }, submit),
    out,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      try {
        const p = await post(base, { name: name.value, description: description.value });
        location.hash = `#/p/${enc(project)}/prompts/${enc(p.id)}`;
      } catch (err) {
        show(out, errorBox(err));
      }
    });
  });
  show(
    main,
    h("h1", {}, "Prompts"),
    table(
      [
        { label: "Name", get: (p) => link(`#/p/${enc(project)}/prompts/${enc(p.id)}`, p.name) },
        { label: "Latest version", get: (p) => p.latest_version, num: true },
        { label: "Description", get: (p) => p.description },
        { label: "Created", get: (p) => `${fmtDate(p.created_at)} by ${p.created_by}` },
      ],
      page.items,
      `${page.items.length} prompts`,
    ),
    form,
  );
}
