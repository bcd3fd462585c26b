"""A literal path owns its path: `/v1/evals/run` is not the eval run named "run".

Some routes are literal where a sibling has a parameter: `POST /v1/evals/run` beside
`GET /v1/evals/{eval_run_id}`, `POST /v1/datasets/ingest` beside `/v1/datasets/{dataset_id}`,
`POST /v1/monitoring/monitors/{monitor_id}:run` beside `GET .../monitors/{monitor_id}`. Starlette
takes the first route that fits path *and* method, so `GET /v1/evals/run` was served as a lookup of
the run "run" (404), and a 405 there named the sibling's methods in `Allow` — methods the OpenAPI
document does not give that path. No id or name can be such a literal (ids are generated, `ev_...`;
a custom method's `:` is not a name character), so the literal route decides: another method on its
path is a 405 whose `Allow` lists the literal route's methods only (`allowed_methods` in
optiloop.api.errors reads `specificity` for that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

_PARAM = re.compile(r"{[^}]*}")


def specificity(template: str) -> int:
    """How much of the template is literal: of two templates that match one path, the one with more
    literal characters is the route the path names."""
    return len(_PARAM.sub("", template))


def _sample(template: str) -> str:
    return _PARAM.sub("x", template)


def _routes(routers: Iterable[APIRouter]) -> dict[str, tuple[set[str], re.Pattern[str]]]:
    out: dict[str, tuple[set[str], re.Pattern[str]]] = {}
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                methods, _ = out.setdefault(route.path, (set(), route.path_regex))
                methods.update(route.methods or ())
    return out


def guard_router(routers: Iterable[APIRouter]) -> APIRouter:
    """Routes, included before all others, that answer 405 for the methods a less literal sibling
    would otherwise serve on a literal route's path."""
    routes = _routes(routers)
    guard = APIRouter()
    for literal, (methods, _) in routes.items():
        shadowed: set[str] = set()
        for template, (other, regex) in routes.items():
            if specificity(template) < specificity(literal) and regex.match(_sample(literal)):
                shadowed |= other - methods
        if shadowed:
            guard.add_api_route(
                literal, _not_here, methods=sorted(shadowed), include_in_schema=False, name=f"405 {literal}"
            )
    return guard


async def _not_here(request: Request) -> None:
    raise HTTPException(405)  # Allow: from the error handler (optiloop.api.errors.allowed_methods)
