"""Golden-set datasets and evaluation runs."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from optiloop.api.models.generate import DatasetCreate, EvalRunIn
from optiloop.api.models.responses import EvalRunOut, ExamplePage, GoldenSetOut, GoldenSetPage, ResultPage
from optiloop.api.models.responses_datasets import DatasetOut, ExamplesAdded
from optiloop.api.params import After, EntityId, Offset, ProjectId, offset_cursor
from optiloop.api.security import current_principal, get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.prompts import datasets, evals

router = APIRouter(tags=["evals"])
JSONL = ("application/x-ndjson", "application/jsonl")


@router.post("/v1/datasets", status_code=201, response_model=GoldenSetOut)
def create_dataset(
    body: DatasetCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """A golden set: a named list of examples to evaluate prompts on (add them with
    `POST /v1/datasets/{id}/examples`). Contributors and up; audited as `dataset.created`."""
    return datasets.create_dataset(deps, who, body.project_id, body.name, body.description)


@router.get("/v1/projects/{project_id}/datasets", response_model=GoldenSetPage)
def list_datasets(
    project_id: ProjectId,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many golden sets.")] = 100,
    after: After = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROMPT_READ)),
) -> dict[str, Any]:
    """The project's golden sets, oldest first, deleted ones left out. Page with `after` = the
    previous page's `next_after`."""
    items = datasets.list_datasets(deps, project_id, limit, after)
    nxt = f"{items[-1]['created_at']}#{items[-1]['id']}" if len(items) == limit else None
    return {"items": items, "next_after": nxt}


@router.get("/v1/datasets/{dataset_id}", response_model=DatasetOut, response_model_exclude_unset=True)
def get_dataset(
    dataset_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """A golden set, or a table ingested at `POST /v1/datasets/ingest` (`"kind": "table"`)."""
    from optiloop.automl import datasets as tables  # numpy only: no search library on this path

    if tables.find(deps, dataset_id) is not None:
        return tables.get_table_dataset(deps, who, dataset_id)
    return datasets.get_dataset(deps, who, dataset_id)


@router.delete("/v1/datasets/{dataset_id}", status_code=204, summary="Delete a dataset")
def delete_dataset(
    dataset_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> Response:
    """Soft delete of a golden set or an ingested table: it leaves its project's listing and reads by
    id answer 404 naming the deletion; its stored examples or table stay, so evaluations and
    experiments that ran on it still name what they ran on. A table is refused with 409 while an
    AutoML experiment is queued or running on it. Admins of the project; audited as `dataset.deleted`."""
    from optiloop.automl import datasets as tables  # numpy only: no search library on this path

    if tables.find(deps, dataset_id) is not None:
        from optiloop.automl.delete import delete_table_dataset

        delete_table_dataset(deps, who, dataset_id)
    else:
        datasets.delete_dataset(deps, who, dataset_id)
    return Response(status_code=204)


@router.post(
    "/v1/datasets/{dataset_id}/examples",
    response_model=ExamplesAdded,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "examples": {
                                "type": "array",
                                "description": "Each {input: object, expected, id?, metadata?}; at most "
                                "50,000 in a dataset",
                            }
                        },
                    },
                    "example": {
                        "examples": [
                            {"input": {"question": "Capital of France?"}, "expected": "Paris"},
                            {
                                "id": "de-1",
                                "input": {"question": "Capital of Germany?"},
                                "expected": "Berlin",
                                "metadata": {"difficulty": "easy"},
                            },
                        ]
                    },
                },
                "application/x-ndjson": {"schema": {"type": "string", "description": "one example per line"}},
            }
        }
    },
)
async def add_examples(
    dataset_id: EntityId,
    request: Request,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """`{"examples": [...]}` as JSON, or JSON Lines (one example per line) as application/x-ndjson."""
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in JSONL:
        examples: Any = datasets.parse_jsonl(raw)
    else:
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError as exc:
            raise InvalidInput(FieldProblem("body", f"not valid JSON: {exc.msg}")) from None
        if not isinstance(body, dict) or set(body) != {"examples"}:
            raise InvalidInput(FieldProblem("examples", 'send {"examples": [...]} or JSON Lines'))
        examples = body["examples"]
    return await run_in_threadpool(datasets.add_examples, deps, who, dataset_id, examples)


@router.get("/v1/datasets/{dataset_id}/examples", response_model=ExamplePage)
def list_examples(
    dataset_id: EntityId,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    after: After = None,
    offset: Offset = 0,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """A golden set's examples in upload order; page with `after` = the previous page's `next_after`."""
    start = offset_cursor(after, offset)
    ds = datasets.get_dataset(deps, who, dataset_id)
    items = list(datasets.iter_examples(deps, ds))[start : start + limit]
    end = start + len(items)
    nxt = str(end) if items and end < ds["example_count"] else None
    return {"items": items, "total": ds["example_count"], "next_after": nxt}


@router.post("/v1/evals/run", status_code=201, response_model=EvalRunOut)
def run_eval(
    body: EvalRunIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Evaluate a prompt version on a golden set with the named metrics; answers the run with its
    aggregate scores and confidence intervals. Contributors and up."""
    return evals.run_eval(deps, who, body.model_dump(exclude_none=True) | {"compare_to": body.compare_to})


@router.get("/v1/evals/{eval_run_id}", response_model=EvalRunOut)
def get_eval(
    eval_run_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One evaluation run: what ran (version, dataset content hash, metrics) and its scores."""
    return evals.get_eval(deps, who, eval_run_id)


@router.get("/v1/evals/{eval_run_id}/results", response_model=ResultPage)
def eval_results(
    eval_run_id: EntityId,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    after: After = None,
    offset: Offset = 0,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The per-example results of an evaluation run, in example order; page with `after` = the
    previous page's `next_after`."""
    start = offset_cursor(after, offset)
    items = evals.eval_results(deps, who, eval_run_id, limit + 1, start)  # one more: is there a next page
    return {"items": items[:limit], "next_after": str(start + limit) if len(items) > limit else None}
