"""The experiment workflow's steps: train -> evaluate -> register -> (approve) -> deploy.

Each step is `fn(deps, state) -> result`, called with the whole state object and stored by the
workflow at the task's `result_key`. The same functions run in the local runner and in the
workflow-steps Lambda (functions/workflow_steps), so they are written for Step Functions' at-least-once
delivery: a step retried after a timeout finds what its first attempt did and returns it (one
training job per execution, one version per job, one approval request per version, one deployment
per execution).

Steps act for the person who started the workflow (`state["started_by"]`: their name, role and key
scope, recorded by the API that authenticated them) so that roles, four eyes and the audit trail
are the same as if they had made each call themselves.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optiloop.approvals import requests as approvals
from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.projects import get_project
from optiloop.store.records import Doc
from optiloop.workflows.training import NothingToTrain  # Prepare's Catch -> Skipped, by this name

Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_POLL_S = 3600


class StartedBy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: str
    project_id: str | None = None


class ModelRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: Id | None = Field(None, description="An existing model (`mdl_...`) of the project.")
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        None, description="Else a model name: found in the project, or created."
    )
    description: Annotated[str, Field(max_length=2000)] = Field(
        "", description="The description a model created by name gets."
    )


class Evaluation(BaseModel):
    """What the candidate must show to be registered: `metric` (as the training script reports it)
    at least `min_value` and, when `must_beat_production`, better than the production version's."""

    model_config = ConfigDict(extra="forbid")

    metric: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="The metric as the training job reports it (`auc`, `rmse`, ...); missing: the step fails."
    )
    greater_is_better: bool = Field(True, description="False for losses and errors (rmse, logloss).")
    min_value: float | None = Field(
        None, description="The bar it must reach (at most, when not greater_is_better); null: no bar."
    )
    must_beat_production: bool = Field(
        True, description="Also strictly beat the model's production version on the metric, if there is one."
    )


class DeploySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: Literal["staging", "production"] = Field(
        description="Where the version is deployed (production only once approved)."
    )
    strategy: dict[str, Any] | None = Field(
        None, description="As for POST /v1/deployments: `type` canary|blue_green|shadow, `traffic`."
    )
    slos: dict[str, Any] | None = Field(
        None, description="As for POST /v1/deployments: `latencyMsP95`, `errorRatePct`."
    )
    capture_rate: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        None, description="Share of requests captured for the monitors (0-1; null: 0.1, as for a deployment)."
    )


