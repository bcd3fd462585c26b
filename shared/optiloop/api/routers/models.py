"""The model registry: models, immutable versions, stages and aliases, rollback, history, cards."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import AfterValidator

from optiloop.api.models.registry import ModelCreate, ModelRollbackIn, PromoteIn, VersionCreate
from optiloop.api.models.responses import ModelOut, ModelPage
from optiloop.api.models.responses_registry import (
    ModelCardOut,
    ModelVersionOut,
    ModelVersionPage,
    StageHistory,
    StageMoveOut,
)
from optiloop.api.params import MAX_SEQ, PNG_ANSWER, After, EntityId, PngName, project_of
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.records import model_doc
from optiloop.models.registry import models, stages, versions
from optiloop.names import check_name

router = APIRouter(tags=["models"])

GZIP_TYPES = ("application/gzip", "application/x-gzip", "application/octet-stream")

VersionRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        description="A version number, its id (`mv_...`), a stage or alias (production, champion) or latest.",
    ),
    AfterValidator(check_name),
]


def _version_out(deps: Deps, v: Any) -> dict[str, Any]:
    model, _ = models.load_model(deps, v.model_id)
    return versions.version_as_dict(v, model)


@router.post("/v1/models", status_code=201, response_model=ModelOut)
def create_model(
    body: ModelCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """A model in the registry: a name in the project that versions are registered under."""
    pid = project_of(body.project_id, who)
    return asdict(models.create_model(deps, who, pid, body.name, body.description, body.tags))


@router.get("/v1/models", response_model=ModelPage)
def list_models(
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The registry's models (of one project with `project_id`), oldest first; page with `after` =
    the previous page's `next_after`."""
    items = models.list_models(deps, who, project_of(project_id, who), after=after, limit=limit)
    return {
        "items": [asdict(m) for m in items],
        "next_after": model_doc(items[-1]).sort if len(items) == limit else None,
    }


