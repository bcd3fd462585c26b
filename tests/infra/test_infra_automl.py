"""AutoML's infrastructure: its own function (numpy only, no runner), S3 on datasets/ and automl/
only, the models function allowed to read trial artifacts, and its routes."""

from __future__ import annotations

from typing import Any

from cfn_fake import actions, flat, logical_id_of, resources_for, statements
from infra_cdk.routes import HTTP_GROUPS, ROUTES

HANDLER = "functions.automl.handler.handler"


def _function(synth: Any, handler: str = HANDLER, tenant: str = "acme") -> dict[str, Any]:
    [props] = [
        f["Properties"]
        for f in synth.resources(tenant, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == handler
    ]
    return props


def _s3(synth: Any, handler: str, tenant: str = "acme") -> dict[str, set[str]]:
    props = _function(synth, handler, tenant)
    stmts = statements(synth.templates[tenant], logical_id_of(props["Role"]))
    out: dict[str, set[str]] = {}
    for action, resource in resources_for(stmts, "s3:"):
        out.setdefault(action, set()).add(flat(resource))
    return out


def test_automl_has_its_own_function_that_runs_searches_on_its_state_machine(synth: Any) -> None:
    """No search in the Lambda: `run` starts the AutoML state machine (test_infra_automl_fanout)."""
    for tenant in ("acme", "globex"):
        env = _function(synth, tenant=tenant)["Environment"]["Variables"]
        assert env["OPTILOOP_AUTOML_RUNNER"] == "stepfunctions" and env["OPTILOOP_AUTOML_BATCH"] == "4"
        assert _function(synth, tenant=tenant)["Timeout"] <= 29


def test_automl_reads_and_writes_only_its_prefixes(synth: Any) -> None:
    s3 = _s3(synth, HANDLER)
    assert s3["s3:PutObject"] and all(r.endswith("/datasets/*") for r in s3["s3:PutObject"]), s3
    gets = s3["s3:GetObject"]
    assert gets and all(r.endswith(("/datasets/*", "/automl/*")) for r in gets), gets
    assert "s3:DeleteObject" not in s3
    props = _function(synth)
    stmts = statements(synth.templates["acme"], logical_id_of(props["Role"]))
    assert not any(a.endswith("*") for a in actions(stmts))
    assert not {a for a in actions(stmts) if a.startswith(("sagemaker:", "iam:", "bedrock:"))}


def test_the_models_function_may_read_trial_artifacts_but_not_write_them(synth: Any) -> None:
    s3 = _s3(synth, "functions.models.handler.handler")
    assert any(r.endswith("/automl/*") for r in s3["s3:GetObject"])
    assert not any(r.endswith("/automl/*") for r in s3.get("s3:PutObject", set()))


def test_routes_go_to_the_automl_function() -> None:
    assert "automl" in HTTP_GROUPS
    mine = {(r.method, r.path) for r in ROUTES if r.group == "automl"}
    assert mine == {
        ("POST", "/v1/datasets/ingest"),
        ("POST", "/v1/experiments"),
        ("GET", "/v1/experiments"),
        ("GET", "/v1/experiments/{experiment_id}"),
        ("POST", "/v1/experiments/{experiment_id}/run"),
        ("POST", "/v1/experiments/{experiment_id}/cancel"),
        ("POST", "/v1/experiments/{experiment_id}/resume"),
        ("GET", "/v1/experiments/{experiment_id}/trials"),
        ("GET", "/v1/experiments/{experiment_id}/leaderboard"),
        ("GET", "/v1/experiments/{experiment_id}/report/{file}"),
        # online experiments' lifecycle shares the resource (docs/decisions.md)
        ("POST", "/v1/experiments/{experiment_id}/start"),
        ("POST", "/v1/experiments/{experiment_id}/pause"),
        ("POST", "/v1/experiments/{experiment_id}/complete"),
        ("POST", "/v1/experiments/{experiment_id}/archive"),
        ("POST", "/v1/experiments/{experiment_id}/promote"),
    }
    ingest = next(r for r in ROUTES if r.path == "/v1/datasets/ingest")
    assert not ingest.has_body  # multipart: no JSON model for the gateway to check
