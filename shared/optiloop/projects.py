"""Projects: the unit of ownership, budget and isolation."""

from __future__ import annotations

from optiloop.auth.principal import Principal
from optiloop.deletion import PROJECT_TOMBSTONE, deployments_in, gone, refuse_if_deployed
from optiloop.deps import Deps
from optiloop.errors import NotFound
from optiloop.store.records import Doc, Project


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
    """The project or NotFound naming the id, so a typo in a URL reads as one (and a deleted project
    as deleted: every route that reads its project through here refuses a deleted one)."""
    project = deps.store.projects.get(project_id)
    if project is None:
        raise NotFound(
            f"no project '{project_id}'", details=[{"field": "project_id", "reason": "no such project"}]
        )
    tomb = deps.store.docs.get(PROJECT_TOMBSTONE, project_id)
    if tomb is not None:
        raise gone("project", project_id, "project_id", tomb.data["deleted_at"])
    return project


def delete_project(deps: Deps, principal: Principal, project_id: str) -> None:
    """Soft delete (optiloop.deletion): refused with a 409 while anything of the project is deployed.

    The tombstone and the audit record are one transaction; the deployment check runs inside it too,
    so a deployment written concurrently either lands first (and the delete is refused) or after
    (and its own get_project finds the project deleted)."""
    with deps.store.transaction():
        project = get_project(deps, project_id)
        refuse_if_deployed("project", project_id, "project_id", deployments_in(deps, project_id))
        now = deps.clock()
        deps.store.docs.create(
            Doc(
                kind=PROJECT_TOMBSTONE,
                id=project_id,
                scope="projects",
                sort=f"{now}#{project_id}",
                data={
                    "project_id": project_id,
                    "name": project.name,
                    "deleted_at": now,
                    "deleted_by": principal.name,
                },
            )
        )
        deps.store.audit.append(
            principal=principal.name,
            action="project.deleted",
            project_id=project_id,
            target=project_id,
            details={"name": project.name, "key_id": principal.key_id},
        )


def list_projects(
    deps: Deps, principal: Principal, limit: int = 100, after_id: str | None = None
) -> list[Project]:
    """Only what the key may see: a project-scoped key sees its one project."""
    if principal.project_id is not None:
        if after_id is not None and after_id >= principal.project_id:
            return []
        p = deps.store.projects.get(principal.project_id)
        if p is None or deps.store.docs.get(PROJECT_TOMBSTONE, p.id) is not None:
            return []
        return [p]
    return _live_projects(deps, limit, after_id)


def _live_projects(deps: Deps, limit: int, after_id: str | None) -> list[Project]:
    """A page of projects that are not deleted: store pages are read until `limit` live ones are found
    or the store runs out, so a page is short only at the end (deleted projects are rare, so this is
    one store page and one batched tombstone read almost always)."""
    out: list[Project] = []
    cursor = after_id
    while len(out) < limit:
        page = deps.store.projects.list(limit=limit, after_id=cursor)
        if not page:
            break
        dead = deps.store.docs.get_many(PROJECT_TOMBSTONE, [p.id for p in page])
        out.extend(p for p in page if p.id not in dead)
        if len(page) < limit:
            break
        cursor = page[-1].id
    return out[:limit]


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
