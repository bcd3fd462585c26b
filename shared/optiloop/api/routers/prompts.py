"""Prompts and their versions (their deployments: `optiloop.api.routers.deployments`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from optiloop.api.models.prompts import PromptCreate, VersionCreate
from optiloop.api.models.responses import PromptOut, PromptPage, PromptVersionOut, PromptVersionPage
from optiloop.api.models.responses_prompt_diff import PromptDiffOut
from optiloop.api.params import MAX_SEQ, After, EntityId, ProjectId
from optiloop.api.security import current_principal, get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.prompts import library
from optiloop.prompts.records import prompt_doc

router = APIRouter(tags=["prompts"])


@router.post("/v1/projects/{project_id}/prompts", status_code=201, response_model=PromptOut)
def create_prompt(
    project_id: ProjectId,
    body: PromptCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROMPT_WRITE)),
) -> dict[str, Any]:
    """A prompt: a name in the project that versions are written under and `generate` resolves.
    Contributors and up; audited as `prompt.created`."""
    return asdict(
        library.create_prompt(deps, who, project_id, body.name, body.description, body.template_engine)
    )


@router.get("/v1/projects/{project_id}/prompts", response_model=PromptPage)
def list_prompts(
    project_id: ProjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many prompts.")] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROMPT_READ)),
) -> dict[str, Any]:
    """The project's prompts, oldest first, deleted ones left out. Page with `after` = the previous
    page's `next_after`."""
    items = library.list_prompts(deps, project_id, after=after, limit=limit)
    return {
        "items": [asdict(p) for p in items],
        "next_after": prompt_doc(items[-1]).sort if len(items) == limit else None,
    }


@router.get("/v1/prompts/{prompt_id}", response_model=PromptOut)
def get_prompt(
    prompt_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """The prompt and its latest version number. 404 for an unknown or deleted prompt."""
    return asdict(library.get_prompt(deps, who, prompt_id))


@router.delete("/v1/prompts/{prompt_id}", status_code=204, summary="Delete a prompt")
def delete_prompt(
    prompt_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> Response:
    """Soft delete: the prompt leaves its project's listing, `GET /v1/prompts/{id}` answers 404
    naming the deletion and its name may be reused; its versions stay readable by id (approvals,
    evaluations and traces name them). Refused with 409 while one of its versions is deployed to any
    environment. Admins of the project; audited as `prompt.deleted`."""
    library.delete_prompt(deps, who, prompt_id)
    return Response(status_code=204)


@router.post("/v1/prompts/{prompt_id}/versions", status_code=201, response_model=PromptVersionOut)
def create_version(
    prompt_id: EntityId,
    body: VersionCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """A new immutable version: the template body (sandboxed Jinja, compiled and checked here: a
    syntax error or an undeclared variable is a 422 naming it), its variables and defaults, model and
    decoding. Starts as Draft; approvals move it. Contributors and up."""
    return asdict(library.create_version(deps, who, prompt_id, body.model_dump(exclude_none=True)))


@router.get("/v1/prompts/{prompt_id}/versions", response_model=PromptVersionPage)
def list_versions(
    prompt_id: EntityId,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="the last version number seen")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The prompt's versions, oldest first; page with `after` = the previous page's `next_after`."""
    items = library.list_versions(deps, who, prompt_id, after=after, limit=limit)
    return {
        "items": [asdict(v) for v in items],
        # a string, as every page's cursor is (the response model's type); `after` reads it back
        "next_after": str(items[-1].version) if len(items) == limit else None,
    }


@router.get("/v1/prompt_versions/{version_id}", response_model=PromptVersionOut)
def get_version(
    version_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One version with its content, status and content hash."""
    return asdict(library.get_version(deps, who, version_id))


@router.get("/v1/prompt_versions/{version_id}/diff", response_model=PromptDiffOut)
def diff_versions(
    version_id: EntityId,
    against: Annotated[str, Query(min_length=1, max_length=100, description="the other version's id")],
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Unified diff from `against` to this version."""
    return library.diff_versions(deps, who, against, version_id)
