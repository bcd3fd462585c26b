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

import re
from dataclasses import dataclass

HTTP_GROUPS = (
    "projects",
    "suggest",
    "ingest",
    "coverage",
    "audit",
    "prompts",
    "approvals",
    "evals",
    "generate",
    "monitoring",
    "training",
    "models",
    "deployments",
    "inference",
    "workflows",
    "webhooks",
    "automl",
    "decisions",
    "connectors",
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    group: str
    public: bool = False  # no authorizer: liveness probes must work without a key
    optional_body: bool = False  # the app accepts no body at all: the gateway must not demand one

    @property
    def has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and not self.optional_body


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/healthz", "projects", public=True),
    # OAuth2 client credentials: the key is in the request itself (docs/auth.md), so no authorizer;
    # and the public keys that verify the tokens it issues
    # optional_body: its body is form-encoded (RFC 6749), which the gateway's JSON model must not judge
    Route("POST", "/v1/auth/token", "projects", public=True, optional_body=True),
    Route("GET", "/.well-known/jwks.json", "projects", public=True),
    # projects, their constraints and API keys: low-traffic administration, one function
    Route("POST", "/v1/projects", "projects"),
    Route("GET", "/v1/projects", "projects"),
    Route("GET", "/v1/projects/{project_id}", "projects"),
    Route("PATCH", "/v1/projects/{project_id}", "projects"),
    Route("DELETE", "/v1/projects/{project_id}", "projects"),
    Route("POST", "/v1/projects/{project_id}/constraints", "projects"),
    Route("GET", "/v1/projects/{project_id}/constraints", "projects"),
    Route("GET", "/v1/projects/{project_id}/space", "projects"),
    Route("POST", "/v1/api-keys", "projects"),
    Route("GET", "/v1/api-keys", "projects"),
    Route("DELETE", "/v1/api-keys/{key_id}", "projects"),
    # the hot loop, each with its own memory size and concurrency
    Route("POST", "/v1/projects/{project_id}/tests:suggest", "suggest"),
    Route("POST", "/v1/projects/{project_id}/tests:prioritize", "suggest"),
    Route("POST", "/v1/projects/{project_id}/replay", "suggest"),
    Route("GET", "/v1/projects/{project_id}/tests", "suggest"),
    Route("POST", "/v1/projects/{project_id}/runs:ingest", "ingest"),
    Route("GET", "/v1/projects/{project_id}/coverage", "coverage"),
    Route("GET", "/v1/audit/logs", "audit"),
    Route("GET", "/v1/audit/verify", "audit"),
    # prompt authoring: prompts, immutable versions, diffs (their deployments: the deployments group)
    Route("POST", "/v1/projects/{project_id}/prompts", "prompts"),
    Route("GET", "/v1/projects/{project_id}/prompts", "prompts"),
    Route("GET", "/v1/prompts/{prompt_id}", "prompts"),
    Route("DELETE", "/v1/prompts/{prompt_id}", "prompts"),
    Route("POST", "/v1/prompts/{prompt_id}/versions", "prompts"),
    Route("GET", "/v1/prompts/{prompt_id}/versions", "prompts"),
    Route("GET", "/v1/prompt_versions/{version_id}", "prompts"),
    Route("GET", "/v1/prompt_versions/{version_id}/diff", "prompts"),
    # four-eyes approvals and policy gates: their own function, so authoring never holds approval code
    Route("POST", "/v1/prompt_versions/{version_id}/submit_for_approval", "approvals", optional_body=True),
    Route("POST", "/v1/prompt_versions/{version_id}/approve", "approvals", optional_body=True),
    Route("POST", "/v1/prompt_versions/{version_id}/reject", "approvals"),
    Route("POST", "/v1/approvals", "approvals"),
    Route("GET", "/v1/approvals", "approvals"),
    Route("GET", "/v1/approvals/{approval_id}", "approvals"),
    Route("POST", "/v1/approvals/{approval_id}/decisions", "approvals"),
    Route("PUT", "/v1/projects/{project_id}/policies/{name}", "approvals"),
    Route("POST", "/v1/projects/{project_id}/policies", "approvals"),
    Route("GET", "/v1/projects/{project_id}/policies", "approvals"),
    Route("DELETE", "/v1/projects/{project_id}/policies/{name}", "approvals"),
    # golden sets and synchronous evaluations: the long-running, CPU-heavy group
    Route("POST", "/v1/datasets", "evals"),
    Route("GET", "/v1/projects/{project_id}/datasets", "evals"),
    Route("GET", "/v1/datasets/{dataset_id}", "evals"),
    Route("DELETE", "/v1/datasets/{dataset_id}", "evals"),
    Route("POST", "/v1/datasets/{dataset_id}/examples", "evals"),  # JSON, or JSON Lines (not validated)
    Route("GET", "/v1/datasets/{dataset_id}/examples", "evals"),
    Route("POST", "/v1/evals/run", "evals"),
    Route("GET", "/v1/evals/{eval_run_id}", "evals"),
    Route("GET", "/v1/evals/{eval_run_id}/results", "evals"),
    # the production prompt path: model calls, traces, the response cache
    Route("POST", "/v1/generate", "generate"),
    Route("GET", "/v1/traces/{trace_id}", "generate"),
    Route("GET", "/v1/projects/{project_id}/traces", "generate"),
    Route("POST", "/v1/cache/purge", "generate"),
    # model monitors: drift and performance monitors on a deployment, their alerts, label feedback
    Route("POST", "/v1/monitoring/{deployment_id}/monitors", "monitoring"),
    Route("GET", "/v1/monitoring/{deployment_id}/monitors", "monitoring"),
    Route("GET", "/v1/monitoring/monitors/{monitor_id}", "monitoring"),
    Route("POST", "/v1/monitoring/monitors/{monitor_id}:run", "monitoring", optional_body=True),
    Route("GET", "/v1/monitoring/{deployment_id}/alerts", "monitoring"),
    Route(
        "POST",
        "/v1/monitoring/{deployment_id}/alerts/{alert_id}:acknowledge",
        "monitoring",
        optional_body=True,
    ),
    Route("POST", "/v1/deployments/{deployment_id}/feedback", "monitoring"),
    # training jobs: the one function that may create SageMaker training jobs and pass their role
    Route("POST", "/v1/training_jobs", "training"),
    Route("GET", "/v1/training_jobs/{job_id}", "training"),
    Route("GET", "/v1/projects/{project_id}/training_jobs", "training"),
    Route("POST", "/v1/training_jobs/{job_id}/stop", "training", optional_body=True),
    Route("GET", "/v1/training_jobs/{job_id}/logs", "training"),
    # governance policies (the path both seeds name; the /v1/projects/{id}/policies routes are deprecated)
    Route("POST", "/v1/policies", "approvals"),
    Route("GET", "/v1/policies", "approvals"),
    Route("DELETE", "/v1/policies/{name}", "approvals"),
    # the model registry: models, immutable versions, stages/aliases, rollback, history, cards; lineage
    Route("POST", "/v1/models", "models"),
    Route("GET", "/v1/models", "models"),
    Route("GET", "/v1/models/{model_id}", "models"),
    Route("POST", "/v1/models/{model_id}/versions", "models"),
    # the body is a raw model.tar.gz (application/gzip), not JSON: no JSON model for the gateway to check
    Route("POST", "/v1/models/{model_id}/versions:upload", "models", optional_body=True),
    Route("GET", "/v1/models/{model_id}/versions", "models"),
    Route("GET", "/v1/models/{model_id}/versions/{version}", "models"),
    Route("GET", "/v1/models/{model_id}/versions/{version}/card", "models"),
    Route("GET", "/v1/models/{model_id}/versions/{version}/card/{file}", "models"),
    Route("POST", "/v1/models/{model_id}/versions/{version}/promote", "models"),
    Route("POST", "/v1/models/{model_id}/rollback", "models"),
    Route("GET", "/v1/models/{model_id}/history", "models"),
    Route("GET", "/v1/lineage/{entity_type}/{entity_id}", "models"),
    # deployments of prompt and model versions (one resource, the body says which), model rollouts
    # (promote, rollback), serving metrics and batch scoring
    Route("POST", "/v1/deployments", "deployments"),
    Route("POST", "/v1/deployments/rollback", "deployments"),
    Route("GET", "/v1/projects/{project_id}/deployments", "deployments"),
    Route("GET", "/v1/deployments/{deployment_id}", "deployments"),
    Route("DELETE", "/v1/deployments/{deployment_id}", "deployments"),
    Route("POST", "/v1/deployments/{deployment_id}/promote", "deployments", optional_body=True),
    Route("POST", "/v1/deployments/{deployment_id}/rollback", "deployments", optional_body=True),
    Route("GET", "/v1/deployments/{deployment_id}/metrics", "deployments"),
    Route("POST", "/v1/deployments/{deployment_id}/batch", "deployments"),
    Route("GET", "/v1/deployments/{deployment_id}/batch/{job_id}", "deployments"),
    # the predict hot path: its own small function (numpy + the trees/ONNX runtimes, no SageMaker SDK)
    Route("POST", "/v1/inference/{deployment_id}:predict", "inference"),
    # experiment workflows: start (Step Functions runs them), read status and step history
    Route("POST", "/v1/workflow_executions", "workflows"),
    Route("GET", "/v1/workflow_executions/{execution_id}", "workflows"),
    Route("GET", "/v1/projects/{project_id}/workflow_executions", "workflows"),
    Route("POST", "/v1/projects/{project_id}/policies:train", "workflows", optional_body=True),
    # webhooks: subscriptions, the delivery log and ping (its own small function; sending is the
    # scheduled webhook_dispatch function's)
    Route("POST", "/v1/projects/{project_id}/webhooks", "webhooks"),
    Route("GET", "/v1/projects/{project_id}/webhooks", "webhooks"),
    Route("GET", "/v1/webhooks/{webhook_id}", "webhooks"),
    Route("DELETE", "/v1/webhooks/{webhook_id}", "webhooks"),
    Route("GET", "/v1/webhooks/{webhook_id}/deliveries", "webhooks"),
    Route("POST", "/v1/webhooks/{webhook_id}/ping", "webhooks", optional_body=True),
    # AutoML: table ingest (multipart: no JSON model for the gateway to check) and experiments
    # (AutoML's, with `task_type`; GET /v1/datasets/{id} stays with evals, which reads both kinds)
    Route("POST", "/v1/datasets/ingest", "automl", optional_body=True),
    # connectors: configuration documents (its own small function); reading through one is ingest's
    Route("POST", "/v1/connectors", "connectors"),
    Route("GET", "/v1/connectors", "connectors"),
    Route("GET", "/v1/connectors/{connector_id}", "connectors"),
    Route("DELETE", "/v1/connectors/{connector_id}", "connectors"),
    Route("POST", "/v1/experiments", "automl"),
    Route("GET", "/v1/experiments", "automl"),
    Route("GET", "/v1/experiments/{experiment_id}", "automl"),
    Route("POST", "/v1/experiments/{experiment_id}/run", "automl", optional_body=True),
    Route("POST", "/v1/experiments/{experiment_id}/cancel", "automl", optional_body=True),
    Route("POST", "/v1/experiments/{experiment_id}/resume", "automl", optional_body=True),
    Route("GET", "/v1/experiments/{experiment_id}/trials", "automl"),
    Route("GET", "/v1/experiments/{experiment_id}/leaderboard", "automl"),
    Route("GET", "/v1/experiments/{experiment_id}/report/{file}", "automl"),
    # online experiments share /v1/experiments (the body's `type`; docs/decisions.md): their lifecycle is
    # served where the resource is; the decide and reward hot paths have their own small function
    Route("POST", "/v1/experiments/{experiment_id}/start", "automl", optional_body=True),
    Route("POST", "/v1/experiments/{experiment_id}/pause", "automl", optional_body=True),
    Route("POST", "/v1/experiments/{experiment_id}/complete", "automl", optional_body=True),
    Route("POST", "/v1/experiments/{experiment_id}/archive", "automl", optional_body=True),
    Route("POST", "/v1/experiments/{experiment_id}/promote", "automl", optional_body=True),
    Route("POST", "/v1/decisions", "decisions"),
    Route("POST", "/v1/feedback", "decisions"),
    Route("GET", "/v1/dashboards/metrics", "decisions"),
    Route("POST", "/v1/experiments/{experiment_id}/ope", "decisions"),
)


def gateway_path(path: str) -> str:
    """The API Gateway resource path of a route. A path part that is a parameter followed by a custom
    method (`{deployment_id}:predict`) cannot be a REST resource (a part is all literal or all one
    `{param}`), so the gateway's resource is the parameter alone: it matches the whole segment
    (`dep_1:predict`) and passes the path through unchanged, and the app's own route checks the verb."""
    return "/".join(re.sub(r"^(\{\w+\}):[A-Za-z]+$", r"\1", part) for part in path.split("/"))
