"""The registered surrogate: a failure model trained by a training job, used when it earns it.

The project's model named `surrogate` (trained by `training_jobs/surrogate` through the experiment
workflow, `POST /v1/projects/{id}/policies:train`) is looked up in the registry: the version at its
`production` alias, else at `staging`. Its signature's inputs are the space's param names, encoded
exactly as the training script encoded the runs, so candidate tests are scored by the same portable
runtime the serving path uses (numpy; no xgboost on the suggest path).

It replaces the in-process model's failure probability only when it is at least as good on the runs
it has not seen (those after the snapshot it was trained on): ROC AUC of both on the newest such
runs, once at least `MIN_RECENT` of them hold both a pass and a failure. Until then, and whenever it
is worse, the engine keeps the in-process surrogate — a stale or mis-specified model never steers
suggestions. Lookups are cached per process for `TTL_S` seconds (a promotion takes effect within
that), so a suggest call costs no extra store reads in the steady state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.models.monitoring.performance import auc
from optiloop.models.records import runs_through_seq
from optiloop.models.serving.cache import PREDICTORS, Loaded
from optiloop.models.signature import Signature
from optiloop.testopt.learned import LookupCache, held_version

MODEL_NAME = "surrogate"
MIN_RECENT = 20
RECENT = 200

log = logging.getLogger("optiloop.testopt.surrogate")


@dataclass(frozen=True)
class TrainedSurrogate:
    model_id: str
    version_id: str
    version: int
    alias: str
    runs_through_seq: int
    loaded: Loaded
    loaded_metrics: dict[str, float] = field(default_factory=dict)  # the version's registered metrics

    @property
    def signature(self) -> Signature:
        return self.loaded.signature

    def failure_prob(self, params: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """P(fail) per test (rows of param dicts); inputs the model does not know are ignored."""
        if not params:
            return np.zeros(0)
        x = self.signature.encode(list(params), where="params")
        out = self.loaded.predictor.predict(x)
        return np.clip(np.asarray(out[:, 0], dtype=np.float64), 0.0, 1.0)

    def fits(self, param_names: set[str]) -> bool:
        """Every input is a param of the current space (a renamed or removed param: not usable)."""
        return {i.name for i in self.signature.inputs} <= param_names

    def describe(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_version_id": self.version_id,
            "version": self.version,
            "alias": self.alias,
            "runs_through_seq": self.runs_through_seq,
        }


_CACHE: LookupCache[TrainedSurrogate] = LookupCache("registered surrogate", log)
_lock = threading.Lock()  # guards _reported


def clear_cache() -> None:
    _CACHE.clear()


def _runs_through(deps: Deps, version: Mapping[str, Any], project_id: str) -> int:
    job_id = (version.get("source") or {}).get("training_job_id")
    job = deps.store.docs.get("training_job", job_id) if job_id else None
    return runs_through_seq(job.data, project_id) if job else 0


def _lookup(deps: Deps, project_id: str) -> TrainedSurrogate | None:
    held = held_version(deps, project_id, MODEL_NAME)
    if held is None or held.version.get("runtime") not in ("trees", "onnx"):
        return None
    v = held.version
    variant = {
        "model_version_id": v["id"],
        "artifact_key": v["artifact_key"],
        "artifact_sha256": v["artifact_sha256"],
    }
    loaded = PREDICTORS.artifact(deps, variant)
    if loaded.signature.task != "binary":
        return None
    return TrainedSurrogate(
        model_id=held.model.id,
        version_id=v["id"],
        version=int(v["version"]),
        alias=held.alias,
        runs_through_seq=_runs_through(deps, v, project_id),
        loaded=loaded,
        loaded_metrics=dict(v.get("metrics") or {}),
    )


def registered(deps: Deps, project_id: str, *, now: float | None = None) -> TrainedSurrogate | None:
    """The project's registered surrogate (cached for TTL_S), or None. Never raises for a broken
    registry entry: a model that cannot be loaded is the same as no model for the suggest path."""
    return _CACHE.get(deps, project_id, _lookup, now)


def recent_unseen(
    history: Any, trained: TrainedSurrogate
) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
    """The newest (at most RECENT) passed or failed runs after the model's training snapshot: their
    test ids, params, and whether each failed. `history` is an optiloop.testopt.history.History."""
    h = history
    ids = [
        t
        for t in h.run_order
        if h.runs[t].seq > trained.runs_through_seq and h.runs[t].status != "skipped" and t in h.test_index
    ][-RECENT:]
    params = [h.tests[h.test_index[t]].params for t in ids]
    failed = np.array([h.runs[t].status == "fail" for t in ids], dtype=float)
    return ids, params, failed


def accuracy(history: Any, trained: TrainedSurrogate) -> dict[str, Any]:
    """What the coverage report and the suggest metrics say about the registered model: its held-out
    AUC at registration and its AUC on the runs it has not seen (None until both outcomes occur)."""
    _, params, failed = recent_unseen(history, trained)
    both = len(failed) >= 2 and failed.min() != failed.max()
    recent = auc(failed, trained.failure_prob(params)) if both else None
    registered_auc = trained.loaded_metrics.get("auc")
    return {
        **trained.describe(),
        "registered_auc": registered_auc,
        "recent_runs": len(params),
        "recent_failures": int(failed.sum()),
        "recent_auc": None if recent is None else round(recent, 4),
    }


@dataclass(frozen=True)
class Comparison:
    """How the registered model did against the in-process one on runs it had not seen."""

    runs: int
    trained_auc: float | None
    in_process_auc: float | None
    use_trained: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "trained_auc": None if self.trained_auc is None else round(self.trained_auc, 4),
            "in_process_auc": None if self.in_process_auc is None else round(self.in_process_auc, 4),
            "use_trained": self.use_trained,
            "reason": self.reason,
        }


def compare(
    trained: TrainedSurrogate,
    params: Sequence[Mapping[str, Any]],
    failed: np.ndarray,
    in_process: np.ndarray | None,
) -> Comparison:
    """Decide on the unseen runs: too few (or one class only) -> trust the registry's own held-out
    evaluation and use it; otherwise use it unless the in-process model ranks failures better."""
    n = len(params)
    y = np.asarray(failed, dtype=np.float64)
    if n < MIN_RECENT or y.min(initial=1.0) == y.max(initial=0.0):
        return Comparison(n, None, None, True, "too few unseen runs with both outcomes to compare")
    a_trained = auc(y, trained.failure_prob(params))
    a_local = auc(y, in_process) if in_process is not None else None
    if a_trained is None:
        return Comparison(n, None, a_local, True, "no ranking on the unseen runs")
    if a_local is not None and a_local > a_trained:
        return Comparison(n, a_trained, a_local, False, "the in-process model ranks recent failures better")
    return Comparison(n, a_trained, a_local, True, "at least as good as the in-process model on recent runs")


_reported: dict[str, Comparison] = {}


def report(project_id: str, check: Comparison) -> None:
    """Keep the latest comparison for the serving layer's metrics (the suggest Lambda emits
    `SurrogateRecentAUC` and `SurrogateInUse` from it after the response)."""
    with _lock:
        _reported[project_id] = check


def take_reported() -> dict[str, Comparison]:
    """The comparisons made since the last call, by project (and forget them)."""
    with _lock:
        out = dict(_reported)
        _reported.clear()
    return out
