"""Every Lambda of a tenant: code, layer, role, log group and the table/bucket actions it may use.

One table (`SPECS`) says, per function, what it is allowed to do; `Functions` turns each line into a
function with its *own* role, so a bug or a leaked credential in one function reaches only what that
function needs: suggest can Query but never Scan; coverage and audit only read, the authorizer too but
for appending audit records (its refusals; IAM holds it to the audit partitions);
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

Functions that call models (`FunctionSpec.models`: generate, evals) also get the tenant's model
catalogue in their code package, `bedrock:InvokeModel` on exactly the catalogue's Bedrock models and
`secretsmanager:GetSecretValue` on exactly its provider-key secrets (infra_cdk/models.py); no other
function can call a model or read a secret.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.data import AUTOML, DATASETS, EVALS, MODELS, TESTOPT, TRAINING, DataStore
from infra_cdk.models import BUNDLED_NAME, BUNDLED_PATH, MODELS_ENV, SECRETS_ENV, BedrockModel, ModelAccess
from infra_cdk.nag import acknowledge, acknowledge_wildcards, arn_of
from infra_cdk.tenant import TenantConfig
from optiloop.auth.usage_plan import MARK_KIND

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("core", "aws")  # what a function carries unless its spec says otherwise
ALL_LAYERS = (*LAYERS, "sql")  # every layer the tenant publishes (sql: the automl function's SQL connectors)
TRAINING_JOBS_DIR = "/var/task/training_jobs"  # where a bundled training_jobs/ lands in the function
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
    models: bool = False  # calls models: the catalogue, its Bedrock models and provider-key secrets
    bundle_dirs: tuple[str, ...] = ()  # repository folders shipped in its code package (training_jobs)
    # SageMaker real-time endpoints of the tenant (`{prefix}-*`): "invoke" (InvokeEndpoint) or "manage"
    # (create/describe/update them, and pass the tenant's SageMaker execution role to them)
    endpoints: str = ""
    # the tenant's secrets under `optiloop/<tenant>/` (optiloop.secrets.aws): "connectors" creates and
    # deletes connector credentials; "ingest" reads them and makes the project's PII hashing key
    secrets: str = ""
    # mirrors registered versions to SageMaker model package groups `{prefix}-*` and keeps their
    # approval status in step (optiloop.models.registry.mirror): whoever registers, archives or decides
    model_packages: bool = False
    # appends audit records only (the authorizer's refused credentials, optiloop.auth.refusals): item
    # writes restricted to the audit partitions (`AUDIT...` partition keys) by IAM, whatever the code
    audit_writes: bool = False
    # and the usage plan's registration marks (optiloop.auth.usage_plan.MARK_KIND): the authorizer
    # records that it registered a principal, so other containers need not ask API Gateway again
    usage_marks: bool = False

    @property
    def handler(self) -> str:
        return f"functions.{self.package}.handler.{self.attr}"


# API Gateway gives up on an integration after 29 s, so HTTP functions never need longer, with one
# deliberate exception: evals (see its line).
SPECS: tuple[FunctionSpec, ...] = (
    # Runs before every request: core layer only (no Mangum/Powertools) for the smallest cold start.
    FunctionSpec("authorizer", "authorizer", "handler", memory_mb=512, timeout_s=5,
                 description="API key check in front of every route but /v1/healthz",
                 table=("GetItem", "BatchGetItem", "Query"), layers=("core",), audit_writes=True,
                 usage_marks=True),
    FunctionSpec("projects", "projects", "handler", memory_mb=512, timeout_s=29,
                 description="projects, constraints, API keys, health", table=READ + WRITE),
    # 1769 MB is one full vCPU: suggest is numpy-bound and its p95 budget is 500 ms.
    # suggest and ingest read and write the history snapshots a new container starts from (testopt/)
    FunctionSpec("suggest", "suggest", "handler", memory_mb=1769, timeout_s=29,
                 description="tests:suggest and the test listing", table=READ + WRITE,
                 reads=(TESTOPT,), writes=(TESTOPT,)),
    FunctionSpec("ingest", "ingest", "handler", memory_mb=1024, timeout_s=29,
                 description="runs:ingest", table=READ + WRITE, reads=(TESTOPT,), writes=(TESTOPT,)),
    FunctionSpec("coverage", "coverage", "handler", memory_mb=1024, timeout_s=29,
                 description="coverage reports (read only)"),
    FunctionSpec("audit", "audit", "handler", memory_mb=512, timeout_s=29,
                 description="audit log and chain verification (read only)"),
    # Every minute (schedules.AuditDigestSchedule): signs and stores the tenant's next audit digest;
    # its KMS and audit-bucket rights come from Functions.grant_audit_digests, called by the stack.
    FunctionSpec("audit_digest", "audit_digest", "handler", memory_mb=512, timeout_s=60,
                 description="seals the signed audit digest over every shard head", table=(*READ, "PutItem")),
    # Authoring and approvals move small JSON documents (Jinja2 compiles, policy checks): 512 MB.
    FunctionSpec("prompts", "prompts", "handler", memory_mb=512, timeout_s=29,
                 description="prompts, versions, diffs, deployments and rollback", table=READ + WRITE),
    FunctionSpec("approvals", "approvals", "handler", memory_mb=512, timeout_s=29,
                 description="approval requests, four-eyes decisions, policies", table=READ + WRITE,
                 model_packages=True),
    # One full vCPU for scoring (ROUGE/BLEU/F1 and bootstrap CIs over up to 1,000 examples, twice with
    # the comparison). 300 s outlives API Gateway's 29 s on purpose: a run the gateway answers with a
    # 504 still finishes and records its result (eval.completed in the audit log, approval evidence)
    # instead of being cut off after its model calls were paid for; infra_cdk/README.md, "Evals".
    FunctionSpec("evals", "evals", "handler", memory_mb=1769, timeout_s=300,
                 description="golden-set datasets and synchronous evaluation runs", table=READ + WRITE,
                 reads=(DATASETS, EVALS), writes=(DATASETS, EVALS), models=True),
    # Mostly waiting on the provider; 1024 MB buys the CPU for guardrail scans, rendering and hashing.
    FunctionSpec("generate", "generate", "handler", memory_mb=1024, timeout_s=29,
                 description="generate, traces, response cache", table=READ + WRITE, models=True),
    # Training jobs: copies a dataset or a runs snapshot into training/ (the job's channels), bundles
    # training_jobs/<entry point> as sourcedir.tar.gz, starts and polls SageMaker; once a job ends it
    # checks the model.tar.gz under models/ and keeps the log there. SageMaker rights and iam:PassRole
    # on the training role only: Functions.grant_training, called by the stack.
    FunctionSpec("training", "training", "handler", memory_mb=1024, timeout_s=29,
                 description="training jobs on SageMaker: start, poll, stop, logs", table=READ + WRITE,
                 reads=(DATASETS, TRAINING, MODELS), writes=(TRAINING, MODELS),
                 env={"OPTILOOP_TRAINER": "sagemaker", "OPTILOOP_TRAINING_JOBS_DIR": TRAINING_JOBS_DIR},
                 bundle_dirs=("training_jobs",)),
    # Registration reads a model.tar.gz (up to the body limit, or a training job's artifact), loads it
    # with numpy to check it and writes it with its card under models/: 1024 MB for the CPU and memory.
    # (and reads automl/: registering an AutoML trial copies its refit model into models/)
    FunctionSpec("models", "models", "handler", memory_mb=1024, timeout_s=29,
                 description="model registry: models, versions, stages, aliases, cards, lineage",
                 table=READ + WRITE, reads=(MODELS, AUTOML), writes=(MODELS,), model_packages=True),
    # AutoML's HTTP side: ingest parses, types and profiles an upload (numpy) and writes the table and
    # its report under datasets/; experiments are documents, trials' models are read from automl/.
    # The search itself needs scikit-learn and xgboost, which no Lambda layer carries: a run starts
    # the AutoML state machine (infra_cdk/automl_workflow.py grants it and sets OPTILOOP_AUTOML_RUNNER
    # to stepfunctions; "none" until then), whose trials are SageMaker training jobs.
    FunctionSpec("automl", "automl", "handler", memory_mb=1769, timeout_s=29,
                 description="AutoML: tabular dataset ingest, experiments, trials, leaderboards",
                 table=READ + WRITE, reads=(DATASETS, AUTOML), writes=(DATASETS,),
                 env={"OPTILOOP_AUTOML_RUNNER": "none"}, secrets="ingest", layers=(*LAYERS, "sql")),
    # Connectors (optiloop.automl.connectors): small documents; credentials go to Secrets Manager under
    # the tenant's prefix and never into a document. Reading through them is the automl function's.
    FunctionSpec("connectors", "connectors", "handler", memory_mb=512, timeout_s=29,
                 description="AutoML connectors: folder, S3 and SQL sources of tables", table=READ + WRITE,
                 secrets="connectors"),
    # Online decisions: the decide and reward hot paths (numpy, documents only; no bucket, no models).
    # Policies stay cached while the container is warm (optiloop.decisions.cache); 1024 MB for the CPU.
    FunctionSpec("decisions", "decisions", "handler", memory_mb=1024, timeout_s=29,
                 description="online decisions and rewards (bandits, A/B splits)", table=READ + WRITE),
    # Deployments: small documents, plus batch scoring (a dataset in, predictions JSON Lines out under
    # models/, numpy at >10,000 rows/s): one full vCPU; batch jobs of 50,000 rows take a few seconds.
    FunctionSpec("deployments", "deployments", "handler", memory_mb=1769, timeout_s=29,
                 description="prompt and model deployments, promote/rollback, serving metrics, batch scoring",
                 table=READ + WRITE, reads=(MODELS, DATASETS), writes=(MODELS,), endpoints="manage"),
    # The predict hot path: numpy evaluation of up to 10,000 rows; 1769 MB is one full vCPU, and the
    # artifacts it loads (read-only, models/ only) stay cached while the container is warm. Writes
    # only the per-minute serving metrics and the sampled captures (documents, never per row).
    FunctionSpec("inference", "inference", "handler", memory_mb=1769, timeout_s=29,
                 description="model predictions behind OptiLoop's canary/shadow router",
                 table=READ + WRITE, reads=(MODELS,), endpoints="invoke"),
    FunctionSpec("ingest_queue", "ingest_queue", "handler", memory_mb=1024, timeout_s=60,
                 description="bulk ingest from SQS", table=READ + WRITE, reads=(TESTOPT,), writes=(TESTOPT,)),
    FunctionSpec("retrain_check", "retrain_check", "handler", memory_mb=512, timeout_s=120,
                 description="scheduled: flag projects whose model is behind their runs", table=READ + WRITE),
    # Model monitors. Both read capture windows (documents) and the version's artifact under models/
    # (read-only: its baseline.json); both may open alerts and publish them to the alarm topic
    # (Functions.grant_alarm_topic, called by the stack). The scheduled one evaluates every due
    # monitor of the tenant in one tick: 300 s, one full vCPU for the numpy statistics.
    FunctionSpec("monitoring", "monitoring", "handler", memory_mb=1024, timeout_s=29,
                 description="model monitors, alerts and label feedback", table=READ + WRITE,
                 reads=(MODELS,)),
    FunctionSpec("monitors", "monitors", "handler", memory_mb=1769, timeout_s=300,
                 description="scheduled: evaluate the model monitors that are due", table=READ + WRITE,
                 reads=(MODELS,)),
    # The experiment workflow's steps (optiloop.workflows.steps): start and poll training jobs (the
    # training function's rights, Functions.grant_training), register versions, open approval
    # requests and deploy (the deployments function's endpoint rights). 300 s: materialising a
    # dataset or a runs snapshot into a job's channels is the longest step. Also the AutoML fan-out's
    # steps (optiloop.automl.fanout): plans batches with Optuna (the sql layer carries it), starts
    # and polls trial jobs with the same rights, and writes trials' artifacts under automl/.
    FunctionSpec("workflow_steps", "workflow_steps", "handler", memory_mb=1769, timeout_s=300,
                 description="experiment workflow and AutoML fan-out steps: train, register, deploy",
                 table=READ + WRITE, reads=(DATASETS, TRAINING, MODELS, AUTOML),
                 writes=(TRAINING, MODELS, AUTOML), layers=(*LAYERS, "sql"),
                 env={"OPTILOOP_TRAINER": "sagemaker", "OPTILOOP_TRAINING_JOBS_DIR": TRAINING_JOBS_DIR},
                 bundle_dirs=("training_jobs",), endpoints="manage", model_packages=True),
    # Start and read experiment workflow executions (HTTP): states:StartExecution on the one state
    # machine and its history (Functions.grant_workflow).
    FunctionSpec("workflows", "workflows", "handler", memory_mb=512, timeout_s=29,
                 description="experiment workflow executions: start, status, step history",
                 table=READ + WRITE),
    # Webhook subscriptions and their delivery log (documents); ping sends one request (5 s timeout).
    FunctionSpec("webhooks", "webhooks", "handler", memory_mb=512, timeout_s=29,
                 description="webhook subscriptions, delivery log, ping", table=READ + WRITE),
    # Every minute (schedules.WebhookDispatchSchedule): sends the due deliveries (8 at a time, 5 s
    # timeout each, at most 100 a tick) and puts events on the default EventBridge bus
    # (Functions.grant_event_bus). 120 s: a tick of slow receivers ends well inside the claim lease.
    FunctionSpec("webhook_dispatch", "webhook_dispatch", "handler", memory_mb=512, timeout_s=120,
                 description="scheduled: send due webhook deliveries, publish events to EventBridge",
                 table=READ + WRITE),
)  # fmt: skip


def function_code(
    package: str, extra_files: dict[str, Path] | None = None, bundle_dirs: tuple[str, ...] = ()
) -> lambda_.Code:
    """The cut-down `functions/` package for one function (see the module docstring). Git ignore
    semantics, because glob mode's `*` skips dotfiles (.git, .venv) and cannot re-include below it.

    `extra_files` (name at the code root -> source file; the model catalogue) cannot be expressed as
    excludes of the repository, so such a package is staged in a temporary folder; the asset hash is
    taken from content, so staging in a fresh folder per synth changes nothing in the template."""
    if extra_files:
        return lambda_.Code.from_asset(str(_staged_code(package, extra_files)))
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
            *[f"!/{d}" for d in bundle_dirs],
            "__pycache__",
            "*.pyc",
        ],
    )


def _staged_code(package: str, extra_files: dict[str, Path]) -> Path:
    root = Path(tempfile.mkdtemp(prefix=f"optiloop-{package}-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)  # CDK has copied it into the assembly by then
    src, pkg = REPO / "functions", root / "functions"
    pkg.mkdir()
    shutil.copy2(src / "__init__.py", pkg / "__init__.py")
    for part in ("common", package):
        shutil.copytree(src / part, pkg / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name, path in extra_files.items():
        shutil.copy2(path, root / name)
    return root


CONNECTOR_ROLE_PREFIX = "optiloop-connector-"  # roles S3 connectors may name (`role_arn`) on AWS

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
        models: ModelAccess | None = None,
        specs: tuple[FunctionSpec, ...] = SPECS,
    ) -> None:
        super().__init__(scope, cid)
        self._config = config
        self._data = data
        self._models = models or ModelAccess()
        self.layers = {
            name: lambda_.LayerVersion(
                self,
                f"{name.title()}Layer",
                code=layer_code(name, str(self.node.try_get_context(LAYERS_CONTEXT) or "auto")),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=f"OptiLoop {config.tenant}: layers/{name} (see layers/build.py)",
            )
            for name in ALL_LAYERS
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
            code=function_code(spec.package, self._bundled(spec), spec.bundle_dirs),
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
                **self._model_env(spec),
                **({"OPTILOOP_SAGEMAKER_PREFIX": config.prefix} if spec.endpoints else {}),
                **({"OPTILOOP_MODEL_PACKAGE_GROUP_PREFIX": config.prefix} if spec.model_packages else {}),
                **({"OPTILOOP_SECRETS_PREFIX": f"optiloop/{config.tenant}"} if spec.secrets else {}),
                **spec.env,
            },
        )
        if spec.secrets:
            self._grant_secrets(role, spec.secrets)
        self._grant_table(role, spec.table)
        if spec.audit_writes:
            self._grant_item_writes(role, ["AUDIT*"])
        if spec.usage_marks:
            self._grant_item_writes(role, [f"DOC#{MARK_KIND}#*", f"DOCS#{MARK_KIND}#*"])
        if spec.models:
            self._grant_models(role)
        if spec.endpoints:
            self._grant_endpoints(role, spec.endpoints)
        if spec.model_packages:
            self._grant_model_packages(role)
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

    def _grant_secrets(self, role: iam.Role, use: str) -> None:
        """Secrets Manager under the tenant's prefix only (optiloop.secrets.aws): the connectors function
        creates, replaces and deletes `connectors/*`; the automl function reads them and makes the
        projects' PII hashing keys (`pii-hash/*`). Secrets use the account's aws/secretsmanager key."""
        stack = Stack.of(self)
        name = f"secret:optiloop/{self._config.tenant}"
        base = f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:{name}"
        connectors, pii = f"{base}/connectors/*", f"{base}/pii-hash/*"
        write = ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"]
        if use == "connectors":
            grants = [([*write, "secretsmanager:DeleteSecret"], [connectors])]
            scopes = ["connectors"]
        else:
            grants = [(["secretsmanager:GetSecretValue"], [connectors, pii]), (write, [pii])]
            scopes = ["connectors", "pii-hash"]
        for actions, resources in grants:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        nag = "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
        acknowledge_wildcards(
            role,
            [f"{nag}{name}/{scope}/*" for scope in scopes],
            "Secret names are generated per connector and project under the tenant's prefix, and "
            "Secrets Manager appends a random suffix to every ARN: the prefix is the narrowest scope.",
        )
        if use == "ingest":
            self._grant_connector_roles(role)

    def _grant_connector_roles(self, role: iam.Role) -> None:
        """S3 connectors that name a `role_arn` read with that role (optiloop.automl.connectors.s3): the
        ingest function may assume roles named `optiloop-connector-*` in any account, and each such
        role's trust policy decides whether it trusts this one (with the connector's external id)."""
        arn = f"arn:{Stack.of(self).partition}:iam::*:role/{CONNECTOR_ROLE_PREFIX}*"
        role.add_to_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[arn]))
        acknowledge_wildcards(
            role,
            [f"Resource::arn:<AWS::Partition>:iam::*:role/{CONNECTOR_ROLE_PREFIX}*"],
            "The accounts and role names of customers' S3 data are not known at deploy time; the "
            "grant is limited to the optiloop-connector-* naming convention and each role's trust "
            "policy (naming this role and an external id) is the other half of the check.",
        )

    def _bundled(self, spec: FunctionSpec) -> dict[str, Path] | None:
        path = self._models.path
        return {BUNDLED_NAME: path} if spec.models and path is not None else None

    def _model_env(self, spec: FunctionSpec) -> dict[str, str]:
        """Where the bundled catalogue is, and which secret fills which key variable: ARNs, never keys."""
        if not spec.models:
            return {}
        env = {MODELS_ENV: BUNDLED_PATH} if self._models.path is not None else {}
        if self._models.secrets:
            env[SECRETS_ENV] = json.dumps(dict(self._models.secrets), separators=(",", ":"))
        return env

    def _grant_models(self, role: iam.Role) -> None:
        stack = Stack.of(self)
        direct: list[str] = []
        for model in self._models.bedrock:
            region = model.region or stack.region
            if model.kind == "arn":
                direct.append(model.model_id)
            elif model.kind == "foundation":
                direct.append(f"arn:{stack.partition}:bedrock:{region}::foundation-model/{model.model_id}")
            else:
                self._grant_profile(role, model, region)
        if direct:
            role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=direct))
        if self._models.secrets:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[arn for _, arn in self._models.secrets],
                )
            )

    def _grant_profile(self, role: iam.Role, model: BedrockModel, region: str) -> None:
        """A cross-region inference profile: the profile, and its foundation model wherever the profile
        routes, but only when called through that profile."""
        stack = Stack.of(self)
        profile = f"arn:{stack.partition}:bedrock:{region}:{stack.account}:inference-profile/{model.model_id}"
        role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=[profile]))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[f"arn:{stack.partition}:bedrock:*::foundation-model/{model.foundation_id}"],
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile}},
            )
        )
        acknowledge_wildcards(
            role,
            [f"Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{model.foundation_id}"],
            "A cross-region inference profile routes each call to one of several regions AWS chooses "
            "and may extend, and Bedrock authorises the foundation model in that region: the region "
            "is the only wildcard, the model is named and the grant holds only through the profile.",
        )

    def _grant_endpoints(self, role: iam.Role, how: str) -> None:
        """SageMaker endpoints named `{tenant prefix}-*` only: InvokeEndpoint for the predict path; the
        lifecycle actions on the tenant's models, endpoint configs and endpoints for deployments."""
        stack = Stack.of(self)
        base = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
        name = f"{self._config.prefix}-*"
        endpoint = f"{base}:endpoint/{name}"
        if how == "invoke":
            invoke = iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[endpoint])
            role.add_to_policy(invoke)
        else:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "sagemaker:CreateModel", "sagemaker:DescribeModel",
                        "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
                        "sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint",
                    ],
                    resources=[f"{base}:model/{name}", f"{base}:endpoint-config/{name}", endpoint],
                )
            )  # fmt: skip
        acknowledge_wildcards(
            role,
            [f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{kind}/{name}"
             for kind in (("endpoint",) if how == "invoke" else ("endpoint", "endpoint-config", "model"))],
            "SageMaker endpoints, endpoint configs and models are created per model version with "
            "generated names under the tenant's prefix; the trailing '*' is the least privilege IAM "
            "can express for them.",
        )  # fmt: skip

    def _grant_model_packages(self, role: iam.Role) -> None:
        """The tenant's model package groups (`{prefix}-{model id}`) and the packages in them only."""
        stack = Stack.of(self)
        base = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
        name = f"{self._config.prefix}-*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage",
                    "sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage",
                ],
                resources=[f"{base}:model-package-group/{name}", f"{base}:model-package/{name}/*"],
            )
        )  # fmt: skip
        acknowledge_wildcards(
            role,
            [
                f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{kind}"
                for kind in (f"model-package-group/{name}", f"model-package/{name}/*")
            ],
            "One model package group per registered model, named after its id under the tenant's "
            "prefix, and SageMaker numbers the packages in it; the trailing '*' is the least "
            "privilege IAM can express for them.",
        )

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

    def _grant_item_writes(self, role: iam.Role, leading_keys: list[str]) -> None:
        """Item writes only under the given partition-key patterns: the audit trail's (every audit
        item's key starts with AUDIT: records, shard heads and registry, the anchor) or one document
        kind's; `dynamodb:LeadingKeys` holds IAM to that for every item of a transaction, so a bug in
        the function cannot write a key or project."""
        table, key = self._data.table, self._data.key
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": leading_keys}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
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

    def grant_training(self, key: str, training_role: iam.IRole, job_prefix: str) -> None:
        """What starting SageMaker training jobs takes, and no more: create/describe/stop (and the
        AddTags that CreateTrainingJob's Tags need) on this tenant's job names only, iam:PassRole on
        the one training role (infra_cdk/workflows.py) and only to SageMaker, and reading the jobs'
        CloudWatch logs. The role's ARN and the job prefix reach the function as environment."""
        fn, stack = self.by_key[key], Stack.of(self)
        assert fn.role is not None  # every function gets its own role in _function
        jobs = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:training-job/{job_prefix}-*"
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                resources=[jobs],
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        group = (
            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws/sagemaker/TrainingJobs"
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams"],
                resources=[group, f"{group}:*"],
            )
        )
        fn.add_environment("OPTILOOP_TRAINING_ROLE_ARN", training_role.role_arn)
        fn.add_environment("OPTILOOP_TRAINING_JOB_PREFIX", job_prefix)
        acknowledge_wildcards(
            fn.role,
            [
                f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/{job_prefix}-*",
                "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                "/aws/sagemaker/TrainingJobs:*",
            ],
            "Training jobs get generated names under this tenant's prefix, so the prefix is the scope; "
            "SageMaker writes one log stream per job and host into its fixed log group, and the "
            "function reads only that group.",
        )

    def grant_endpoint_role(self, keys: tuple[str, ...], endpoint_role: iam.IRole) -> None:
        """The functions that create SageMaker endpoints may pass the endpoint role, only to SageMaker;
        its ARN reaches the core as OPTILOOP_SAGEMAKER_ROLE_ARN (optiloop.models.serving.endpoint)."""
        for key in keys:
            fn = self.by_key[key]
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[endpoint_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            )
            fn.add_environment("OPTILOOP_SAGEMAKER_ROLE_ARN", endpoint_role.role_arn)

    def grant_workflow(self, key: str, state_machine: sfn.StateMachine, name: str) -> None:
        """Start executions of the experiment workflow and read their status and history: on that
        state machine and its executions only. The ARN reaches the core as
        OPTILOOP_EXPERIMENT_STATE_MACHINE_ARN (optiloop.workflows.engine)."""
        fn, stack = self.by_key[key], Stack.of(self)
        assert fn.role is not None
        state_machine.grant_start_execution(fn)
        executions = f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:{name}:*"
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:GetExecutionHistory"], resources=[executions]
            )
        )
        fn.add_environment("OPTILOOP_EXPERIMENT_STATE_MACHINE_ARN", state_machine.state_machine_arn)
        acknowledge_wildcards(
            fn.role,
            [f"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{name}:*"],
            "Executions are named by the platform (one per workflow run) under the one state machine: "
            "the state machine's name is the scope.",
        )

    def grant_alarm_topic(self, keys: tuple[str, ...], topic_arn: str) -> None:
        """Publish model alerts to the tenant's alarm topic: sns:Publish on that topic only, and the
        tenant key (the topic's) only through SNS; the ARN reaches the core as OPTILOOP_ALARM_TOPIC_ARN."""
        key = self._data.key
        via_sns = {"StringEquals": {"kms:ViaService": f"sns.{Stack.of(self).region}.amazonaws.com"}}
        for name in keys:
            fn = self.by_key[name]
            fn.add_environment("OPTILOOP_ALARM_TOPIC_ARN", topic_arn)
            fn.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[topic_arn]))
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                    conditions=via_sns,
                )
            )

    def grant_audit_digests(self, sealer: str, verifiers: tuple[str, ...], key: kms.IKey) -> None:
        """The sealer signs with the tenant's audit-signing key and writes digests/ of the Object-Lock
        audit bucket; verifiers (and the sealer) may only check signatures."""
        data = self._data
        for name in (sealer, *verifiers):
            fn = self.by_key[name]
            fn.add_environment("OPTILOOP_AUDIT_SIGNING_KEY", key.key_arn)
            key.grant(fn, "kms:Verify")
        fn = self.by_key[sealer]
        fn.add_environment("OPTILOOP_AUDIT_BUCKET", data.audit.bucket_name)
        key.grant(fn, "kms:Sign")
        role = fn.role
        assert isinstance(role, iam.Role)
        self._grant_prefixes(role, data.audit, ("digests/",), ["s3:PutObject"], ["kms:GenerateDataKey"])

    def grant_event_bus(self, emitters: tuple[str, ...], publisher: str) -> None:
        """Events go to the account's default EventBridge bus too (optiloop.webhooks.bus): the functions
        that emit keep them in the outbox (OPTILOOP_EVENT_BUS; no AWS right needed), the publisher may
        events:PutEvents on the default bus only."""
        stack = Stack.of(self)
        bus = f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/default"
        for key in (*emitters, publisher):
            self.by_key[key].add_environment("OPTILOOP_EVENT_BUS", "default")
        self.by_key[publisher].add_to_role_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus])
        )

    def grant_token_secret(self, keys: tuple[str, ...], secret: secretsmanager.ISecret) -> None:
        """Read the access-token signing secret (GetSecretValue on that one secret, its key only via
        Secrets Manager): the functions that verify tokens, i.e. the authorizer and the HTTP ones."""
        for name in keys:
            fn = self.by_key[name]
            fn.add_environment("OPTILOOP_TOKEN_SECRET_ARN", secret.secret_arn)
            secret.grant_read(fn)

    def grant_usage_plan(self, registrars: tuple[str, ...], retirer: str, plan_name: str) -> None:
        """Keep the per-principal keys of the usage plan (optiloop.auth.usage_plan): find the plan and a
        principal's key, create keys tagged with the plan and attach them (the authorizer and key
        management); key management also detaches and deletes them. The plan's name reaches the core as
        OPTILOOP_USAGE_PLAN: its id or ARN here would make a cycle (plan -> stage -> methods ->
        functions). Keys are made at run time, so their ids are unknown here; creating and deleting
        are bound to this plan's tag."""
        stack = Stack.of(self)
        gw = f"arn:{stack.partition}:apigateway:{stack.region}::"
        tagged = {"StringEquals": {"aws:RequestTag/optiloop:usage-plan": plan_name}}
        for key in (*registrars, retirer):
            fn = self.by_key[key]
            assert fn.role is not None
            fn.add_environment("OPTILOOP_USAGE_PLAN", plan_name)
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["apigateway:GET"], resources=[f"{gw}/usageplans", f"{gw}/apikeys"]
                )
            )
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["apigateway:POST", "apigateway:PUT"],
                    resources=[f"{gw}/apikeys", f"{gw}/tags/*"],
                    conditions=tagged,
                )
            )
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=["apigateway:POST"], resources=[f"{gw}/usageplans/*/keys"])
            )
            arn = "Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::"
            findings = [f"{arn}/tags/*", f"{arn}/usageplans/*/keys"]
            if key == retirer:
                fn.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=["apigateway:DELETE"], resources=[f"{gw}/usageplans/*/keys/*"]
                    )
                )
                fn.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=["apigateway:DELETE"],
                        resources=[f"{gw}/apikeys/*"],
                        conditions={"StringEquals": {"aws:ResourceTag/optiloop:usage-plan": plan_name}},
                    )
                )
                findings += [f"{arn}/usageplans/*/keys/*", f"{arn}/apikeys/*"]
            acknowledge_wildcards(
                fn.role,
                findings,
                "API keys are created at run time, one per principal, so their ids (and the plan's, which "
                "would make a dependency cycle) are not known at synth; creating and deleting keys is "
                "bound to the tenant plan's tag (optiloop:usage-plan).",
            )

    def grant_idempotency(self, key: str, table_arn: str) -> None:
        """Powertools idempotency records for the queue consumer, in their own small table."""
        self.by_key[key].add_to_role_policy(
            iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in IDEMPOTENCY], resources=[table_arn])
        )
