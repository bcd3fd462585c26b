"""Online decisions on AWS: the decide and reward routes on their own small function, the online
experiments' lifecycle where /v1/experiments is served, and least privilege (documents only)."""

from __future__ import annotations

from typing import Any

from cfn_fake import logical_id_of, statements
from infra_cdk.routes import HTTP_GROUPS, ROUTES

HANDLER = "functions.decisions.handler.handler"


def functions(synth: Any, tenant: str = "acme") -> dict[str, dict[str, Any]]:
    return {
        f["Properties"]["Handler"]: f["Properties"]
        for f in synth.resources(tenant, "AWS::Lambda::Function").values()
    }


def test_decide_and_feedback_have_their_own_function_and_experiments_stay_together() -> None:
    assert "decisions" in HTTP_GROUPS
    assert {(r.method, r.path) for r in ROUTES if r.group == "decisions"} == {
        ("POST", "/v1/decisions"),
        ("POST", "/v1/feedback"),
        ("GET", "/v1/dashboards/metrics"),  # reads traces, documents only, like the hot path
        ("POST", "/v1/experiments/{experiment_id}/ope"),  # reads the logged decisions, numpy only
    }
    experiments = {
        r.group for r in ROUTES if r.path.startswith("/v1/experiments") and not r.path.endswith("/ope")
    }
    assert experiments == {"automl"}  # one resource, one function: it dispatches on type/task_type
    for action in ("start", "pause", "complete", "archive"):
        assert any(r.path == f"/v1/experiments/{{experiment_id}}/{action}" for r in ROUTES)


def test_the_decisions_function_is_small_and_warm(synth: Any) -> None:
    fn = functions(synth)[HANDLER]
    assert fn["Timeout"] <= 29 and fn["MemorySize"] == 1024


def test_the_decisions_function_reads_and_writes_documents_only(synth: Any) -> None:
    role = logical_id_of(functions(synth)[HANDLER]["Role"])
    services = set()
    for stmt in statements(synth.templates["acme"], role):
        acts = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        services |= {a.split(":")[0] for a in acts}
    assert "s3" not in services and "bedrock" not in services and "sagemaker" not in services
    assert "dynamodb" in services
