"""Every client method and the API operation it calls: the one table the SDK and its tests share.

Written by hand rather than generated (no code generator to install or to keep in step), and kept
honest by `tests/unit/client/test_client_covers_openapi.py`, which compares it with the app's
OpenAPI document both ways: every operation the API serves has a method here, every entry here is
an operation the API serves, and every entry names a method that exists on the client.

`idempotent` says whether sending the request twice is the same as sending it once; it decides
what the retries may resend (`optiloop.client.retry`). GET/PUT/PATCH/DELETE are; a POST is only
where the server makes it so: ingest recognises a resent run, prioritize, replay and the read-only POSTs
write nothing, `POST /v1/policies` replaces by name, stopping a stopped job returns it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the OpenAPI path template, e.g. "/v1/projects/{project_id}"
    idempotent: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _op(method: str, path: str, idempotent: bool | None = None) -> Operation:
    return Operation(method, path, method != "POST" if idempotent is None else idempotent)


P = "/v1/projects/{project_id}"
DEP = "/v1/deployments/{deployment_id}"
MON = "/v1/monitoring/{deployment_id}"
MODEL = "/v1/models/{model_id}"

OPERATIONS: dict[str, Operation] = {
    # platform
    "health": _op("GET", "/v1/healthz"),
    "keys.create": _op("POST", "/v1/api-keys"),
    "keys.list": _op("GET", "/v1/api-keys"),
    "keys.revoke": _op("DELETE", "/v1/api-keys/{key_id}"),
    "auth.token": _op("POST", "/v1/auth/token"),  # each call mints (and audits) a new token
    "auth.jwks": _op("GET", "/.well-known/jwks.json"),
    "audit.logs": _op("GET", "/v1/audit/logs"),
    "audit.iter": _op("GET", "/v1/audit/logs"),
    "audit.verify": _op("GET", "/v1/audit/verify"),
    # test optimisation
    "projects.create": _op("POST", "/v1/projects"),
    "projects.list": _op("GET", "/v1/projects"),
    "projects.iter": _op("GET", "/v1/projects"),
    "projects.get": _op("GET", P),
    "projects.update": _op("PATCH", P),
    "projects.delete": _op("DELETE", P),
    "constraints.add": _op("POST", f"{P}/constraints"),
    "constraints.list": _op("GET", f"{P}/constraints"),
    "constraints.space": _op("GET", f"{P}/space"),
    "tests.suggest": _op("POST", f"{P}/tests:suggest"),
    "tests.suggest_stream": _op("POST", f"{P}/tests:suggest"),
    "tests.prioritize": _op("POST", f"{P}/tests:prioritize", idempotent=True),
    "tests.replay": _op("POST", f"{P}/replay", idempotent=True),
    "tests.list": _op("GET", f"{P}/tests"),
    "tests.iter": _op("GET", f"{P}/tests"),
    "runs.ingest": _op("POST", f"{P}/runs:ingest", idempotent=True),
    "coverage.get": _op("GET", f"{P}/coverage"),
    "coverage.csv": _op("GET", f"{P}/coverage"),
    # prompts
    "prompts.create": _op("POST", f"{P}/prompts"),
    "prompts.list": _op("GET", f"{P}/prompts"),
    "prompts.iter": _op("GET", f"{P}/prompts"),
    "prompts.get": _op("GET", "/v1/prompts/{prompt_id}"),
    "prompts.delete": _op("DELETE", "/v1/prompts/{prompt_id}"),
    "prompts.create_version": _op("POST", "/v1/prompts/{prompt_id}/versions"),
    "prompts.list_versions": _op("GET", "/v1/prompts/{prompt_id}/versions"),
    "prompts.iter_versions": _op("GET", "/v1/prompts/{prompt_id}/versions"),
    "prompts.get_version": _op("GET", "/v1/prompt_versions/{version_id}"),
    "prompts.diff": _op("GET", "/v1/prompt_versions/{version_id}/diff"),
    "prompts.submit_for_approval": _op("POST", "/v1/prompt_versions/{version_id}/submit_for_approval"),
    "prompts.approve": _op("POST", "/v1/prompt_versions/{version_id}/approve"),
    "prompts.reject": _op("POST", "/v1/prompt_versions/{version_id}/reject"),
    "generate": _op("POST", "/v1/generate"),
    "traces.get": _op("GET", "/v1/traces/{trace_id}"),
    "traces.list": _op("GET", f"{P}/traces"),
    "traces.iter": _op("GET", f"{P}/traces"),
    "cache.purge": _op("POST", "/v1/cache/purge"),
    "datasets.create": _op("POST", "/v1/datasets"),
    "datasets.list": _op("GET", f"{P}/datasets"),
    "datasets.get": _op("GET", "/v1/datasets/{dataset_id}"),
    "datasets.delete": _op("DELETE", "/v1/datasets/{dataset_id}"),
    "datasets.add_examples": _op("POST", "/v1/datasets/{dataset_id}/examples"),
    "datasets.add_examples_jsonl": _op("POST", "/v1/datasets/{dataset_id}/examples"),
    "datasets.list_examples": _op("GET", "/v1/datasets/{dataset_id}/examples"),
    "datasets.iter_examples": _op("GET", "/v1/datasets/{dataset_id}/examples"),
    "evals.run": _op("POST", "/v1/evals/run"),
    "evals.get": _op("GET", "/v1/evals/{eval_run_id}"),
    "evals.results": _op("GET", "/v1/evals/{eval_run_id}/results"),
    "evals.iter_results": _op("GET", "/v1/evals/{eval_run_id}/results"),
    # governance
    "approvals.create": _op("POST", "/v1/approvals"),
    "approvals.list": _op("GET", "/v1/approvals"),
    "approvals.iter": _op("GET", "/v1/approvals"),
    "approvals.get": _op("GET", "/v1/approvals/{approval_id}"),
    "approvals.decide": _op("POST", "/v1/approvals/{approval_id}/decisions"),
    "policies.put": _op("POST", "/v1/policies", idempotent=True),
    "policies.list": _op("GET", "/v1/policies"),
    "policies.iter": _op("GET", "/v1/policies"),
    "policies.delete": _op("DELETE", "/v1/policies/{name}"),
    "policies.legacy_put": _op("PUT", f"{P}/policies/{{name}}"),
    "policies.legacy_create": _op("POST", f"{P}/policies", idempotent=True),
    "policies.legacy_list": _op("GET", f"{P}/policies"),
    "policies.legacy_delete": _op("DELETE", f"{P}/policies/{{name}}"),
    # models
    "models.create": _op("POST", "/v1/models"),
    "models.list": _op("GET", "/v1/models"),
    "models.iter": _op("GET", "/v1/models"),
    "models.get": _op("GET", MODEL),
    "models.create_version": _op("POST", f"{MODEL}/versions"),
    "models.upload_version": _op("POST", f"{MODEL}/versions:upload"),
    "models.list_versions": _op("GET", f"{MODEL}/versions"),
    "models.iter_versions": _op("GET", f"{MODEL}/versions"),
    "models.get_version": _op("GET", f"{MODEL}/versions/{{version}}"),
    "models.card": _op("GET", f"{MODEL}/versions/{{version}}/card"),
    "models.card_markdown": _op("GET", f"{MODEL}/versions/{{version}}/card"),
    "models.card_plot": _op("GET", f"{MODEL}/versions/{{version}}/card/{{file}}"),
    "models.promote": _op("POST", f"{MODEL}/versions/{{version}}/promote"),
    "models.rollback": _op("POST", f"{MODEL}/rollback"),
    "models.history": _op("GET", f"{MODEL}/history"),
    # automl: tables and experiments
    "tables.ingest": _op("POST", "/v1/datasets/ingest"),
    "tables.ingest_from": _op("POST", "/v1/datasets/ingest"),  # a connector's file or query (JSON)
    "tables.refresh": _op("POST", "/v1/datasets/ingest"),  # read again with a dataset's stored spec
    "connectors.create": _op("POST", "/v1/connectors"),
    "connectors.list": _op("GET", "/v1/connectors"),
    "connectors.get": _op("GET", "/v1/connectors/{connector_id}"),
    "connectors.delete": _op("DELETE", "/v1/connectors/{connector_id}"),
    "experiments.create": _op("POST", "/v1/experiments"),
    "experiments.list": _op("GET", "/v1/experiments"),
    "experiments.iter": _op("GET", "/v1/experiments"),
    "experiments.get": _op("GET", "/v1/experiments/{experiment_id}"),
    "experiments.run": _op("POST", "/v1/experiments/{experiment_id}/run"),
    "experiments.cancel": _op("POST", "/v1/experiments/{experiment_id}/cancel"),
    "experiments.resume": _op("POST", "/v1/experiments/{experiment_id}/resume"),
    "experiments.trials": _op("GET", "/v1/experiments/{experiment_id}/trials"),
    "experiments.leaderboard": _op("GET", "/v1/experiments/{experiment_id}/leaderboard"),
    "experiments.report_plot": _op("GET", "/v1/experiments/{experiment_id}/report/{file}"),
    # online experiments (same resource, the body with `type`) and decisions
    "experiments.create_online": _op("POST", "/v1/experiments"),
    "experiments.start": _op("POST", "/v1/experiments/{experiment_id}/start"),
    "experiments.pause": _op("POST", "/v1/experiments/{experiment_id}/pause"),
    "experiments.complete": _op("POST", "/v1/experiments/{experiment_id}/complete"),
    "experiments.archive": _op("POST", "/v1/experiments/{experiment_id}/archive"),
    "experiments.promote": _op("POST", "/v1/experiments/{experiment_id}/promote"),
    "decisions.decide": _op("POST", "/v1/decisions"),
    "decisions.feedback": _op("POST", "/v1/feedback"),
    "decisions.dashboard": _op("GET", "/v1/dashboards/metrics"),
    "decisions.evaluate_policy": _op("POST", "/v1/experiments/{experiment_id}/ope"),
    "training_jobs.create": _op("POST", "/v1/training_jobs"),
    "training_jobs.get": _op("GET", "/v1/training_jobs/{job_id}"),
    "training_jobs.list": _op("GET", f"{P}/training_jobs"),
    "training_jobs.iter": _op("GET", f"{P}/training_jobs"),
    "training_jobs.stop": _op("POST", "/v1/training_jobs/{job_id}/stop", idempotent=True),
    "training_jobs.logs": _op("GET", "/v1/training_jobs/{job_id}/logs"),
    "lineage.get": _op("GET", "/v1/lineage/{entity_type}/{entity_id}"),
    # deployments (prompt and model versions), inference, monitoring
    "deployments.deploy_prompt": _op("POST", "/v1/deployments"),
    "deployments.deploy_model": _op("POST", "/v1/deployments"),
    "deployments.rollback_prompt": _op("POST", "/v1/deployments/rollback"),
    "deployments.list": _op("GET", f"{P}/deployments"),
    "deployments.iter": _op("GET", f"{P}/deployments"),
    "deployments.get": _op("GET", DEP),
    "deployments.undeploy": _op("DELETE", DEP),
    "deployments.promote": _op("POST", f"{DEP}/promote"),
    "deployments.rollback": _op("POST", f"{DEP}/rollback"),
    "deployments.metrics": _op("GET", f"{DEP}/metrics"),
    "deployments.start_batch": _op("POST", f"{DEP}/batch"),
    "deployments.get_batch": _op("GET", f"{DEP}/batch/{{job_id}}"),
    "deployments.feedback": _op("POST", f"{DEP}/feedback"),
    "inference.predict": _op("POST", "/v1/inference/{deployment_id}:predict"),
    "monitoring.create_monitor": _op("POST", f"{MON}/monitors"),
    "monitoring.list_monitors": _op("GET", f"{MON}/monitors"),
    "monitoring.get_monitor": _op("GET", "/v1/monitoring/monitors/{monitor_id}"),
    "monitoring.run_monitor": _op("POST", "/v1/monitoring/monitors/{monitor_id}:run"),
    "monitoring.list_alerts": _op("GET", f"{MON}/alerts"),
    "monitoring.acknowledge_alert": _op("POST", f"{MON}/alerts/{{alert_id}}:acknowledge"),
    # experiment workflows (train -> evaluate -> register -> approve -> deploy)
    "workflows.start": _op("POST", "/v1/workflow_executions"),
    "workflows.get": _op("GET", "/v1/workflow_executions/{execution_id}"),
    "workflows.list": _op("GET", f"{P}/workflow_executions"),
    "workflows.iter": _op("GET", f"{P}/workflow_executions"),
    # the project's learned suggestion policies (trained by an experiment workflow)
    "policies.train": _op("POST", f"{P}/policies:train"),
    # webhooks: subscriptions, their delivery log, a test delivery (ping is sent at once: not resent)
    "webhooks.create": _op("POST", f"{P}/webhooks"),
    "webhooks.list": _op("GET", f"{P}/webhooks"),
    "webhooks.get": _op("GET", "/v1/webhooks/{webhook_id}"),
    "webhooks.delete": _op("DELETE", "/v1/webhooks/{webhook_id}"),
    "webhooks.deliveries": _op("GET", "/v1/webhooks/{webhook_id}/deliveries"),
    "webhooks.iter_deliveries": _op("GET", "/v1/webhooks/{webhook_id}/deliveries"),
    "webhooks.ping": _op("POST", "/v1/webhooks/{webhook_id}/ping"),
}
