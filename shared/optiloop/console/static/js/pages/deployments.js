// Deployments of the project's prompt and model versions, with rollback after a confirmation.
// A prompt deployment rolls back per prompt and environment (POST /v1/deployments/rollback); a model
// deployment drops its candidate or returns to the previous stable version (POST .../{id}/rollback).
// Undeploy takes a deployment down (DELETE /v1/deployments/{id}); prod/production need an admin.

import { del, enc, get, post } from "../api.js";
import { announce, busy, confirmDialog, errorBox, fmtDate, h, ok, show, table } from "../dom.js";

function nameOf(d) {
  return d.type === "prompt" ? `prompt ${d.prompt_name}` : `model ${d.model_name || d.model_id || d.name || d.id}`;
}

function versionOf(d) {
  if (d.type === "prompt") return `v${d.version}`;
  const v = (x) => (x && typeof x === "object" ? `v${x.version ?? x.version_id ?? "?"}` : "—");
  return d.candidate ? `${v(d.stable)} (candidate ${v(d.candidate)})` : v(d.stable);
}

/** One line of a deployment's history; prompt and model deployments word their moves alike. */
function move(m) {
  const what = m.action || m.event || "move";
  const version = m.version !== undefined ? ` v${m.version}` : m.to_version !== undefined ? ` v${m.to_version}` : "";
  return `${what}${version}${m.by ? ` by ${m.by}` : ""}${m.at ? `, ${fmtDate(m.at)}` : ""}`;
}

export async function render(main, { project }) {
  const out = h("div", { "aria-live": "polite" });
  const list = h("div");

  async function rollback(d, btn) {
    const env = d.environment || d.stage || "";
    const yes = await confirmDialog(
      `Roll back ${nameOf(d)}?`,
      `${nameOf(d)} in ${env || "this deployment"} goes back to the version it ran before. This is audited.`,
      "Roll back",
    );
    if (!yes) return;
    await busy(btn, async () => {
      try {
        const r =
          d.type === "prompt"
            ? await post("/v1/deployments/rollback", { prompt_id: d.prompt_id, environment: d.environment })
            : await post(`/v1/deployments/${enc(d.id)}/rollback`, { reason: "rolled back from the console" });
        show(out, ok(`Rolled back: ${nameOf(d)} ${env} now runs ${versionOf(r)}.`));
        announce("Rolled back");
        await load();
      } catch (err) {
        show(out, errorBox(err));
      }
    });
  }

  async function undeploy(d, btn) {
    const env = d.environment || d.stage || "";
    const yes = await confirmDialog(
      `Undeploy ${nameOf(d)} from ${env || "this deployment"}?`,
      `${nameOf(d)} stops serving in ${env || "this deployment"}: calls to it answer 404 until something is deployed there again. This is audited.`,
      "Undeploy",
    );
    if (!yes) return;
    await busy(btn, async () => {
      try {
        await del(`/v1/deployments/${enc(d.id)}?reason=${enc("undeployed from the console")}`);
        show(out, ok(`Undeployed: ${nameOf(d)} no longer serves in ${env}.`));
        announce("Undeployed");
        await load();
      } catch (err) {
        show(out, errorBox(err));
      }
    });
  }

  async function load() {
    const page = await get(`/v1/projects/${enc(project)}/deployments`);
    show(
      list,
      table(
        [
          { label: "Kind", get: (d) => d.type },
          { label: "What", get: (d) => nameOf(d) },
          { label: "Environment", get: (d) => d.environment || d.stage || "" },
          { label: "Version", get: (d) => versionOf(d) },
          { label: "Deployed", get: (d) => `${fmtDate(d.deployed_at || d.updated_at || d.created_at)} by ${d.deployed_by || d.created_by || ""}` },
          {
            label: "History",
            get: (d) =>
              d.history && d.history.length
                ? h("details", {}, h("summary", {}, `${d.history.length} moves`), h("ol", {}, d.history.map((m) => h("li", {}, move(m)))))
                : "",
          },
          {
            label: "Actions",
            get: (d) => {
              const where = d.environment || d.stage || d.id;
              const btn = h("button", { type: "button", class: "danger", "aria-label": `Roll back ${nameOf(d)} in ${where}` }, "Roll back");
              btn.addEventListener("click", () => rollback(d, btn));
              const off = h("button", { type: "button", class: "danger", "aria-label": `Undeploy ${nameOf(d)} from ${where}` }, "Undeploy");
              off.addEventListener("click", () => undeploy(d, off));
              return h("span", { class: "actions" }, btn, " ", off);
            },
          },
        ],
        page.items,
        "Deployments",
      ),
    );
  }
  show(main, h("h1", {}, "Deployments"), out, list);
  await load();
}
