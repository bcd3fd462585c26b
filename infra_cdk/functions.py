"""Every Lambda of a tenant: code, layer, role, log group and the table/bucket actions it may use.

One table (`SPECS`) says, per function, what it is allowed to do; `Functions` turns each line into a
function with its *own* role, so a bug or a leaked credential in one function reaches only what that
function needs: suggest can Query but never Scan; coverage, audit and the authorizer only read;
no role has Scan, DeleteTable or a `dynamodb:*`-style wildcard.

Packaging. The handler string is `functions.<name>.handler.<attr>` (see functions/__init__.py), so
each code package is the repository's `functions/` package cut down to `__init__.py`, `common/` and
the function's own folder: the asset is the repository root with everything else excluded (CDK
prunes excluded folders, so .venv and build/ are never walked). Dependencies come from the layers
layers/build.py builds (`core`: optiloop, fastapi, pydantic, numpy; `aws`: Mangum, Powertools), read
from `build/layers/<name>` when `make layers` has run, else from an empty placeholder so that synth
and the tests work without building anything.

Runtime: python3.11 on x86_64, because layers/build.py installs manylinux2014_x86_64 wheels. Moving
to arm64 (about 20% cheaper per GB-second) is this constant plus build.py's PLATFORM, together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.data import MODELS, TRAINING, DataStore
from infra_cdk.nag import acknowledge, acknowledge_wildcards, arn_of
from infra_cdk.tenant import TenantConfig

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("core", "aws")
PLACEHOLDER_LAYER = Path(__file__).resolve().parent / "placeholder_layer"
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64

# Item-level DynamoDB actions. TransactWriteItems/TransactGetItems are not IAM actions of their own:
# a transaction is authorised by the actions of its parts (Put -> PutItem, Update -> UpdateItem,
# ConditionCheck -> ConditionCheckItem), so "may write in transactions" is READ + WRITE below.
READ = ("GetItem", "BatchGetItem", "Query", "ConditionCheckItem")
# DeleteItem: the adapter's staged commit (a write of more than 100 items) deletes its own staged items
# when it aborts (shared/optiloop/store/dynamodb/commit.py); no code path deletes a record of record.
WRITE = ("PutItem", "UpdateItem", "DeleteItem")
IDEMPOTENCY = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")  # Powertools' persistence layer


@dataclass(frozen=True)
class FunctionSpec:
    """What one function is and may do. `package` is its folder under functions/."""

    key: str
    package: str
    attr: str
    memory_mb: int
    timeout_s: int
    description: str
    table: tuple[str, ...] = READ
    reads: tuple[str, ...] = ()  # artifacts-bucket prefixes it may GetObject
    writes: tuple[str, ...] = ()  # artifacts-bucket prefixes it may PutObject
    env: dict[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = LAYERS

    @property
    def handler(self) -> str:
        return f"functions.{self.package}.handler.{self.attr}"


# API Gateway gives up on an integration after 29 s, so HTTP functions never need longer.
SPECS: tuple[FunctionSpec, ...] = (
    # Runs before every request: core layer only (no Mangum/Powertools) for the smallest cold start.
    FunctionSpec("authorizer", "authorizer", "handler", memory_mb=512, timeout_s=5,
                 description="API key check in front of every route but /v1/healthz",
                 table=("GetItem", "Query"), layers=("core",)),
    FunctionSpec("projects", "projects", "handler", memory_mb=512, timeout_s=29,
                 description="projects, constraints, API keys, health", table=READ + WRITE),
    # 1769 MB is one full vCPU: suggest is numpy-bound and its p95 budget is 500 ms.
    FunctionSpec("suggest", "suggest", "handler", memory_mb=1769, timeout_s=29,
                 description="tests:suggest and the test listing", table=READ + WRITE),
    FunctionSpec("ingest", "ingest", "handler", memory_mb=1024, timeout_s=29,
                 description="runs:ingest", table=READ + WRITE),
    FunctionSpec("coverage", "coverage", "handler", memory_mb=1024, timeout_s=29,
                 description="coverage reports (read only)"),
    FunctionSpec("audit", "audit", "handler", memory_mb=512, timeout_s=29,
                 description="audit log and chain verification (read only)"),
    FunctionSpec("ingest_queue", "ingest_queue", "handler", memory_mb=1024, timeout_s=60,
                 description="bulk ingest from SQS", table=READ + WRITE),
    FunctionSpec("retrain_check", "retrain_check", "handler", memory_mb=512, timeout_s=120,
                 description="scheduled: flag projects whose model is behind their runs", table=READ + WRITE),
    FunctionSpec("prepare_training", "workflow_steps", "prepare_training", memory_mb=1024, timeout_s=300,
                 description="workflow: snapshot a project's runs for a training job", table=READ + WRITE,
                 reads=(TRAINING,), writes=(TRAINING,)),
    FunctionSpec("record_model", "workflow_steps", "record_model", memory_mb=512, timeout_s=60,
                 description="workflow: register a trained model", table=READ + WRITE,
                 reads=(TRAINING, MODELS), writes=(MODELS,)),
)  # fmt: skip


def function_code(package: str) -> lambda_.Code:
    """The cut-down `functions/` package for one function (see the module docstring). Git ignore
    semantics, because glob mode's `*` skips dotfiles (.git, .venv) and cannot re-include below it."""
    return lambda_.Code.from_asset(
        str(REPO),
        ignore_mode=IgnoreMode.GIT,
        exclude=[
            "/*",
            "!/functions",
            "/functions/*",
            "!/functions/__init__.py",
            "!/functions/common",
            f"!/functions/{package}",
            "__pycache__",
            "*.pyc",
        ],
    )


