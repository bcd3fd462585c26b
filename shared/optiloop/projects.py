"""Projects: the unit of ownership, budget and isolation."""

from __future__ import annotations

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import NotFound
from optiloop.store.records import Project


def create_project(
    deps: Deps, principal: Principal, name: str, description: str = "", budget_cents: float | None = None
) -> Project:
    project = Project(
        id=deps.ids("prj"),
        name=name,
        description=description,
        created_at=deps.clock(),
        created_by=principal.name,
        budget_cents=budget_cents,
    )
    with deps.store.transaction():
        deps.store.projects.add(project)
        deps.store.audit.append(
            principal=principal.name,
            action="project.created",
            project_id=project.id,
            target=project.id,
            details={"name": name, "budget_cents": budget_cents, "key_id": principal.key_id},
        )
    return project


def get_project(deps: Deps, project_id: str) -> Project:
    """The project or NotFound naming the id, so a typo in a URL reads as one."""
    project = deps.store.projects.get(project_id)
    if project is None:
        raise NotFound(
            f"no project '{project_id}'", details=[{"field": "project_id", "reason": "no such project"}]
        )
    return project


def list_projects(
    deps: Deps, principal: Principal, limit: int = 100, after_id: str | None = None
) -> list[Project]:
    """Only what the key may see: a project-scoped key sees its one project."""
    if principal.project_id is not None:
        if after_id is not None and after_id >= principal.project_id:
            return []
        p = deps.store.projects.get(principal.project_id)
        return [p] if p is not None else []
    return deps.store.projects.list(limit=limit, after_id=after_id)


def set_budget(deps: Deps, principal: Principal, project_id: str, budget_cents: float | None) -> Project:
    with deps.store.transaction():
        before = get_project(deps, project_id)
        deps.store.projects.set_budget(project_id, budget_cents)
        deps.store.audit.append(
            principal=principal.name,
            action="project.updated",
            project_id=project_id,
            target=project_id,
            details={
                "budget_cents": {"from": before.budget_cents, "to": budget_cents},
                "key_id": principal.key_id,
            },
        )
    return get_project(deps, project_id)
