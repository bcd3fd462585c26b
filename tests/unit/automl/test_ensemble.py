"""Greedy ensemble selection and the `optiloop.ensemble/1` runtime: weights are a convex mix that
never scores below the best member on the rows it chose on, the served ensemble is the weighted sum
of its served members, and a malformed ensemble document is a 422 naming the artifact."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from optiloop.automl.export.artifact import build_artifact
from optiloop.automl.export.ensemble import build_ensemble_artifact
from optiloop.automl.search.ensemble import select
from optiloop.errors import InvalidInput
from optiloop.models import runtimes
from optiloop.models.artifact import pack_files, read_artifact
from optiloop.models.signature import Input, Signature

SIG = Signature(
    task="binary", inputs=(Input("a", "number", True), Input("b", "number", True)), classes=(0, 1)
)


def _linear(coef: list[float], intercept: float) -> bytes:
    doc = {
        "format": "optiloop.linear/1",
        "n_features": 2,
        "n_outputs": 1,
        "link": "logistic",
        "features": [{"kind": "numeric", "impute": 0, "center": 0, "scale": 1}] * 2,
        "coef": [coef],
        "intercept": [intercept],
    }
    return build_artifact(doc, runtime="linear", framework="scikit-learn", signature=SIG, params={},
                          metrics={}, data_fingerprint="sha256:x", rows=10)  # fmt: skip


def _stump(threshold: float) -> bytes:
    doc = {
        "format": "optiloop.trees/1",
        "n_features": 2,
        "n_outputs": 1,
        "base_margin": [0.0],
        "link": "identity",
        "trees": [
            {"output": 0, "feature": [1, 0, 0], "threshold": [threshold, 0, 0], "left": [1, -1, -1],
             "right": [2, -1, -1], "default_left": [1, 0, 0], "value": [0.0, 0.2, 0.9]}
        ],
    }  # fmt: skip
    return build_artifact(doc, runtime="trees", framework="xgboost", signature=SIG, params={},
                          metrics={}, data_fingerprint="sha256:x", rows=10)  # fmt: skip


def _logloss_score(y: np.ndarray) -> object:
    def score(out: np.ndarray) -> float:
        p = np.clip(out[:, 0], 1e-15, 1 - 1e-15)
        return -float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))

    return score


def test_selection_is_a_convex_mix_no_worse_than_the_best_member() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype(np.float64)
    truth = np.where(y == 1, 0.8, 0.2)
    # two members with independent noise: their average beats each; a third is useless
    oof = {
        0: np.clip(truth + rng.normal(0, 0.15, 400), 0.01, 0.99).reshape(-1, 1),
        1: np.clip(truth + rng.normal(0, 0.15, 400), 0.01, 0.99).reshape(-1, 1),
        2: np.full((400, 1), 0.5),
    }
    score = _logloss_score(y)
    sel = select(oof, score)  # type: ignore[arg-type]
    assert sel is not None
    assert math.isclose(sum(sel.weights.values()), 1.0) and all(w > 0 for w in sel.weights.values())
    assert set(sel.weights) >= {0, 1} and 2 not in sel.weights
    assert sel.score > sel.best_single
    mixed = sum(w * oof[n] for n, w in sel.weights.items())
    assert math.isclose(score(mixed), sel.score, rel_tol=1e-12)  # type: ignore[operator]
    assert select({0: oof[0]}, score) is None  # type: ignore[arg-type]
    assert select(oof, score) == sel  # type: ignore[arg-type]  # deterministic


def test_the_ensemble_runtime_serves_the_weighted_sum_of_its_members() -> None:
    members = [(_linear([1.0, -0.5], 0.1), 0.75), (_stump(0.3), 0.25)]
    data = build_ensemble_artifact(members, signature=SIG, params={"model": "ensemble"},
                                   metrics={"auc": 0.9}, data_fingerprint="sha256:x", rows=10)  # fmt: skip
    art = read_artifact(data)
    assert art.runtime == "ensemble" and art.manifest["framework"] == "scikit-learn+xgboost"
    x = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, np.nan], [3.0, -2.0]])
    got = runtimes.load(art).predict(x)
    want = sum(w * runtimes.load(read_artifact(m)).predict(x) for m, w in members)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got.shape == (4, 1)
    preds = runtimes.predictions(art.signature, got)
    assert all(0 <= p["score"] <= 1 for p in preds)
    from optiloop.models.registry.versions import check_artifact

    assert check_artifact(data).runtime == "ensemble"  # the registry's gate loads it in process


def test_the_ensemble_check_uses_the_members_outputs_from_their_own_export_checks() -> None:
    """Each member's served outputs on the probe rows were taken when its export was checked, so the
    ensemble's check does not load the members again (seconds of JSON for a large forest) — and
    still refuses an ensemble that does not reproduce them."""
    from optiloop.automl.search.runner import TrialResult, _check_ensemble, _probe

    members = [(_linear([1.0, -0.5], 0.1), 0.75), (_stump(0.3), 0.25)]
    data = build_ensemble_artifact(members, signature=SIG, params={"model": "ensemble"},
                                   metrics={"auc": 0.9}, data_fingerprint="sha256:x", rows=10)  # fmt: skip
    probe = _probe(SIG)
    results = []
    for k, (artifact, _) in enumerate(members):
        r = TrialResult(k, "x", "x", {}, "completed", artifact=b"not an artifact: never read")
        r.probe = runtimes.load(read_artifact(artifact)).predict(probe)
        results.append(r)
    weights = [w for _, w in members]
    assert _check_ensemble(data, list(zip(results, weights, strict=True))) is not None
    results[1].probe = results[1].probe + 0.01  # type: ignore[operator]
    with pytest.raises(ValueError, match="does not reproduce"):
        _check_ensemble(data, list(zip(results, weights, strict=True)))
    results[1].probe, results[1].artifact = None, members[1][0]  # no probe: the member is loaded
    assert _check_ensemble(data, list(zip(results, weights, strict=True))) is not None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["members"][0].update(weight=0.9), "sum to"),
        (lambda d: d["members"][0].update(weight=-0.25), "positive"),
        (lambda d: d["members"][0].update(runtime="ensemble"), "runtime must be one of"),
        (lambda d: d["members"][1].update(model_file="nope.json"), "must name a file"),
        (lambda d: d.update(members=[]), "non-empty"),
        (lambda d: d.update(format="x"), "format"),
    ],
)
def test_a_malformed_ensemble_is_refused_naming_the_reason(change: object, reason: str) -> None:
    data = build_ensemble_artifact([(_linear([1.0, 0.0], 0.0), 0.5), (_stump(0.0), 0.5)], signature=SIG,
                                   params={}, metrics={}, data_fingerprint="sha256:x", rows=1)  # fmt: skip
    art = read_artifact(data)
    doc = json.loads(art.files["model.ensemble.json"])
    change(doc)  # type: ignore[operator]
    files = {**art.files, "model.ensemble.json": json.dumps(doc).encode()}
    with pytest.raises(InvalidInput) as e:
        runtimes.load(read_artifact(pack_files(files)))
    assert e.value.problems[0].field == "artifact.model_file" and reason in e.value.problems[0].reason
