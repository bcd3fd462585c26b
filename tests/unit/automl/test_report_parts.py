"""The experiment report's parts (optiloop.automl.attribution, effects, reliability, report_plots):
SHAP values that add up to each row's output and are exact for a model without interactions; PDP/ICE
curves on a grid where the data are; the reliability curve and threshold table against hand counts;
real PNG files."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.automl import attribution, effects, reliability, report_plots


def test_shap_values_add_up_to_each_rows_output_against_its_base() -> None:
    rng = np.random.default_rng(0)
    x, bg = rng.normal(size=(7, 4)), rng.normal(size=(30, 4))

    def predict(z: np.ndarray) -> np.ndarray:  # interactions and a second output
        p = 1 / (1 + np.exp(-(z[:, 0] * z[:, 1] + np.sin(z[:, 2]) - 0.5 * z[:, 3])))
        return np.stack([p, 1 - p], axis=1)

    values, base = attribution.shap_values(predict, x, bg, seed=3)
    assert values.shape == (7, 4, 2) and base.shape == (7, 2)
    np.testing.assert_allclose(values.sum(axis=1) + base, predict(x), atol=1e-12)


def test_shap_values_of_a_linear_model_are_its_weights_times_the_distance_to_the_background() -> None:
    rng = np.random.default_rng(1)
    w = np.array([2.0, -1.0, 0.0, 0.5])
    x, bg = rng.normal(size=(5, 4)), np.full((1, 4), 0.25)  # one background row: exact
    values, base = attribution.shap_values(lambda z: (z @ w).reshape(-1, 1), x, bg, seed=0)
    np.testing.assert_allclose(values[:, :, 0], w * (x - 0.25), atol=1e-12)
    summary = attribution.summary(values, base, ["a", "b", "c", "d"])
    assert [r["feature"] for r in summary["mean_abs"]][:2] == ["a", "b"] and summary["mean_abs"][-1] == {
        "feature": "c", "value": 0.0}  # fmt: skip


def test_shap_rows_shrink_with_the_models_cost() -> None:
    assert attribution.rows_for(10, None) == attribution.MAX_ROWS
    assert attribution.rows_for(10, 10**9) == attribution.MIN_ROWS
    assert attribution.MIN_ROWS < attribution.rows_for(30, 50_000) < attribution.MAX_ROWS


def test_partial_dependence_and_ice_on_a_grid_where_the_data_are() -> None:
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.exponential(size=300), rng.integers(0, 3, 300).astype(float)])
    x[0, 0] = np.nan  # a missing value is not a grid point
    c = effects.curves(
        lambda z: (3 * np.nan_to_num(z[:, 0]) + z[:, 1]).reshape(-1, 1), x, 0, "spend", ice_rows=4
    )
    grid = np.array(c["grid"])
    assert grid.size == effects.GRID and np.all(np.diff(grid) > 0)
    assert grid[0] == pytest.approx(np.nanmin(x[:, 0]), abs=1e-6) and grid[-1] == pytest.approx(
        np.nanmax(x[:, 0]), abs=1e-6
    )
    np.testing.assert_allclose([p[0] for p in c["pdp"]], 3 * grid + x[:, 1].mean(), atol=1e-5)
    assert len(c["ice"]) == 4 and all(len(line) == grid.size for line in c["ice"])
    codes = effects.curves(lambda z: z[:, 1:2], x, 1, "plan")
    assert codes["grid"] == [0.0, 1.0, 2.0]  # few distinct values: each of them


def test_reliability_curve_and_thresholds_against_hand_counts() -> None:
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.85, 0.95, 0.45, 0.55])
    curve = reliability.curve(y, p.reshape(-1, 1), "binary")
    by_bin = {tuple(r["bin"]): r for r in curve}
    assert by_bin[(0.0, 0.1)] == {"bin": [0.0, 0.1], "mean_predicted": 0.05, "observed": 0.0, "count": 1}
    assert by_bin[(0.8, 0.9)]["observed"] == 1.0 and sum(r["count"] for r in curve) == 6
    rows = {r["threshold"]: r for r in reliability.thresholds(y, p)}
    # p >= 0.5 flags 0.85, 0.95, 0.55: two of three right, two of the three positives found
    assert rows[0.5] == {"threshold": 0.5, "precision": pytest.approx(2 / 3, abs=1e-6),
                         "recall": pytest.approx(2 / 3, abs=1e-6), "f1": pytest.approx(2 / 3, abs=1e-6),
                         "accuracy": pytest.approx(4 / 6, abs=1e-6), "flagged": 0.5}  # fmt: skip
    multi = reliability.curve(
        np.array([0, 1, 2]), np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]), "multiclass"
    )
    assert sum(r["count"] for r in multi) == 3 and {r["observed"] for r in multi} <= {0.0, 1.0}


def test_each_plot_is_a_png_drawn_from_the_reports_tables() -> None:
    curve = [{"bin": [0.0, 0.1], "mean_predicted": 0.05, "observed": 0.0, "count": 3}]
    dependence = {"feature": "a", "grid": [0, 1, 2], "pdp": [[0.1], [0.2], [0.4]], "ice": [[0.1, 0.3, 0.5]]}
    report = {
        "permutation_importance": [{"feature": "a", "importance": 0.2, "std": 0.01},
                                   {"feature": "b", "importance": 0.1, "std": 0.0}],
        "shap": {"mean_abs": [{"feature": "a", "value": 0.3}]},
        "partial_dependence": [dependence],
        "calibration": {"curve": curve, "source": "out-of-fold"},
        "thresholds": {"rows": reliability.thresholds(np.array([0, 1]), np.array([0.2, 0.9])), "source": ""},
    }  # fmt: skip
    files = report_plots.render(report, "positive-class probability")
    assert set(files) == {"importance.png", "shap.png", "pdp_0.png", "reliability.png", "thresholds.png"}
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000 for png in files.values())
    assert report_plots.render(report, "positive-class probability") == files  # deterministic bytes