class ExperimentInput(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the state carries the steps' results too

    execution_id: Id
    project_id: Id
    started_by: StartedBy
    entry_point: Annotated[str, Field(min_length=1, max_length=100)]
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    inputs: dict[str, dict[str, str]]
    model: ModelRef
    evaluation: Evaluation
    approval: bool = False
    deploy: DeploySpec | None = None
    promote: Literal["staging"] | None = None
    min_runs: Annotated[int, Field(ge=1, le=10_000_000)] = 1
    instance_type: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # None: the default
    poll_seconds: Annotated[float, Field(ge=0, le=MAX_POLL_S)] = 60
    approval_poll_seconds: Annotated[float, Field(ge=0, le=24 * 3600)] = 300


def parse_input(state: dict[str, Any]) -> ExperimentInput:
    try:
        return ExperimentInput.model_validate(state)
    except ValidationError as e:
        raise InvalidInput(
            [FieldProblem(".".join(str(p) for p in err["loc"]), err["msg"]) for err in e.errors()]
        ) from None


def route_of(req: ExperimentInput) -> str:
    """What follows registration. Production is protected: deploying there always goes through an
    approval (the deployment step would refuse an unapproved version anyway, but failing late wastes a
    training run)."""
    if req.deploy is None:
        if req.approval:
            return "approve"
        return "promote" if req.promote else "register"
    if req.deploy.environment == "production" or req.approval:
        return "approve_then_deploy"
    return "deploy"


def principal(state: dict[str, Any]) -> Principal:
    s = parse_input(state).started_by
    return Principal(name=s.name, role=s.role, project_id=s.project_id, key_id=None)


def _claim(deps: Deps, kind: str, key: str, scope: str, data: dict[str, Any]) -> dict[str, Any]:
    """Record `data` under (kind, key) unless something is there; return what is stored."""
    existing = deps.store.docs.get(kind, key)
    if existing is not None:
        return dict(existing.data)
    try:
        deps.store.docs.create(Doc(kind=kind, id=key, scope=scope, sort=key, data=data))
    except Conflict:  # a concurrent attempt won: use its result
        won = deps.store.docs.get(kind, key)
        if won is None:  # pragma: no cover - create said it exists
            raise
        return dict(won.data)
    return data


# -- steps ----------------------------------------------------------------------------------------


def prepare_experiment(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """Validate, resolve (or create) the model, check there is data, decide the route."""
    from optiloop.models.registry import models as registry_models

    req = parse_input(state)
    who = principal(state)
    if req.model.model_id is None and req.model.name is None:
        raise InvalidInput(FieldProblem("model", "name a model_id, or a name to find or create"))
    get_project(deps, req.project_id)
    for channel, source in req.inputs.items():
        runs_of = source.get("project_runs")
        if runs_of is not None:
            get_project(deps, runs_of)
            have = deps.store.runs.max_seq(runs_of)
            if have < req.min_runs:
                raise NothingToTrain(
                    f"channel {channel!r}: project {runs_of!r} has {have} runs; "
                    f"the workflow needs {req.min_runs}"
                )
    if req.model.model_id is not None:
        model = registry_models.get_model(deps, who, req.model.model_id)
    else:
        assert req.model.name is not None
        claim = deps.store.docs.get("model_name", f"{req.project_id}/{req.model.name}")
        if claim is not None:
            model = registry_models.get_model(deps, who, claim.data["id"])
        else:
            try:
                model = registry_models.create_model(
                    deps, who, req.project_id, req.model.name, req.model.description
                )
            except Conflict:  # created by a concurrent attempt of this step
                claim = deps.store.docs.require(
                    "model_name", f"{req.project_id}/{req.model.name}", field="model.name", what="model"
                )
                model = registry_models.get_model(deps, who, claim.data["id"])
    if model.project_id != req.project_id:
        raise InvalidInput(FieldProblem("model.model_id", "belongs to another project"))
    return {"model_id": model.id, "model_name": model.name, "route": route_of(req)}


def start_training(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    from optiloop.models.training import jobs

    req = parse_input(state)
    claim_key = f"{req.execution_id}/training"
    existing = deps.store.docs.get("workflow_claim", claim_key)
    if existing is not None:
        return dict(existing.data)
    job = jobs.create_job(
        deps,
        principal(state),
        req.project_id,
        req.entry_point,
        req.hyperparameters,
        req.inputs,
        instance_type=req.instance_type,
    )
    return _claim(
        deps,
        "workflow_claim",
        claim_key,
        req.project_id,
        {"job_id": job.id, "status": job.status, "failure_reason": job.failure_reason},
    )


def check_training(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    from optiloop.models.training import jobs

    job_id = state["training"]["job_id"]
    job = jobs.get_job(deps, principal(state), job_id)  # refreshes from the trainer while running
    return {
        "job_id": job.id,
        "status": job.status,
        "metrics": job.metrics,
        "failure_reason": job.failure_reason,
        "artifact_sha256": job.artifact_sha256,
    }


def evaluate(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """Compare the candidate's metric with the floor and with the production version's."""
    from optiloop.models.registry import models as registry_models

    req = parse_input(state)
    ev = req.evaluation
    metrics: dict[str, float] = state["training"].get("metrics") or {}
    if ev.metric not in metrics:
        raise InvalidInput(
            FieldProblem(
                "evaluation.metric",
                f"the training job reported no {ev.metric!r}; it reported {sorted(metrics) or 'nothing'}",
            )
        )
    value = float(metrics[ev.metric])
    sign = 1.0 if ev.greater_is_better else -1.0
    out: dict[str, Any] = {"metric": ev.metric, "value": value, "min_value": ev.min_value, "champion": None}
    if ev.min_value is not None and sign * (value - ev.min_value) < 0:
        return {
            **out,
            "outcome": "not_better",
            "reason": f"{ev.metric} {value:.4g} misses {ev.min_value:.4g}",
        }
    model = registry_models.get_model(deps, principal(state), state["experiment"]["model_id"])
    champion_id = model.aliases.get("production")
    if ev.must_beat_production and champion_id:
        champ = deps.store.docs.get("model_version", champion_id)
        champ_value = (champ.data.get("metrics") or {}).get(ev.metric) if champ else None
        if champ_value is not None:
            out["champion"] = {"model_version_id": champion_id, "value": float(champ_value)}
            if sign * (value - float(champ_value)) <= 0:
                return {
                    **out,
                    "outcome": "not_better",
                    "reason": f"{ev.metric} {value:.4g} does not beat production's {float(champ_value):.4g}",
                }
    return {**out, "outcome": "register", "reason": "passed"}


def register_version(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    from optiloop.models.registry import versions

    model_id, job_id = state["experiment"]["model_id"], state["training"]["job_id"]
    claim = deps.store.docs.get("model_version_source", f"{model_id}/training_job/{job_id}")
    if claim is not None:  # registered by an earlier attempt of this step
        return {"model_version_id": claim.data["version_id"], "version": claim.data["version"]}
    v = versions.register_from_job(
        deps, principal(state), model_id, job_id, description=f"trained by workflow {state['execution_id']}"
    )
    return {"model_version_id": v.id, "version": v.version}


def request_approval(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    import optiloop.models.registry  # noqa: F401 - registers model_version with the approvals module

    version_id = state["version"]["model_version_id"]
    open_claim = deps.store.docs.get("approval_open", f"model_version:{version_id}")
    if open_claim is not None:
        return {"approval_id": open_claim.data["approval_id"], "status": "PendingApproval"}
    approval = approvals.submit(
        deps,
        principal(state),
        "model_version",
        version_id,
        comment=f"submitted by workflow {state['execution_id']}",
    )
    return {"approval_id": approval["id"], "status": "PendingApproval"}


def check_approval(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """The version's status: Approved, PendingApproval, or anything else (Rejected, Archived)."""
    version_id = state["version"]["model_version_id"]
    doc = deps.store.docs.get("model_version", version_id)
    if doc is None:
        raise NotFound(f"model version '{version_id}' vanished")
    return {"approval_id": (state.get("review") or {}).get("approval_id"), "status": doc.data["status"]}


def deploy(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    from optiloop.models.serving import deployments

    req = parse_input(state)
    assert req.deploy is not None
    claim_key = f"{req.execution_id}/deployment"
    existing = deps.store.docs.get("workflow_claim", claim_key)
    if existing is not None:
        return dict(existing.data)
    d = deployments.deploy_model(
        deps,
        principal(state),
        state["version"]["model_version_id"],
        req.deploy.environment,
        req.deploy.strategy,
        req.deploy.slos,
        capture_rate=(
            deployments.DEFAULT_CAPTURE_RATE if req.deploy.capture_rate is None else req.deploy.capture_rate
        ),
    )
    return _claim(deps, "workflow_claim", claim_key, req.project_id, {"deployment_id": d.id})


def promote_version(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """Point the requested stage at the new version (idempotent: promoting twice is one move)."""
    from optiloop.models.registry import stages

    req = parse_input(state)
    model_id, version_id = state["experiment"]["model_id"], state["version"]["model_version_id"]
    model = deps.store.docs.require("model", model_id, field="model", what="model")
    if (model.data.get("aliases") or {}).get(req.promote or "") == version_id:
        return {"stage": req.promote, "model_version_id": version_id}
    stages.promote(deps, principal(state), model_id, version_id, stage=req.promote)
    return {"stage": req.promote, "model_version_id": version_id}


def record_failure(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """Say why the workflow failed, in the audit trail: the caught error, or the job's failure."""
    failure = state.get("failure") or {
        "Error": f"TrainingJob{(state.get('training') or {}).get('status', 'Unknown')}",
        "Cause": (state.get("training") or {}).get("failure_reason") or "the training job did not complete",
        "state": "TrainingStatus",
    }
    project_id = state.get("project_id")
    by = (state.get("started_by") or {}).get("name", "system:workflow")
    record_details = {"execution_id": state.get("execution_id"), **failure}
    deps.store.audit.append(
        principal=str(by),
        action="workflow.failed",
        project_id=project_id if isinstance(project_id, str) else None,
        target=str(state.get("execution_id")),
        details=record_details,
    )
    return {"recorded": True, **failure}


STEPS = {
    "prepare_experiment": prepare_experiment,
    "start_training": start_training,
    "check_training": check_training,
    "evaluate": evaluate,
    "register_version": register_version,
    "request_approval": request_approval,
    "check_approval": check_approval,
    "deploy": deploy,
    "promote_version": promote_version,
    "record_failure": record_failure,
}
