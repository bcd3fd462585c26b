"""One predict call: route, validate against the serving version's signature, predict, answer.

What happens on the request path: one read of the deployment, one of the serving version (its
status: an Archived version stops serving at once), a cached predictor, the signature's encoding
and the runtime. What happens after the answer is sent (`Served.after`, run as background tasks):
the shadow's prediction, the capture sample, and the metrics flush with its SLO check. Metrics
themselves are counted in process (`metrics.RECORDER`), never written per request.

`predict_instances(deps, deployment_id, instances)` is the same without HTTP, principal or side
effects: what other code (batch scoring, monitors, tests) calls to score rows.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, OptiLoopError
from optiloop.models import runtimes
from optiloop.models.serving import capture, metrics, split
from optiloop.models.serving.cache import PREDICTORS, Loaded, PredictorCache
from optiloop.models.serving.records import ModelDeployment, candidate_name, from_doc, live_doc
from optiloop.models.signature import parse_signature

log = logging.getLogger("optiloop.serving")

MAX_INSTANCES = 10_000
PREDICT_ACTION = Action.GENERATE  # calling a deployed model is the production path, as generate is


@dataclass
class Served:
    body: dict[str, Any]
    after: list[Callable[[], None]] = field(default_factory=list)

    def run_after(self) -> None:
        """The deferred work, each part on its own: a failed capture must not stop the flush."""
        for task in self.after:
            try:
                task()
            except Exception:  # logged, never raised: the client already has its answer
                log.exception("serving background task failed")


def deployment(deps: Deps, deployment_id: str) -> ModelDeployment:
    return from_doc(live_doc(deps.store.docs, deployment_id))


def check_servable(deps: Deps, variant: dict[str, Any]) -> None:
    vid = variant["model_version_id"]
    doc = deps.store.docs.get("model_version", vid)
    status = doc.data.get("status") if doc is not None else "missing"
    if status in ("Archived", "Rejected", "missing"):
        raise Conflict(
            f"model version '{vid}' is {status} and no longer serves; deploy another version",
            details=[{"field": "model_version_id", "reason": f"is {status}"}],
        )


def loaded(deps: Deps, variant: dict[str, Any], cache: PredictorCache = PREDICTORS) -> Loaded:
    if variant["runtime"] != "endpoint":
        return cache.artifact(deps, variant)
    from optiloop.models.serving.endpoint import EndpointPredictor, require_backend

    def load() -> Loaded:
        backend = require_backend(getattr(deps, "endpoints", None), variant["model_version_id"])
        version = deps.store.docs.require(
            "model_version", variant["model_version_id"], field="model_version_id", what="model version"
        )
        sig = parse_signature(version.data["signature"], where="model_version.signature")
        return Loaded(
            variant["artifact_sha256"],
            sig,
            EndpointPredictor(backend, variant["endpoint_name"], sig.n_outputs),
        )

    return cache.get(f"endpoint:{variant['endpoint_name']}:{variant['artifact_sha256']}", load)


def check_instances(instances: Any) -> Sequence[Any]:
    if not isinstance(instances, list) or not instances:
        raise InvalidInput(FieldProblem("instances", "must be a non-empty list of objects"))
    if len(instances) > MAX_INSTANCES:
        raise InvalidInput(
            FieldProblem(
                "instances",
                f"{len(instances)} instances; at most {MAX_INSTANCES} a request",
                hint="score larger sets as a batch job: POST /v1/deployments/{id}/batch",
            )
        )
    return instances


def predict(
    deps: Deps,
    who: Principal,
    deployment_id: str,
    instances: Any,
    key: str | None = None,
    *,
    request_id: str,
    rng: random.Random | None = None,
    cache: PredictorCache = PREDICTORS,
    recorder: metrics.Recorder = metrics.RECORDER,
) -> Served:
    t0 = time.perf_counter()
    dep = deployment(deps, deployment_id)
    authorize(who, PREDICT_ACTION, dep.project_id)
    rows = check_instances(instances)
    route = split.route(dep, key, rng)
    variant = dep.variant(route.variant)
    assert variant is not None  # route() names the candidate only when there is one
    check_servable(deps, variant)
    model = loaded(deps, variant, cache)
    x = model.signature.encode(rows)
    at = deps.clock()
    vid = variant["model_version_id"]
    try:
        out = model.predictor.predict(x)
    except Exception:
        recorder.record(
            dep.id, route.variant, vid, at, (time.perf_counter() - t0) * 1000, len(rows), error=True
        )
        raise
    preds = runtimes.predictions(model.signature, out, rows, runtimes.intervals(model.predictor, x))
    latency_ms = (time.perf_counter() - t0) * 1000
    recorder.record(dep.id, route.variant, vid, at, latency_ms, len(rows))
    served = Served(
        {
            "predictions": preds,
            "latency_ms": round(latency_ms, 3),
            "model_version_id": vid,
            "variant": route.variant,
            "deployment_id": dep.id,
            "request_id": request_id,
        }
    )
    if capture.sampled(dep.capture_rate, rng):
        doc = capture.build(
            deployment_id=dep.id, variant=route.variant, version_id=vid, at=at, request_id=request_id,
            sig=model.signature, x=x, outputs=out, instances=rows,
        )  # fmt: skip
        served.after.append(lambda: capture.write(deps, doc))
    if route.shadow and dep.candidate is not None:
        shadow = dep.candidate
        served.after.append(lambda: _shadow(deps, dep, shadow, rows, at, request_id, cache, recorder, rng))
    served.after.append(lambda: flush_if_due(deps, recorder))
    # tamper-evident record of which version answered which request, without waiting on the project's
    # audit chain: batched in memory and sealed into the trail in bulk (optiloop.audit.events)
    event = {
        "request_id": request_id,
        "deployment_id": dep.id,
        "variant": route.variant,
        "model_version_id": vid,
        "rows": len(rows),
        "latency_ms": round(latency_ms, 3),
    }

    def audit_event() -> None:
        deps.store.audit.record_event(
            principal=who.name,
            action="inference.served",
            project_id=dep.project_id,
            target=dep.id,
            details=event,
        )

    served.after.append(audit_event)
    return served


def _shadow(
    deps: Deps,
    dep: ModelDeployment,
    variant: dict[str, Any],
    rows: Sequence[Any],
    at: str,
    request_id: str,
    cache: PredictorCache,
    recorder: metrics.Recorder,
    rng: random.Random | None,
) -> None:
    """Score the same request on the shadow version; its answer is only measured and captured."""
    name = candidate_name(dep)
    vid = variant["model_version_id"]
    t0 = time.perf_counter()
    try:
        check_servable(deps, variant)
        model = loaded(deps, variant, cache)
        x = model.signature.encode(rows)
        out = model.predictor.predict(x)
    except Exception as e:
        recorder.record(dep.id, name, vid, at, (time.perf_counter() - t0) * 1000, len(rows), error=True)
        if not isinstance(e, OptiLoopError):
            raise
        return
    recorder.record(dep.id, name, vid, at, (time.perf_counter() - t0) * 1000, len(rows))
    if capture.sampled(dep.capture_rate, rng):
        capture.write(
            deps,
            capture.build(
                deployment_id=dep.id, variant=name, version_id=vid, at=at, request_id=request_id,
                sig=model.signature, x=x, outputs=out, instances=rows,
            ),
        )  # fmt: skip


def flush_if_due(deps: Deps, recorder: metrics.Recorder = metrics.RECORDER, *, force: bool = False) -> None:
    """Write the buffered metrics when due (or now), then check the SLOs of what was written."""
    if not (force or recorder.due()):
        return
    from optiloop.models.serving.deployments import enforce_slos

    for dep_id in recorder.flush(deps):
        enforce_slos(deps, dep_id)


def predict_instances(
    deps: Deps, deployment_id: str, instances: Sequence[Any], variant: str = "stable"
) -> np.ndarray:
    """Outputs (rows x n_outputs) of one variant for `instances`: no principal, routing or metrics."""
    dep = deployment(deps, deployment_id)
    v = dep.variant(variant)
    if v is None:
        raise InvalidInput(FieldProblem("variant", f"deployment '{deployment_id}' has no {variant} version"))
    check_servable(deps, v)
    model = loaded(deps, v)
    return model.predictor.predict(model.signature.encode(instances))
