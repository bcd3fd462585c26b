"""AutoML: tabular dataset ingest and experiments (`/v1/experiments` with `task_type`).

Handlers are thin: parse, call one use case, return. Runs go to the local worker pool
(`optiloop.automl.worker`); `GET /v1/experiments/{id}` is how a client watches one. Cancelling is
`POST .../cancel` (API Gateway path parts are a literal or a whole parameter, never both).

Online experiments (`optiloop.decisions`, the body with `type`) share the resource: `POST` dispatches
on the body, `GET` on the stored experiment, and `.../start|pause|complete|archive` are theirs.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from optiloop.api.models.automl import AutomlExperimentCreate
from optiloop.api.models.connectors import TableIngest
from optiloop.api.models.decisions import ExperimentPromoteIn, OnlineExperimentCreate
from optiloop.api.models.responses_automl import (
    AutomlExperimentOut,
    ExperimentCreatedOut,
    ExperimentOut,
    ExperimentPage,
    LeaderboardOut,
    OnlineExperimentOut,
    PromotionProposalOut,
    TrialPage,
)
from optiloop.api.models.responses_datasets import TableOut
from optiloop.api.multipart import parse_form
from optiloop.api.openapi_inline import inline_schema
from optiloop.api.params import PNG_ANSWER, After, EntityId, PngName, project_of
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.automl import datasets, experiments, report
from optiloop.decisions import experiments as online
from optiloop.decisions import promote
from optiloop.decisions.spec import is_online
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput

router = APIRouter(tags=["automl"])


def _parse(model: type[BaseModel], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        ) from None


INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "project_id", "name"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV, JSON Lines or Parquet",
                        },
                        "project_id": {"type": "string", "description": "the project"},
                        "name": {"type": "string", "description": "the dataset's name"},
                        "target": {"type": "string", "description": "the column leaks are found against"},
                        "expectations": {
                            "type": "string",
                            "description": "JSON: a list of expectations (see the JSON body)",
                        },
                        "pii": {"type": "string", "description": "JSON: the PII policy {action, columns}"},
                        "ordinal": {"type": "string", "description": "JSON: column -> levels, lowest first"},
                        "refresh_of": {
                            "type": "string",
                            "description": "an uploaded dataset whose stored spec this upload must meet",
                        },
                    },
                }
            },
            "application/json": {
                "schema": inline_schema(TableIngest),
                "example": {
                    "project_id": "prj_0190c3a4b5f600000001",
                    "name": "orders-2026-11",
                    "connector_id": "con_0190c3a4b5f600000008",
                    "path": "orders/2026-11.parquet",
                    "target": "churned",
                    "pii": {"action": "mask"},
                },
            },
        },
    }
}


@router.post("/v1/datasets/ingest", status_code=201, response_model=TableOut, openapi_extra=INGEST_BODY)
async def ingest_dataset(
    request: Request,
    content_type: Annotated[
        str | None,
        Header(description="multipart/form-data (an upload) or application/json (a connector's read)"),
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Ingest a table.

    From an upload (multipart: file, project_id, name) or, with a JSON body, from a connector's file
    or query (docs/automl.md): typed, checked against its expectations, scanned for PII (and masked
    as asked), profiled (quality report, leaky columns) and stored with its spec and fingerprint."""
    if (content_type or "").split(";")[0].strip().lower() != "multipart/form-data":
        try:
            raw = json.loads(await request.body())
        except ValueError:
            raise InvalidInput(
                FieldProblem("body", "must be JSON (connector ingest) or multipart/form-data (upload)")
            ) from None
        body: TableIngest = _parse(TableIngest, raw)
        return await run_in_threadpool(
            datasets.ingest_from_connector, deps, who, body.model_dump(exclude_none=True)
        )
    form = parse_form(content_type or "", await request.body())
    refresh = "refresh_of" in form
    missing = [f for f in ("file", "project_id", "name") if f not in form and not (refresh and f != "file")]
    if missing:
        raise InvalidInput([FieldProblem(f, "is required") for f in missing])
    upload = form["file"]
    extra: dict[str, str] = {
        k: form[k].text for k in ("target", "expectations", "pii", "ordinal", "refresh_of") if k in form
    }
    return await run_in_threadpool(
        datasets.ingest,
        deps,
        who,
        form["project_id"].text.strip() if "project_id" in form else "",
        form["name"].text if "name" in form else "",
        upload.filename or "upload",
        upload.data,
        extra,
    )


EXPERIMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [inline_schema(AutomlExperimentCreate), inline_schema(OnlineExperimentCreate)]
                },
                "examples": {
                    "automl": {
                        "summary": "An AutoML experiment (`task_type`)",
                        "value": {
                            "project_id": "prj_0190c3a4b5f600000001",
                            "task_type": "classification",
                            "objective": "maximize_auc",
                            "dataset_id": "ds_0190c3a4b5f600000002",
                            "target": "churned",
                            "config": {"cv": {"type": "stratified_kfold", "folds": 5}, "budget_s": 600},
                        },
                    },
                    "online": {
                        "summary": "An online A/B experiment (`type`)",
                        "value": {
                            "project_id": "prj_0190c3a4b5f600000001",
                            "name": "bigger-model",
                            "type": "AB",
                            "variants": [
                                {"id": "a", "config": {"model": "m-small"}},
                                {"id": "b", "config": {"model": "m-large"}},
                            ],
                            "metric": {"name": "success", "kind": "binary", "direction": "maximize"},
                        },
                    },
                },
            }
        },
    }
}


@router.post(
    "/v1/experiments",
    status_code=201,
    response_model=ExperimentCreatedOut,
    response_model_exclude_unset=True,
    openapi_extra=EXPERIMENT_BODY,
)
def create_experiment(
    raw: Annotated[dict[str, Any], Body()],
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """AutoML (`task_type`, the seed's body) answers `{"experiment_id", "status": "created",
    "leaderboard_url", ...}`; online (`type`: AB | Bandit | Contextual) answers the experiment, in Draft."""
    if "type" in raw and "task_type" not in raw:
        o: OnlineExperimentCreate = _parse(OnlineExperimentCreate, raw)
        created = online.create(deps, who, o.model_dump(exclude_none=True))
        return {**created, "experiment_id": created["id"]}
    body: AutomlExperimentCreate = _parse(AutomlExperimentCreate, raw)
    exp = experiments.create(deps, who, body.model_dump(exclude_none=True))
    return {
        "experiment_id": exp["id"],
        "status": exp["status"],
        "leaderboard_url": exp["leaderboard_url"],
        **{
            k: exp[k]
            for k in ("task", "metric", "direction", "features", "excluded", "class_balance", "warnings")
        },
    }


@router.get("/v1/experiments", response_model=ExperimentPage, response_model_exclude_unset=True)
def list_experiments(
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """A project's experiments, AutoML searches and online experiments alike, oldest first, each as a
    summary (status, progress and best so far; `GET /v1/experiments/{id}` has the rest); page with
    `after` = the previous page's `next_after`."""
    items = experiments.listing(deps, who, project_of(project_id, who), after=after, limit=limit)
    return {"items": items, "next_after": items[-1]["id"] if len(items) == limit else None}


@router.get(
    "/v1/experiments/{experiment_id}", response_model=ExperimentOut, response_model_exclude_unset=True
)
def get_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """An AutoML experiment's progress, or an online one's spec, status and results."""
    doc = deps.store.docs.get(experiments.KIND, experiment_id)
    if doc is not None and is_online(doc.data):
        return online.get(deps, who, experiment_id)
    return experiments.get(deps, who, experiment_id)


def _lifecycle(action: str) -> Any:
    def step(
        experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
    ) -> dict[str, Any]:
        return online.transition(deps, who, experiment_id, action)

    step.__name__ = f"{action}_online_experiment"
    step.__doc__ = f"Online experiments: {action} (audited); 409 naming `status` when not allowed from it."
    return step


for _action in ("start", "pause", "complete", "archive"):
    router.post(
        f"/v1/experiments/{{experiment_id}}/{_action}",
        response_model=OnlineExperimentOut,
        response_model_exclude_unset=True,
    )(_lifecycle(_action))


@router.post(
    "/v1/experiments/{experiment_id}/promote",
    status_code=201,
    response_model=PromotionProposalOut,
    summary="Propose an online experiment's winner for promotion",
    description="Submits the winning variant's prompt_version_id or model_version_id (config) to approvals "
    "with the results as evidence; nothing is switched until it is approved and deployed. 409 naming "
    "`variant` without a winner (name one), 422 when the variant names no version.",
)
def promote_online_experiment(
    experiment_id: EntityId,
    body: Annotated[
        ExperimentPromoteIn | None,
        Body(examples=[{"variant": "b", "comment": "b wins on quality at equal cost"}]),
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    b = body or ExperimentPromoteIn()
    return promote.propose(deps, who, experiment_id, b.variant, b.comment)


@router.post(
    "/v1/experiments/{experiment_id}/run",
    status_code=202,
    response_model=AutomlExperimentOut,
    response_model_exclude_unset=True,
)
def run_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Queue the search on the local worker pool (on AWS: start the AutoML state machine, whose trials
    fan out as SageMaker training jobs); poll `GET /v1/experiments/{id}` for progress."""
    from optiloop.automl.worker import pool

    workers = pool()
    workers.accepts(experiments.get(deps, who, experiment_id))
    return experiments.start(deps, who, experiment_id, workers.submitter(who))


@router.post(
    "/v1/experiments/{experiment_id}/resume",
    status_code=202,
    response_model=AutomlExperimentOut,
    response_model_exclude_unset=True,
    summary="Resume an interrupted AutoML experiment",
    description="A cancelled or failed experiment, or one a stopped server left queued or running, "
    "continues where it stopped: its recorded trials stay and are replayed into the search, which "
    "runs the rest of the trial budget. 409 naming `experiment_id` when it is created, completed or "
    "still running here.",
)
def resume_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    from optiloop.automl.worker import StepFunctionsRunner, pool

    workers = pool()
    workers.accepts(experiments.get(deps, who, experiment_id))
    active = workers.is_active
    if isinstance(workers, StepFunctionsRunner):  # it asks Step Functions whether the loop still runs
        active = partial(workers.is_active, deps=deps)
    return experiments.resume(deps, who, experiment_id, workers.submitter(who), active)


@router.post(
    "/v1/experiments/{experiment_id}/cancel",
    response_model=AutomlExperimentOut,
    response_model_exclude_unset=True,
    summary="Cancel an AutoML experiment",
    description="A created experiment is cancelled at once; a queued or running one is asked to stop "
    "(a durable flag the worker reads between folds) and ends `cancelled`, its finished trials kept "
    "(`resume` continues it). A finished experiment is returned unchanged.",
)
def cancel_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    from optiloop.automl.worker import pool

    return experiments.cancel(deps, who, experiment_id, pool().cancel)


@router.get(
    "/v1/experiments/{experiment_id}/trials", response_model=TrialPage, response_model_exclude_unset=True
)
def list_trials(
    experiment_id: EntityId,
    after: Annotated[int | None, Query(ge=0, le=10**6, description="the last trial number seen")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Every trial in order: completed, pruned, failed (with its error) and stopped."""
    items = experiments.trials(deps, who, experiment_id, limit=limit, after=after)
    return {"items": items, "next_after": items[-1]["number"] if len(items) == limit else None}


@router.get(
    "/v1/experiments/{experiment_id}/report/{file}",
    **PNG_ANSWER,
)
def get_report_plot(
    experiment_id: EntityId,
    file: PngName,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> Response:
    """One PNG of the experiment report (`report.plots.files` on `GET /v1/experiments/{id}`):
    importance, mean |SHAP|, PDP/ICE of the top features, the reliability curve, thresholds."""
    exp = experiments.get(deps, who, experiment_id)
    return Response(content=report.plot(deps, exp, file), media_type="image/png")


@router.get("/v1/experiments/{experiment_id}/leaderboard", response_model=LeaderboardOut)
def leaderboard(
    experiment_id: EntityId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """`{"trials": [{"trial_id", "model", "metrics", "cost", "feasible", "violations", "pareto"},
    ...], "constraints", "pareto": {"x": "latency_ms_p95", "y": <metric>, "trials": [...]},
    "selection"}`: the winner by `config.selection` first (`selection` says why: the one-SE rule
    prefers the simpler of candidates the folds cannot tell apart), then trials that meet
    `config.constraints`, each group best first by the objective; `pareto` is the
    accuracy-vs-latency front over every completed trial, fastest first."""
    return experiments.leaderboard(deps, who, experiment_id, limit)
