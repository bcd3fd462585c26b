"""The app factory, route matching and the error mapping, without going through use cases."""

from __future__ import annotations

import pytest
from starlette.routing import Match

from optiloop.api.app import ROUTERS, create_app
from optiloop.api.errors import _loc_to_field, status_of
from optiloop.api.middleware import json_depth_exceeds
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    NotImplementedYet,
    PayloadTooLarge,
    Unauthorized,
    Unsatisfiable,
    UpstreamFailed,
    UpstreamTimeout,
)

SETTINGS = Settings(backend="memory")


def _match(method: str, path: str) -> list[str]:
    """Starlette's own matching over every route of every router."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    routes = [r for router in ROUTERS.values() for r in router.routes]
    return [r.path for r in routes if r.matches(scope)[0] is Match.FULL]


def test_colon_paths_match_literally() -> None:
    assert _match("POST", "/v1/projects/prj_1/tests:suggest") == ["/v1/projects/{project_id}/tests:suggest"]
    assert _match("POST", "/v1/projects/prj_1/runs:ingest") == ["/v1/projects/{project_id}/runs:ingest"]
    assert _match("GET", "/v1/projects/prj_1/tests") == ["/v1/projects/{project_id}/tests"]
    assert _match("POST", "/v1/projects/prj_1/tests:suggestx") == []
    assert _match("POST", "/v1/projects/a/b/tests:suggest") == []


def test_router_subsets_for_lambdas(deps: Deps) -> None:
    app = create_app(deps, SETTINGS, routers=["health", "ingest"])
    paths = set(app.openapi()["paths"])
    assert "/v1/projects/{project_id}/runs:ingest" in paths and "/v1/healthz" in paths
    assert "/v1/projects/{project_id}/tests:suggest" not in paths and "/v1/projects" not in paths
    with pytest.raises(ValueError, match="unknown routers"):
        create_app(deps, SETTINGS, routers=["nope"])
    assert set(ROUTERS) == {
        "projects",
        "constraints",
        "suggest",
        "ingest",
        "coverage",
        "audit",
        "keys",
        "health",
        "prompts",
        "approvals",
        "evals",
        "generate",
        "training",
        "models",
        "lineage",
        "deployments",
        "inference",
        "monitoring",
        "workflows",
        "automl",
        "webhooks",
        "decisions",
        "auth",
        "connectors",
    }


def test_status_mapping() -> None:
    p = FieldProblem("f", "r")
    cases = [
        (InvalidInput(p), 422),
        (Unsatisfiable(p), 422),
        (NotFound("x"), 404),
        (Conflict("x"), 409),
        (Unauthorized("x"), 401),
        (Forbidden("x"), 403),
        (PayloadTooLarge("x"), 413),
        (NotImplementedYet("x"), 501),
        (UpstreamFailed("x"), 502),
        (UpstreamTimeout("x"), 504),
    ]
    for exc, status in cases:
        assert status_of(exc) == status


def test_loc_to_field() -> None:
    assert _loc_to_field(("body", "batch_size")) == "body.batch_size"
    assert (
        _loc_to_field(("body", "runs", 3, "coverage_delta", "buckets_hit", 0))
        == "body.runs[3].coverage_delta.buckets_hit[0]"
    )
    assert _loc_to_field(()) == "body"


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b"{}", False),
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b'{"a": "' + b"[" * 1000 + b'"}', False),
        (b'{"a": "\\"' + b"[" * 1000 + b'"}', False),
        (b'[{"a": [' * 21 + b"1" + b"]}]" * 21, False),
        (b'[{"a": [' * 22 + b"1" + b"]}]" * 22, True),
        (b"[]" * 100_000, False),
    ],
)
def test_json_depth(body: bytes, deep: bool) -> None:
    assert json_depth_exceeds(body, 64) is deep
