"""The Lambdas: one per handler group, how they run, and what each role may touch."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from cfn_fake import actions, as_list, flat, logical_id_of, resources_for, statements
from infra_cdk.functions import SPECS
from infra_cdk.routes import HTTP_GROUPS
from optiloop.auth.usage_plan import MARK_KIND

REPO = Path(__file__).resolve().parents[2]
EXPECTED_HANDLERS = {
    "functions.authorizer.handler.handler",
    "functions.projects.handler.handler",
    "functions.suggest.handler.handler",
    "functions.ingest.handler.handler",
    "functions.coverage.handler.handler",
    "functions.audit.handler.handler",
    "functions.prompts.handler.handler",
    "functions.approvals.handler.handler",
    "functions.evals.handler.handler",
    "functions.generate.handler.handler",
    "functions.ingest_queue.handler.handler",
    "functions.retrain_check.handler.handler",
    "functions.audit_digest.handler.handler",
    "functions.training.handler.handler",
    "functions.monitoring.handler.handler",
    "functions.monitors.handler.handler",
    "functions.workflow_steps.handler.handler",
    "functions.workflows.handler.handler",
    "functions.webhooks.handler.handler",
    "functions.webhook_dispatch.handler.handler",
    "functions.models.handler.handler",
    "functions.deployments.handler.handler",
    "functions.inference.handler.handler",
    "functions.automl.handler.handler",
    "functions.decisions.handler.handler",
    "functions.connectors.handler.handler",
}


def functions(synth: Any, tenant: str = "acme") -> dict[str, dict[str, Any]]:
    """Handler string -> function properties, of OptiLoop's functions (not CDK's own bucket-deployment
    function, which uploads the console's files: infra_cdk/console.py)."""
    found = {
        f["Properties"]["Handler"]: f["Properties"]
        for k, f in synth.resources(tenant, "AWS::Lambda::Function").items()
        if not k.startswith("CustomCDKBucketDeployment")
    }
    assert all(h.startswith("functions.") for h in found), sorted(found)
    return found


def role_statements(synth: Any, handler: str, tenant: str = "acme") -> list[dict[str, Any]]:
    role_id = logical_id_of(functions(synth, tenant)[handler]["Role"])
    return statements(synth.templates[tenant], role_id)


def test_one_function_per_handler_group(synth: Any) -> None:
    assert set(functions(synth)) == EXPECTED_HANDLERS


def test_every_handler_string_names_a_real_function(synth: Any) -> None:
    """functions/<pkg>/handler.py defines the attribute Lambda will call (read, not imported)."""
    for handler in functions(synth):
        _, pkg, module, attr = handler.split(".")
        source = REPO / "functions" / pkg / f"{module}.py"
        tree = ast.parse(source.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
            t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
        }
        assert attr in names, f"{source} defines no {attr}"


def test_runtime_architecture_environment_and_sizes(synth: Any) -> None:
    fns = functions(synth)
    specs = {s.handler: s for s in SPECS}
    for handler, props in fns.items():
        spec = specs[handler]
        assert props["Runtime"] == "python3.11" and props["Architectures"] == ["x86_64"], handler
        assert props["MemorySize"] == spec.memory_mb and props["Timeout"] == spec.timeout_s, handler
        assert props["TracingConfig"] == {"Mode": "Active"}, handler
        env = props["Environment"]["Variables"]
        assert env["OPTILOOP_BACKEND"] == "aws" and env["OPTILOOP_TENANT"] == "acme", handler
        assert logical_id_of(env["OPTILOOP_TABLE"]).startswith("DataTable"), handler
        assert logical_id_of(env["OPTILOOP_BUCKET"]).startswith("DataArtifacts"), handler
        assert "LogGroup" in props["LoggingConfig"], handler
    assert fns["functions.suggest.handler.handler"]["MemorySize"] == 1769
    http = [h for h in fns if h.split(".")[1] in HTTP_GROUPS]
    assert len(http) == len(HTTP_GROUPS)
    # API Gateway stops waiting after 29 s; evals alone may outlive it, so a long run still records
    # its result (infra_cdk/README.md, "Evals and API Gateway's 29 s")
    assert all(fns[h]["Timeout"] <= 29 for h in http if h != "functions.evals.handler.handler")
    assert fns["functions.evals.handler.handler"]["Timeout"] == 300
    assert fns["functions.evals.handler.handler"]["MemorySize"] == 1769  # one vCPU for the scorers
    queue_env = fns["functions.ingest_queue.handler.handler"]["Environment"]["Variables"]
    assert logical_id_of(queue_env["OPTILOOP_IDEMPOTENCY_TABLE"]).startswith("DataIdempotency")