LAYERS_CONTEXT = "optiloop:layers"
"""Context: "auto" (default: built layers where present), "built" (require them: deploys) or
"placeholder" (never read build/: the tests, which must not hash and copy ~100 MB per run)."""


def layer_code(name: str, source: str = "auto") -> lambda_.Code:
    built = REPO / "build" / "layers" / name
    if source not in ("auto", "built", "placeholder"):
        raise ValueError(f"context {LAYERS_CONTEXT} must be auto, built or placeholder, got {source!r}")
    if source == "built" and not built.is_dir():
        raise FileNotFoundError(f"{built} is missing: run `make layers` before deploying")
    use_built = source == "built" or (source == "auto" and built.is_dir())
    return lambda_.Code.from_asset(str(built if use_built else PLACEHOLDER_LAYER))


class Functions(Construct):
    """All functions of a tenant, by `FunctionSpec.key`."""

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: TenantConfig,
        data: DataStore,
        specs: tuple[FunctionSpec, ...] = SPECS,
    ) -> None:
        super().__init__(scope, cid)
        self._config = config
        self._data = data
        self.layers = {
            name: lambda_.LayerVersion(
                self,
                f"{name.title()}Layer",
                code=layer_code(name, str(self.node.try_get_context(LAYERS_CONTEXT) or "auto")),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=f"OptiLoop {config.tenant}: layers/{name} (see layers/build.py)",
            )
            for name in LAYERS
        }
        self.by_key: dict[str, lambda_.Function] = {s.key: self._function(s) for s in specs}
        self.specs = {s.key: s for s in specs}

    def __getitem__(self, key: str) -> lambda_.Function:
        return self.by_key[key]

    def _function(self, spec: FunctionSpec) -> lambda_.Function:
        cid = "".join(part.title() for part in spec.key.split("_"))
        data, config = self._data, self._config
        log_group = logs.LogGroup(
            self,
            f"{cid}Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,  # operational logs; the audit trail lives in the table
        )
        role = iam.Role(
            self,
            f"{cid}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"OptiLoop {config.tenant} {spec.key}: only its own table actions and S3 prefixes",
        )
        log_group.grant_write(role)
        fn = lambda_.Function(
            self,
            cid,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=function_code(spec.package),
            handler=spec.handler,
            layers=[self.layers[name] for name in spec.layers],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            description=f"OptiLoop {config.tenant}: {spec.description}",
            environment={
                "OPTILOOP_BACKEND": "aws",
                "OPTILOOP_TABLE": data.table.table_name,
                "OPTILOOP_BUCKET": data.artifacts.bucket_name,
                # for the S3 blob store's explicit SSE-KMS header: without it a PUT that names SSE-S3
                # would override the bucket's default and store the object outside the tenant key
                "OPTILOOP_KMS_KEY_ID": data.key.key_arn,
                "OPTILOOP_TENANT": config.tenant,
                "POWERTOOLS_SERVICE_NAME": spec.key,
                "POWERTOOLS_METRICS_NAMESPACE": "OptiLoop",
                **spec.env,
            },
        )
        self._grant_table(role, spec.table)
        self._grant_prefixes(role, data.artifacts, spec.reads, ["s3:GetObject"], ["kms:Decrypt"])
        self._grant_prefixes(role, data.artifacts, spec.writes, ["s3:PutObject"], ["kms:GenerateDataKey"])
        acknowledge_wildcards(
            role,
            ["Resource::*"],
            "X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) support no "
            "resource-level permissions, so '*' is the narrowest resource IAM accepts.",
        )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            "Pinned to python3.11 on purpose: it is the core's minimum version and the layer's "
            "compiled wheels (numpy, pydantic-core) are built for cp311; move both together.",
        )
        return fn

    def _grant_table(self, role: iam.Role, actions: tuple[str, ...]) -> None:
        table, key = self._data.table, self._data.key
        role.add_to_policy(
            iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in actions], resources=[table.table_arn])
        )
        if "Query" in actions and self._data.shape.indexes:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[f"{table.table_arn}/index/{i.name}" for i in self._data.shape.indexes],
                )
            )
        writes = any(a in WRITE for a in actions)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey"]
                + (["kms:Encrypt", "kms:GenerateDataKey"] if writes else []),
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"dynamodb.{Stack.of(self).region}.amazonaws.com"}
                },
            )
        )

    def _grant_prefixes(
        self,
        role: iam.Role,
        bucket: s3.IBucket,
        prefixes: tuple[str, ...],
        s3_actions: list[str],
        kms_actions: list[str],
    ) -> None:
        if not prefixes:
            return
        role.add_to_policy(
            iam.PolicyStatement(
                actions=s3_actions, resources=[bucket.arn_for_objects(f"{p}*") for p in prefixes]
            )
        )
        if "s3:GetObject" in s3_actions:
            # Without ListBucket S3 answers a missing key with 403, not 404, and the blob store's
            # "not there yet" (e.g. prepare_training's idempotency check) would read as a failure.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=kms_actions,
                resources=[self._data.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}},
            )
        )
        acknowledge_wildcards(
            role,
            [f"Resource::{arn_of(bucket)}/{p}*" for p in prefixes],
            "Scoped to one key prefix of the tenant's artifacts bucket: objects under a prefix "
            "have generated names, so the trailing '*' is the least privilege S3 can express.",
        )

    def grant_idempotency(self, key: str, table_arn: str) -> None:
        """Powertools idempotency records for the queue consumer, in their own small table."""
        self.by_key[key].add_to_role_policy(
            iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in IDEMPOTENCY], resources=[table_arn])
        )
