"""Storing a project's policies: one document per name, replaced on update, every change audited.

A project holds at most `MAX_POLICIES` policies: every submission evaluates all of them, and the
listing answers the whole set in force in one page, so the set is bounded where it is written
(a 409 naming `name`) rather than cut short where it is read.
"""

from __future__ import annotations

from typing import Any

from optiloop.approvals.policies import parse_policy, policy_as_dict
from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict, NotFound
from optiloop.projects import get_project
from optiloop.store.records import Doc

MAX_POLICIES = 1000  # per project


def put_policy(deps: Deps, who: Principal, project_id: str, raw: Any) -> dict[str, Any]:
    """Create or replace the policy of that name; returns it normalised, with its revision."""
    policy = parse_policy(raw)
    get_project(deps, project_id)
    doc_id = f"{project_id}/{policy.name}"
    data = {
        **policy_as_dict(policy),
        "project_id": project_id,
        "updated_at": deps.clock(),
        "updated_by": who.name,
    }
    doc = Doc(kind="policy", id=doc_id, scope=project_id, sort=policy.name, data=data)
    with deps.store.transaction():
        current = deps.store.docs.get("policy", doc_id)
        if current is None:
            if len(deps.store.docs.list("policy", project_id, limit=MAX_POLICIES)) >= MAX_POLICIES:
                raise Conflict(
                    f"project already has {MAX_POLICIES} policies, the most one project may hold",
                    details=[{"field": "name", "reason": f"at most {MAX_POLICIES} policies per project",
                              "hint": "replace or delete a policy instead"}],
                )  # fmt: skip
            deps.store.docs.create(doc)
            rev = 1
        else:
            rev = deps.store.docs.replace(doc, current.rev).rev
        record(
            deps,
            who,
            "policy.updated" if current else "policy.created",
            project_id,
            doc_id,
            {"policy": policy_as_dict(policy), "previous": _strip(current.data) if current else None},
        )
    return {**data, "revision": rev}


def list_policies(deps: Deps, project_id: str) -> list[dict[str, Any]]:
    get_project(deps, project_id)
    docs = deps.store.docs.list("policy", project_id, limit=MAX_POLICIES)
    return [{**d.data, "revision": d.rev} for d in docs]


def delete_policy(deps: Deps, who: Principal, project_id: str, name: str) -> None:
    doc_id = f"{project_id}/{name}"
    with deps.store.transaction():
        current = deps.store.docs.get("policy", doc_id)
        if current is None:
            raise NotFound(
                f"project has no policy named '{name}'",
                details=[{"field": "name", "reason": "no such policy"}],
            )
        deps.store.docs.delete("policy", doc_id)
        record(deps, who, "policy.deleted", project_id, doc_id, {"previous": _strip(current.data)})


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("updated_at", "updated_by", "project_id")}
