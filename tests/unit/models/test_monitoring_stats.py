"""Drift and performance statistics (numpy only) against scipy and on textbook cases."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.models.monitoring import performance, stats
from optiloop.models.monitoring.baseline import (
    UNSEEN,
    build_baseline,
    category_counts,
    from_baseline,
    from_window,
)
from optiloop.models.monitoring.drift import measure
from optiloop.models.signature import parse_signature

scipy_stats = pytest.importorskip("scipy.stats")
scipy_distance = pytest.importorskip("scipy.spatial.distance")

SIG = parse_signature(
    {
        "task": "binary",
        "classes": [0, 1],
        "inputs": [
            {"name": "amount", "type": "number"},
            {"name": "country", "type": "category", "categories": ["pt", "pe", "no"]},
            {"name": "vip", "type": "boolean"},
        ],
    }
)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_ks_statistic_is_scipys_and_pvalue_is_kolmogorovs(seed: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=400)
    b = rng.normal(loc=shift, size=300)
    d, p = stats.ks_2samp(a, b)
    ref = scipy_stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    en = np.sqrt(400 * 300 / 700)
    assert p == pytest.approx(scipy_stats.kstwobign.sf(en * d), abs=1e-9)
    assert p == pytest.approx(ref.pvalue, abs=0.03)  # scipy's asymp uses the finite-n distribution


@pytest.mark.parametrize("lam", [0.05, 0.3, 0.8, 1.17, 1.19, 2.0, 4.0])
def test_kolmogorov_tail_matches_scipy_on_both_branches(lam: float) -> None:
    assert stats.kolmogorov_sf(lam) == pytest.approx(scipy_stats.kstwobign.sf(lam), abs=1e-10)


def test_kl_js_psi_against_scipy_and_the_formula() -> None:
    rng = np.random.default_rng(3)
    r = rng.integers(0, 50, size=10).astype(float)
    c = rng.integers(0, 50, size=10).astype(float)
    c[3] = 0  # an empty bin: smoothed, still finite
    p, q = stats.smooth(r), stats.smooth(c)
    assert stats.kl(r, c) == pytest.approx(scipy_stats.entropy(q, p), rel=1e-12)
    assert stats.js(r, c) == pytest.approx(scipy_distance.jensenshannon(p, q, base=2) ** 2, rel=1e-9)
    assert stats.psi(r, c) == pytest.approx(scipy_stats.entropy(q, p) + scipy_stats.entropy(p, q), rel=1e-12)
    assert np.isfinite([stats.kl(r, c), stats.psi(r, c)]).all()


def test_identical_distributions_measure_zero_and_shifted_ones_large() -> None:
    rng = np.random.default_rng(4)
    train = rng.normal(size=5000)
    edges = stats.quantile_edges(train, 10)
    counts = stats.numeric_counts(train, edges)
    for f in (stats.psi, stats.kl, stats.js):
        assert f(counts, counts) == pytest.approx(0.0, abs=1e-12)
    assert stats.ks_binned(counts, counts) == (0.0, 1.0)
    shifted = stats.numeric_counts(rng.normal(loc=2.0, size=2000), edges)
    assert stats.psi(counts, shifted) > 1.0
    assert stats.js(counts, shifted) > 0.3
    d, p = stats.ks_binned(counts, shifted)
    assert d > 0.5 and p < 1e-6
    calm = stats.numeric_counts(rng.normal(size=2000), edges)
    assert stats.psi(counts, calm) < 0.02


def test_binned_ks_is_a_lower_bound_of_the_exact_one() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=1000), rng.normal(0.3, size=800)
    edges = stats.quantile_edges(a, 20)
    d_binned, _ = stats.ks_binned(stats.numeric_counts(a, edges), stats.numeric_counts(b, edges))
    d_exact, _ = stats.ks_2samp(a, b)
    assert d_binned <= d_exact + 1e-12 and d_binned > 0.7 * d_exact


def test_bins_are_open_ended_so_out_of_range_values_are_counted() -> None:
    counts = stats.numeric_counts(np.array([-100.0, 0.0, 0.5, 1.0, 2.0, 100.0, np.nan]), [0.0, 1.0, 2.0])
    assert counts.tolist() == [3.0, 3.0]  # NaN is missing, not a position


def test_category_counts_put_nan_and_out_of_range_codes_in_the_unseen_bucket() -> None:
    assert category_counts(np.array([0, 1, 1, np.nan, 7]), 3).tolist() == [1, 2, 0, 2]


def test_baseline_round_trip_and_drift_on_a_shifted_window() -> None:
    rng = np.random.default_rng(6)
    n = 3000
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 3, size=n), rng.integers(0, 2, size=n)])
    scores = 1 / (1 + np.exp(-x[:, 0]))
    doc = build_baseline(SIG, x, scores.reshape(-1, 1))
    amount = doc["amount"]
    assert amount["type"] == "numeric" and len(amount["counts"]) == len(amount["edges"]) - 1
    assert doc["country"] == {"type": "category", "counts": {"pt": int((x[:, 1] == 0).sum()),
                                                             "pe": int((x[:, 1] == 1).sum()),
                                                             "no": int((x[:, 1] == 2).sum())}}  # fmt: skip
    assert set(doc["vip"]["counts"]) == {"false", "true"}
    assert doc["prediction"]["type"] == "numeric"
    refs, problems = from_baseline(SIG, doc)
    assert problems == [] and set(refs) == {"amount", "country", "vip", "prediction"}
    calm = measure("psi", refs["amount"], rng.normal(size=1000))
    shifted = measure("psi", refs["amount"], rng.normal(loc=1.5, size=1000))
    assert calm["value"] < 0.05 < 0.5 < shifted["value"]
    new_country = np.full(500, np.nan)  # every served value unseen in training
    m = measure("js", refs["country"], new_country)
    assert m["unseen_fraction"] == 1.0 and m["value"] > 0.9
    tv = measure("ks", refs["country"], x[:500, 1])
    assert "p_value" not in tv and tv["value"] < 0.1


def test_nested_baseline_and_bad_entries_are_reported_not_raised() -> None:
    doc = {
        "inputs": {
            "amount": {"type": "numeric", "edges": [0, 1], "counts": [1, 2]},  # wrong length
            "country": {"type": "category", "counts": {"pt": 5, "xx": 2}},
            "vip": {"type": "numeric", "edges": [0, 1], "counts": [3]},  # wrong type for a boolean
        }
    }
    refs, problems = from_baseline(SIG, doc)
    assert set(refs) == {"country"}
    assert refs["country"].counts.tolist() == [5, 0, 0, 2]  # "xx" was unseen by the signature
    assert [p.split(":")[0] for p in problems] == ["baseline.amount", "baseline.vip"]
    assert UNSEEN == "__unseen__"


def test_window_reference_keeps_the_sample_for_exact_ks() -> None:
    rng = np.random.default_rng(7)
    x = np.column_stack([rng.normal(size=500), np.zeros(500), np.ones(500)])
    refs = from_window(SIG, x, rng.uniform(size=(500, 1)))
    cur = rng.normal(loc=0.4, size=300)
    m = measure("ks", refs["amount"], cur)
    assert m["value"] == pytest.approx(scipy_stats.ks_2samp(x[:, 0], cur).statistic, abs=1e-6)


def test_performance_metrics_against_references() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, size=300).astype(float)
    s = np.clip(y * 0.3 + rng.uniform(size=300) * 0.7, 0, 1)
    s[:20] = 0.5  # ties
    # Mann-Whitney U / (n1 n0) is the AUC
    u = scipy_stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert performance.auc(y, s) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12)
    assert performance.auc(np.ones(5), np.arange(5.0)) is None
    assert performance.measure("accuracy", "binary", y, s.reshape(-1, 1)) == pytest.approx(
        float(np.mean((s >= 0.5) == y))
    )
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert performance.measure("accuracy", "multiclass", np.array([0.0, 1.0]), probs) == 0.5
    v = np.array([1.0, 2.0, 4.0])
    assert performance.measure("rmse", "regression", np.array([1.0, 2.0, 2.0]), v) == pytest.approx(
        np.sqrt(4 / 3)
    )
    assert performance.measure("mae", "regression", np.array([1.0, 2.0, 2.0]), v) == pytest.approx(2 / 3)
    assert performance.breached("auc", 0.6, 0.7) and not performance.breached("auc", 0.8, 0.7)
    assert performance.breached("rmse", 2.0, 1.0) and not performance.breached("mae", 0.5, 1.0)
