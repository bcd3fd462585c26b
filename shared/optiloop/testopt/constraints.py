"""Constraint documents: validated, merged and checked for satisfiability before they are stored.

A constraint that would leave the project with a broken or empty space is refused whole, so the
stored documents always compile and suggest never meets a space it cannot sample.
"""

from __future__ import annotations

from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.store.records import Constraint
from optiloop.testopt.sampling.satisfiability import check_satisfiable
from optiloop.testopt.space.schema import ConstraintDoc, build_space
from optiloop.testopt.spaces import docs_of, space_for


def add_constraint(
    deps: Deps,
    principal: Principal,
    project_id: str,
    *,
    name: str,
    type: str,
    weight: float | None,
    json_schema: dict[str, Any],
) -> dict[str, Any]:
    """Store a new version of the named constraint; returns it with the merged space's version."""
    get_project(deps, project_id)
    store = deps.store
    latest = store.constraints.latest(project_id)
    previous = next((c for c in latest if c.name == name), None)
    w = float(weight if weight is not None else 1.0) if type == "soft" else 0.0
    # the new document's problems are reported at its place in the request body ("json_schema...")
    new_doc = ConstraintDoc(name=name, type=type, weight=w, json_schema=json_schema, field="json_schema")
    space = build_space([*docs_of([c for c in latest if c.name != name]), new_doc])
    sat = check_satisfiable(space)
    constraint = Constraint(
        id=deps.ids("con"),
        project_id=project_id,
        name=name,
        type=type,  # type: ignore[arg-type]
        weight=w,
        json_schema=json_schema,
        version=(previous.version + 1) if previous else 1,
        created_at=deps.clock(),
        created_by=principal.name,
    )
    with store.transaction():
        store.constraints.add(constraint)  # Conflict if a concurrent request took this version
        store.audit.append(
            principal=principal.name,
            action="constraint.added",
            project_id=project_id,
            target=constraint.id,
            details={
                "name": name,
                "type": type,
                "version": constraint.version,
                "space_version": space.version,
                "key_id": principal.key_id,
            },
        )
    out = constraint_view(constraint)
    out["space_version"] = space.version
    out["feasible_fraction"] = sat.get("feasible_fraction")
    out["satisfiability"] = sat
    return out


def constraint_view(c: Constraint) -> dict[str, Any]:
    return {
        "id": c.id,
        "project_id": c.project_id,
        "name": c.name,
        "type": c.type,
        "weight": c.weight if c.type == "soft" else None,
        "version": c.version,
        "json_schema": c.json_schema,
        "created_at": c.created_at,
        "created_by": c.created_by,
    }


def list_constraints(deps: Deps, project_id: str) -> list[dict[str, Any]]:
    get_project(deps, project_id)
    return [constraint_view(c) for c in deps.store.constraints.latest(project_id)]


def describe_space(deps: Deps, project_id: str) -> dict[str, Any]:
    """The merged space as the samplers see it: what a user needs to debug a surprising suggestion."""
    get_project(deps, project_id)
    if not deps.store.constraints.latest(project_id):
        return {"space_version": None, "params": {}, "relations": []}
    space = space_for(deps.store, project_id)
    relations: list[dict[str, Any]] = [
        {"type": "hard", "constraint": r.constraint, "source": r.source, "field": r.field} for r in space.hard
    ]
    relations += [
        {"type": "soft", "constraint": r.constraint, "source": r.source, "field": r.field, "weight": r.weight}
        for r in space.soft
    ]
    return {
        "space_version": space.version,
        "params": {p.name: p.spec() for p in space.params},
        "relations": relations,
    }
