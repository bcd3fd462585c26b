// The approvals inbox: requests with their evidence, approve/reject with a comment. Four eyes is the
// API's rule (the author or submitter cannot decide); its 403 is shown as the API words it.

import { enc, get, post, query } from "../api.js";
import { announce, busy, errorBox, field, fmtDate, h, json, ok, show } from "../dom.js";

function entityLink(a) {
  if (a.entity_type === "prompt_version" && a.entity && a.entity.prompt_id) {
    return h("a", { href: `#/p/${enc(a.project_id)}/prompts/${enc(a.entity.prompt_id)}` }, `prompt version v${a.entity.version} (${a.entity_id})`);
  }
  return `${a.entity_type} ${a.entity_id}`;
}

function requestCard(a, reload) {
  const comment = h("textarea", { name: "comment", rows: 2 });
  const out = h("div", { "aria-live": "polite" });
  const decide = (decision, btn) =>
    busy(btn, async () => {
      try {
        const r = await post(`/v1/approvals/${enc(a.id)}/decisions`, { decision, comment: comment.value });
        show(out, ok(`${decision === "approve" ? "Approved" : "Rejected"}: the request is now ${r.status}.`));
        announce(`Request ${r.status}`);
        // a moment later the list shows the new state; by then the person may have moved on or signed
        // out, so a failed reload is shown in the card, never left as an uncaught rejection
        setTimeout(() => reload().catch((err) => show(out, errorBox(err))), 800);
      } catch (err) {
        show(out, errorBox(err));
      }
    });
  const approve = h("button", { type: "button" }, "Approve");
  const reject = h("button", { type: "button", class: "danger" }, "Reject");
  approve.addEventListener("click", () => decide("approve", approve));
  reject.addEventListener("click", () => decide("reject", reject));
  const titleId = `apr-${a.id}`;
  return h(
    "article",
    { class: "panel approval", "aria-labelledby": titleId, "data-id": a.id },
    h("h2", { id: titleId }, entityLink(a), " ", h("span", { class: "badge" }, a.status)),
    h(
      "dl",
      {},
      h("dt", {}, "Author"),
      h("dd", {}, a.author),
      h("dt", {}, "Submitted"),
      h("dd", {}, `${fmtDate(a.submitted_at)} by ${a.submitted_by}${a.comment ? `: “${a.comment}”` : ""}`),
      h("dt", {}, "Needs"),
      h("dd", {}, a.requirements.map((r) => `${r.min_approvals} approval(s) from ${r.approvers.join(" or ")} (${r.policy})`).join("; ")),
      h("dt", {}, "Decisions"),
      h("dd", {}, a.decisions.length ? a.decisions.map((d) => `${d.decision} by ${d.principal} (${d.role})${d.comment ? `: “${d.comment}”` : ""}`).join("; ") : "none yet"),
    ),
    h("details", {}, h("summary", {}, "Evidence"), h("pre", {}, json(a.evidence)), a.policy_outcomes.length ? h("pre", {}, json(a.policy_outcomes)) : null),
    a.status === "pending"
      ? [field("Comment (required to reject)", comment), h("div", { class: "actions" }, approve, reject), out]
      : null,
  );
}

export async function render(main) {
  const status = h("select", { name: "status" }, ["pending", "approved", "rejected", ""].map((s) => h("option", { value: s }, s || "all")));
  const project = h("input", { type: "text", name: "project_id", placeholder: "prj_… (optional)" });
  const list = h("div");
  const load = async () => {
    const page = await get(`/v1/approvals${query({ status: status.value, project_id: project.value.trim() })}`);
    show(list, page.items.length ? page.items.map((a) => requestCard(a, load)) : h("p", { class: "muted" }, "No requests."));
  };
  const filter = h("form", { class: "row", "aria-label": "Filter requests" }, h("div", {}, field("Status", status)), h("div", {}, field("Project", project)), h("button", { type: "submit", class: "secondary" }, "Show"));
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    load().catch((err) => show(list, errorBox(err)));
  });
  show(main, h("h1", {}, "Approvals"), filter, list);
  await load();
}