def test_layers_are_attached_and_built_for_the_same_platform(synth: Any) -> None:
    every = synth.resources("acme", "AWS::Lambda::LayerVersion")
    layers = {k: v for k, v in every.items() if "AwsCliLayer" not in k}  # not CDK's bucket-deployment one
    assert len(layers) == 3  # core, aws, and sql for the automl function alone
    for layer in layers.values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    fns = functions(synth)
    assert len(fns["functions.suggest.handler.handler"]["Layers"]) == 2
    assert len(fns["functions.authorizer.handler.handler"]["Layers"]) == 1  # core only: fast cold start
    assert len(fns["functions.automl.handler.handler"]["Layers"]) == 3  # + sql: SQL connectors


def test_each_function_has_its_own_role(synth: Any) -> None:
    roles = [logical_id_of(p["Role"]) for p in functions(synth).values()]
    assert len(set(roles)) == len(roles)


def test_no_wildcard_or_scan_or_table_admin_on_the_table(synth: Any) -> None:
    for handler in EXPECTED_HANDLERS:
        dynamo = {a for a in actions(role_statements(synth, handler)) if a.startswith("dynamodb:")}
        assert dynamo, handler
        assert not any("*" in a for a in dynamo), (handler, dynamo)
        assert not dynamo & {
            "dynamodb:Scan",
            "dynamodb:DeleteTable",
            "dynamodb:UpdateTable",
            "dynamodb:CreateTable",
            "dynamodb:BatchWriteItem",
        }, (handler, dynamo)
        for _, resource in resources_for(role_statements(synth, handler), "dynamodb:"):
            rendered = flat(resource)
            assert rendered.startswith(("<DataTable", "<DataIdempotency")), (handler, rendered)
            assert "*" not in rendered, (handler, rendered)


def test_suggest_may_read_and_write_items_but_never_scan(synth: Any) -> None:
    dynamo = {
        a
        for a in actions(role_statements(synth, "functions.suggest.handler.handler"))
        if a.startswith("dynamodb:")
    }
    assert {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
    } <= dynamo
    assert "dynamodb:Scan" not in dynamo


def test_read_only_functions_cannot_write(synth: Any) -> None:
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    for handler in ("coverage", "audit"):
        acts = actions(role_statements(synth, f"functions.{handler}.handler.handler"))
        assert not acts & writes, handler
        assert not any(a.startswith("s3:") for a in acts), handler
        assert "kms:Encrypt" not in acts and "kms:GenerateDataKey" not in acts, handler


def test_the_authorizer_writes_only_audit_items_and_usage_plan_marks(synth: Any) -> None:
    """It audits the credentials it refuses (optiloop.auth.refusals) and marks the principals it
    registered in the usage plan (optiloop.auth.usage_plan): item writes held by IAM to the partitions
    whose key starts with AUDIT or is a registration mark's, never a key, project or other document."""
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    stmts = role_statements(synth, "functions.authorizer.handler.handler")
    writing = [st for st in stmts if set(as_list(st["Action"])) & writes]
    allowed = [
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["AUDIT*"]}},
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"DOC#{MARK_KIND}#*", f"DOCS#{MARK_KIND}#*"]}},
    ]
    assert sorted((st["Condition"] for st in writing), key=str) == sorted(allowed, key=str)
    assert "dynamodb:BatchWriteItem" not in actions(stmts) and "dynamodb:Scan" not in actions(stmts)
    assert not any(a.startswith("s3:") for a in actions(stmts))


