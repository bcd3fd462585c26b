"""Winners are proposed, never switched: `POST /v1/experiments/{id}/promote` submits the winning
variant's prompt version (`config.prompt_version_id`) or model version (`config.model_version_id`) to
the approvals module, with the experiment's results as the comment's evidence. Serving changes only
when an approver approves and someone deploys — the experiment itself never moves traffic off its
variants.

The winner is the results' stopping winner (or a Canary's candidate once its last stage is complete),
unless the caller names a variant; with neither, a 409 naming `variant`.
"""

from __future__ import annotations

from typing import Any

from optiloop.approvals import entities
from optiloop.approvals import requests as approvals
from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action
from optiloop.decisions import experiments
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput

ENTITY_KEYS = (("prompt_version_id", "prompt_version"), ("model_version_id", "model_version"))


def winner(exp: dict[str, Any]) -> str | None:
    res = exp["results"]
    if res.get("canary") and res["canary"]["recommendation"] == "promote":
        return str(exp["variants"][1]["id"])
    chosen = res["stopping"].get("winner")
    return str(chosen) if chosen else None


def propose(
    deps: Deps, who: Principal, experiment_id: str, variant: str | None, comment: str | None
) -> dict[str, Any]:
    exp = experiments.get(deps, who, experiment_id)
    ids = [v["id"] for v in exp["variants"]]
    if variant is not None and variant not in ids:
        raise InvalidInput(FieldProblem("variant", f"is not one of {', '.join(ids)}"))
    chosen = variant or winner(exp)
    if chosen is None:
        raise Conflict(
            f"experiment '{experiment_id}' has no winner yet ({exp['results']['stopping']['reason']})",
            details=[{"field": "variant", "reason": "no winner yet; name one to propose it anyway"}],
        )
    k = ids.index(chosen)
    config = exp["variants"][k]["config"]
    found = [(config[key], kind) for key, kind in ENTITY_KEYS if config.get(key)]
    if not found:
        raise InvalidInput(
            FieldProblem(f"variants[{k}].config", "names no prompt_version_id or model_version_id to promote")
        )
    entity_id, kind = found[0]
    subject = entities.entity_type(kind).load(deps, who, str(entity_id), Action.APPROVAL_SUBMIT)
    if subject.project_id != exp["project_id"]:
        raise InvalidInput(FieldProblem(f"variants[{k}].config", f"the {kind} belongs to another project"))
    evidence = _evidence(exp, chosen)
    text = (comment + "\n\n" if comment else "") + evidence
    approval = approvals.submit(deps, who, kind, str(entity_id), text[: approvals.MAX_COMMENT])
    record(
        deps, who, "experiment.promotion_proposed", exp["project_id"], experiment_id,
        {"variant": chosen, "entity_type": kind, "entity_id": entity_id, "approval_id": approval["id"]},
    )  # fmt: skip
    return {"experiment_id": experiment_id, "variant": chosen, "entity_type": kind, "entity_id": entity_id,
            "approval": approval}  # fmt: skip


def _evidence(exp: dict[str, Any], chosen: str) -> str:
    res = exp["results"]
    rows = {v["id"]: v for v in res["variants"]}
    parts = [f"{vid}: n={r['n']}, mean={r['mean']}" for vid, r in rows.items()]
    return (
        f"Proposed by online experiment {exp['id']} ({exp['type']}, {exp['algorithm']}): {chosen}. "
        f"{'; '.join(parts)}. Stopping: {res['stopping']['reason']}."
    )