@router.get("/v1/models/{model_id}", response_model=ModelOut)
def get_model(
    model_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One model with its aliases (stages such as `production`, and named aliases), tags and latest
    version number."""
    return asdict(models.get_model(deps, who, model_id))


@router.post("/v1/models/{model_id}/versions", status_code=201, response_model=ModelVersionOut)
def create_version(
    model_id: EntityId,
    body: VersionCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """From a Completed training job (`training_job_id`), a completed AutoML trial (`trial_id`) or an
    uploaded artifact (`artifact_base64`, with its `sha256` checked when given)."""
    card = body.card.model_dump(exclude_none=True) if body.card else None
    sources = [body.training_job_id, body.trial_id, body.artifact_base64]
    if sum(s is not None for s in sources) != 1:
        raise InvalidInput(
            FieldProblem(
                "training_job_id", "give exactly one of training_job_id, trial_id or artifact_base64"
            )
        )
    if body.trial_id is not None:
        if body.sha256 is not None:
            raise InvalidInput(
                FieldProblem("sha256", "is checked against the trial's recorded sha256; omit it")
            )
        v = versions.register_from_trial(
            deps, who, model_id, body.trial_id, description=body.description, card=card
        )
    elif body.training_job_id is not None:
        if body.sha256 is not None:
            raise InvalidInput(
                FieldProblem("sha256", "is checked against the job's recorded sha256; omit it")
            )
        v = versions.register_from_job(
            deps, who, model_id, body.training_job_id, description=body.description, card=card
        )
    else:
        assert body.artifact_base64 is not None
        data = versions.decode_base64(body.artifact_base64)
        v = versions.register_from_upload(
            deps, who, model_id, data, body.sha256, description=body.description, card=card
        )
    return _version_out(deps, v)


@router.post("/v1/models/{model_id}/versions:upload", status_code=201, response_model=ModelVersionOut)
async def upload_version(
    model_id: EntityId,
    request: Request,
    sha256: Annotated[str | None, Query(max_length=71, description="the artifact's sha256")] = None,
    x_artifact_sha256: Annotated[
        str | None, Header(max_length=71, description="the artifact's sha256, if not in the query")
    ] = None,
    description: Annotated[
        str, Query(max_length=4_000, description="What is new in this version, for people.")
    ] = "",
    intended_use: Annotated[
        str | None, Query(max_length=4_000, description="The model card's intended use (null: unstated).")
    ] = None,
    sensitive_column: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="the column fairness metrics were measured on; without it the card reports none",
        ),
    ] = None,
    content_type: Annotated[
        str | None,
        Header(description="application/gzip, application/x-gzip or application/octet-stream; else a 422."),
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The raw model.tar.gz as the body (Content-Type: application/gzip), sha256 in the query or the
    X-Artifact-SHA256 header; the request body limit applies as to any request."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype not in GZIP_TYPES:
        raise InvalidInput(FieldProblem("headers.content-type", f"must be one of {', '.join(GZIP_TYPES)}"))
    data = await request.body()
    card = {k: v for k, v in (("intended_use", intended_use), ("sensitive_column", sensitive_column)) if v}
    v = versions.register_from_upload(
        deps, who, model_id, data, sha256 or x_artifact_sha256, description=description, card=card or None
    )
    return _version_out(deps, v)


@router.get("/v1/models/{model_id}/versions", response_model=ModelVersionPage)
def list_versions(
    model_id: EntityId,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="the last version number seen")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The model's versions, oldest first; page with `after` = the previous page's `next_after`."""
    items = versions.list_versions(deps, who, model_id, after=after, limit=limit)
    model, _ = models.load_model(deps, model_id)
    return {
        "items": [versions.version_as_dict(v, model) for v in items],
        "next_after": items[-1].version if len(items) == limit else None,
    }


@router.get("/v1/models/{model_id}/versions/{version}", response_model=ModelVersionOut)
def get_version(
    model_id: EntityId,
    version: VersionRef,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """`version`: a number, an id (mv_...), a stage or alias (production, champion) or latest."""
    return _version_out(deps, versions.get_version(deps, who, model_id, version))


@router.get(
    "/v1/models/{model_id}/versions/{version}/card/{file}",
    **PNG_ANSWER,
)
def get_card_plot(
    model_id: EntityId,
    version: VersionRef,
    file: PngName,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> Response:
    """A plot of the card: an AutoML winner's report PNGs, copied beside the card at registration."""
    v = versions.get_version(deps, who, model_id, version)
    return Response(content=versions.read_card_plot(deps, v, file), media_type="image/png")


@router.get(
    "/v1/models/{model_id}/versions/{version}/card",
    response_model=None,
    responses={
        200: {
            "description": "The card as JSON, or as Markdown with `Accept: text/markdown`.",
            "model": ModelCardOut,
            "content": {
                "text/markdown": {"schema": {"type": "string", "description": "The card as Markdown."}},
            },
        }
    },
)
def get_card(
    model_id: EntityId,
    version: VersionRef,
    accept: Annotated[
        str | None, Header(description="`text/markdown` for the card as Markdown; otherwise JSON.")
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> Response:
    """The model card as JSON, or as Markdown with `Accept: text/markdown`."""
    v = versions.get_version(deps, who, model_id, version)
    markdown = "text/markdown" in (accept or "").lower()
    data = versions.read_card(deps, v, markdown=markdown)
    media = "text/markdown; charset=utf-8" if markdown else "application/json"
    return Response(content=data, media_type=media, headers={"x-card-sha256": v.card_sha256 or ""})


@router.post("/v1/models/{model_id}/versions/{version}/promote", response_model=StageMoveOut)
def promote(
    model_id: EntityId,
    version: VersionRef,
    body: PromoteIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """`{"stage": "staging"|"production"|"archived"}` or `{"alias": "champion"}`; production takes
    only an Approved version, an archived version nothing."""
    return stages.promote(
        deps, who, model_id, version, stage=body.stage, alias=body.alias, comment=body.comment
    )


@router.post("/v1/models/{model_id}/rollback", response_model=StageMoveOut)
def rollback(
    model_id: EntityId,
    body: ModelRollbackIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Back to the previous holder of the stage or alias (or to `to_version`), in one call."""
    return stages.rollback(
        deps,
        who,
        model_id,
        stage=body.stage,
        alias=body.alias,
        to_version=body.to_version,
        comment=body.comment,
    )


@router.get("/v1/models/{model_id}/history", response_model=StageHistory)
def history(
    model_id: EntityId,
    name: Annotated[str | None, Query(min_length=1, max_length=63, description="one stage or alias")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Which version held which stage or alias when, and who moved it: append-only, oldest first."""
    return {"items": stages.history(deps, who, model_id, name=name, limit=limit)}
