"""Experiments attached to a prompt label: `generate` by `{"prompt": {"name", "label"}}` consults the
Running experiment attached to that label, serves the chosen variant and records the decision in its
trace, so the reward can later come by `trace_id` (with cost and latency joined from that trace).

An online experiment with `attach: {"prompt_id", "label"}` claims the label with one
`experiment_attachment` document (id `prompt_id#label`) written with the experiment; a second live
experiment on the same label is a 409 naming `attach`. Completing or archiving the experiment
releases the claim. While the experiment is not Running, generate serves the label as usual.

A variant's config is applied to the call: `prompt_version_id` (a version of the same prompt) replaces
the deployed version; `model`, and `temperature`/`top_p`/`max_tokens` (as `decoding`), replace the
request's. The unit is the request's `unit_id` (sticky for AB and Canary), else the decision is
per request; `context` feeds Contextual experiments.
"""

from __future__ import annotations

from typing import Any

from optiloop.auth.principal import Principal
from optiloop.decisions.cache import CACHE
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.store.records import Doc

KIND = "experiment_attachment"
DECODING = ("temperature", "top_p", "max_tokens")


def key(prompt_id: str, label: str) -> str:
    return f"{prompt_id}#{label}"


def claim_doc(exp: dict[str, Any]) -> Doc | None:
    """The claim to write with the experiment (in its creation transaction), if it is attached."""
    att = exp.get("attach")
    if not att:
        return None
    return Doc(kind=KIND, id=key(att["prompt_id"], att["label"]), scope=exp["project_id"],
               sort=exp["id"], data={"experiment_id": exp["id"]})  # fmt: skip


def check_prompt(deps: Deps, who: Principal, project_id: str, att: dict[str, Any] | None) -> None:
    """The attached prompt exists in the experiment's project, and its label is free."""
    if not att:
        return
    from optiloop.prompts import library

    try:
        prompt = library.get_prompt(deps, who, att["prompt_id"])
    except NotFound:
        raise InvalidInput(FieldProblem("attach.prompt_id", "no such prompt")) from None
    if prompt.project_id != project_id:
        raise InvalidInput(FieldProblem("attach.prompt_id", "the prompt belongs to another project"))
    held = deps.store.docs.get(KIND, key(att["prompt_id"], att["label"]))
    if held is not None:
        raise Conflict(
            f"label '{att['label']}' already has experiment '{held.data['experiment_id']}' attached",
            details=[{"field": "attach", "reason": "another live experiment holds this label"}],
        )


def release(deps: Deps, exp: dict[str, Any]) -> None:
    att = exp.get("attach")
    if att:
        held = deps.store.docs.get(KIND, key(att["prompt_id"], att["label"]))
        if held is not None and held.data["experiment_id"] == exp["id"]:
            deps.store.docs.delete(KIND, held.id)


def consult(
    deps: Deps, who: Principal, prompt_id: str, label: str | None, req: dict[str, Any]
) -> dict[str, Any] | None:
    """The decision for this generate call, or None when no Running experiment holds the label."""
    if label is None:
        return None
    held = deps.store.docs.get(KIND, key(prompt_id, label))
    if held is None:
        return None
    exp_id = held.data["experiment_id"]
    if CACHE.get(deps, exp_id).experiment["status"] != "Running":
        return None
    from optiloop.decisions import serve  # serve -> experiments -> attach: import at use

    unit = req.get("unit_id") or deps.ids("unit")
    return serve.decide(deps, who, exp_id, unit, req.get("context"))


def apply(decision: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
    """The generate request with the variant's model and decoding settings."""
    config = decision["config"]
    out = dict(req)
    if config.get("model"):
        out["model"] = config["model"]
    decoding = {k: config[k] for k in DECODING if k in config}
    if decoding:
        out["decoding"] = {**(req.get("decoding") or {}), **decoding}
    return out
