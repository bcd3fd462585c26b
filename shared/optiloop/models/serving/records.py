"""The model deployment record and the documents serving writes.

* model_deployment       scope project,    sort created_at#id   what serves where; id `dep_...`
* model_deployment_slot  scope project,    sort model#env       claim: one deployment per model and
                                                               environment (id `{model_id}:{env}`)
* serving_metrics        scope deployment, sort minute#variant  per-minute aggregates (metrics.py)
* inference_capture      scope deployment, sort at#request_id   sampled inputs/outputs (capture.py)
* batch_job              scope deployment, sort created_at#id   batch scoring jobs (batch.py)

A deployment holds a `stable` variant and at most one `candidate` (a canary, a blue/green standby
or a shadow) with the strategy that says how traffic reaches it. Each variant names its model
version, the artifact (key + sha256, what the predictor cache is keyed by) and its runtime, so the
hot path needs the deployment document and the version's status, nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from optiloop.deletion import gone, is_deleted
from optiloop.store.ports import DocRepo
from optiloop.store.records import Doc

KIND = "model_deployment"
SLOT_KIND = "model_deployment_slot"
ENVIRONMENTS: tuple[str, ...] = ("staging", "production")
PROTECTED_ENVIRONMENTS: frozenset[str] = frozenset({"production"})
STRATEGIES: tuple[str, ...] = ("canary", "blue_green", "shadow")
HISTORY = 50  # moves kept on the record (the audit log keeps all of them)


@dataclass(frozen=True)
class ModelDeployment:
    id: str
    project_id: str
    model_id: str
    model_name: str
    environment: str
    # {"model_version_id", "version", "artifact_key", "artifact_sha256", "runtime", "endpoint_name"}
    stable: dict[str, Any]
    candidate: dict[str, Any] | None  # same shape, or None when only stable serves
    strategy: dict[str, Any]  # {"type": canary|blue_green|shadow, "traffic": {"stable": n, "canary": m}}
    slos: dict[str, float]  # {"latencyMsP95": 500, "errorRatePct": 1.0}; empty: no automatic rollback
    capture_rate: float  # share of requests whose inputs/outputs are captured for the drift monitors
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    history: list[dict[str, Any]] = field(default_factory=list)
    type: str = "model"  # a prompt deployment's listing entry says "prompt"

    @property
    def candidate_share(self) -> float:
        """Percent of requests that reach the candidate (shadow: that are mirrored to it)."""
        return float(self.strategy.get("traffic", {}).get("canary", 0)) if self.candidate else 0.0

    def variant(self, name: str) -> dict[str, Any] | None:
        return self.stable if name == "stable" else self.candidate


def slot_id(model_id: str, environment: str) -> str:
    return f"{model_id}:{environment}"


def deployment_doc(d: ModelDeployment) -> Doc:
    return Doc(kind=KIND, id=d.id, scope=d.project_id, sort=f"{d.created_at}#{d.id}", data=asdict(d))


def live_doc(docs: DocRepo, deployment_id: str) -> Doc:
    """The deployment's document; 404 when there is none or it was undeployed (naming when)."""
    doc = docs.require(KIND, deployment_id, field="deployment_id", what="deployment")
    if is_deleted(doc):
        raise gone("deployment", deployment_id, "deployment_id", doc.data["deleted_at"])
    return doc


def from_doc(doc: Doc) -> ModelDeployment:
    names = {f.name for f in fields(ModelDeployment)}
    return ModelDeployment(**{k: v for k, v in doc.data.items() if k in names})


def candidate_name(d: ModelDeployment) -> str:
    """What the candidate variant is called in answers and metrics: `canary` or `shadow`."""
    return "shadow" if d.strategy.get("type") == "shadow" else "canary"