def test_s3_access_is_limited_to_each_functions_own_prefixes(synth: Any) -> None:
    expected = {
        "functions.workflow_steps.handler.handler": {
            ("s3:GetObject", "datasets/*"),
            ("s3:GetObject", "training/*"),
            ("s3:PutObject", "training/*"),
            ("s3:GetObject", "models/*"),
            ("s3:PutObject", "models/*"),
            # the AutoML fan-out records trials' artifacts and explains the best (optiloop.automl.fanout)
            ("s3:GetObject", "automl/*"),
            ("s3:PutObject", "automl/*"),
        },
        # golden-set parts and per-example results (optiloop.prompts.datasets / evals)
        "functions.evals.handler.handler": {
            ("s3:GetObject", "datasets/*"),
            ("s3:PutObject", "datasets/*"),
            ("s3:GetObject", "evals/*"),
            ("s3:PutObject", "evals/*"),
        },
        # model monitors read a version's artifact (its baseline.json), never write one
        "functions.monitoring.handler.handler": {("s3:GetObject", "models/*")},
        "functions.monitors.handler.handler": {("s3:GetObject", "models/*")},
        # training jobs: a dataset or runs snapshot in, channels and source under training/, the
        # job's model.tar.gz and log under models/
        "functions.training.handler.handler": {
            ("s3:GetObject", "datasets/*"),
            ("s3:GetObject", "training/*"),
            ("s3:PutObject", "training/*"),
            ("s3:GetObject", "models/*"),
            ("s3:PutObject", "models/*"),
        },
        # the registry reads a job's (or an AutoML trial's) artifact and writes versions and cards
        "functions.models.handler.handler": {
            ("s3:GetObject", "models/*"),
            ("s3:GetObject", "automl/*"),
            ("s3:PutObject", "models/*"),
        },
        # AutoML: tables and their reports under datasets/; trials' models read from automl/
        "functions.automl.handler.handler": {
            ("s3:GetObject", "datasets/*"),
            ("s3:PutObject", "datasets/*"),
            ("s3:GetObject", "automl/*"),
        },
        # batch scoring: a dataset in, predictions out under models/
        "functions.deployments.handler.handler": {
            ("s3:GetObject", "models/*"),
            ("s3:GetObject", "datasets/*"),
            ("s3:PutObject", "models/*"),
        },
        "functions.inference.handler.handler": {("s3:GetObject", "models/*")},
        # the cold tier of test histories (optiloop.testopt.history_snapshot)
        "functions.suggest.handler.handler": {("s3:GetObject", "testopt/*"), ("s3:PutObject", "testopt/*")},
        "functions.ingest.handler.handler": {("s3:GetObject", "testopt/*"), ("s3:PutObject", "testopt/*")},
        "functions.ingest_queue.handler.handler": {
            ("s3:GetObject", "testopt/*"),
            ("s3:PutObject", "testopt/*"),
        },
    }
    audit_writers = {"functions.audit_digest.handler.handler": {("s3:PutObject", "digests/*")}}
    for handler in EXPECTED_HANDLERS:
        pairs = set()
        for action, resource in resources_for(role_statements(synth, handler), "s3:"):
            rendered = flat(resource)
            if action == "s3:ListBucket":
                assert rendered.startswith("<DataArtifacts") and rendered.endswith(".Arn>"), rendered
                continue
            if handler in audit_writers:  # sealed digests go to the Object-Lock audit bucket only
                assert rendered.startswith("<DataAudit"), (handler, rendered)
            else:
                assert rendered.startswith("<DataArtifacts"), (handler, rendered)
            pairs.add((action, rendered.split(">/", 1)[1]))
        assert pairs == {**expected, **audit_writers}.get(handler, set()), handler


def test_kms_use_is_tied_to_the_service_that_needs_it(synth: Any) -> None:
    for handler in EXPECTED_HANDLERS:
        for stmt in role_statements(synth, handler):
            acts = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            signing = set(acts) <= {
                "kms:Sign",
                "kms:Verify",
                "kms:GetPublicKey",
            } and "AuditSigningKey" in str(
                stmt["Resource"]
            )  # the audit digests' signing key: used directly, not through a service
            if (
                any(a.startswith("kms:") for a in acts)
                and handler != "functions.ingest_queue.handler.handler"
                and not signing
            ):
                assert "kms:ViaService" in str(stmt.get("Condition")), (handler, stmt)
                assert not any("*" in a for a in acts)
