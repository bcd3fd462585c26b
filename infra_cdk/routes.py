"""The HTTP routes API Gateway exposes, and which Lambda (handler group) serves each.

A literal table rather than one derived from the FastAPI app at synth time: synthesizing then needs
neither FastAPI nor numpy, and a route added to the app without a line here fails
tests/infra/test_api.py instead of silently answering 403 (API Gateway's reply to an unknown
resource) in production.

Custom methods (`tests:suggest`, `runs:ingest`) are literal path parts: API Gateway REST resource
path parts accept `:` (aws-cdk-lib validates path parts against `[a-zA-Z0-9:._-$]`), so they are
plain resources next to `{project_id}`'s other children, with no greedy proxy and no `{action}`
parameter to re-dispatch on.
"""

from __future__ import annotations

from dataclasses import dataclass

HTTP_GROUPS = ("projects", "suggest", "ingest", "coverage", "audit")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    group: str
    public: bool = False  # no authorizer: liveness probes must work without a key

    @property
    def has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/healthz", "projects", public=True),
    # projects, their constraints and API keys: low-traffic administration, one function
    Route("POST", "/v1/projects", "projects"),
    Route("GET", "/v1/projects", "projects"),
    Route("GET", "/v1/projects/{project_id}", "projects"),
    Route("PATCH", "/v1/projects/{project_id}", "projects"),
    Route("POST", "/v1/projects/{project_id}/constraints", "projects"),
    Route("GET", "/v1/projects/{project_id}/constraints", "projects"),
    Route("GET", "/v1/projects/{project_id}/space", "projects"),
    Route("POST", "/v1/api-keys", "projects"),
    Route("GET", "/v1/api-keys", "projects"),
    Route("DELETE", "/v1/api-keys/{key_id}", "projects"),
    # the hot loop, each with its own memory size and concurrency
    Route("POST", "/v1/projects/{project_id}/tests:suggest", "suggest"),
    Route("GET", "/v1/projects/{project_id}/tests", "suggest"),
    Route("POST", "/v1/projects/{project_id}/runs:ingest", "ingest"),
    Route("GET", "/v1/projects/{project_id}/coverage", "coverage"),
    Route("GET", "/v1/audit/logs", "audit"),
    Route("GET", "/v1/audit/verify", "audit"),
)
