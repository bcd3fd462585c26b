"""Forecasting in the search: the fold metrics (MASE, sMAPE, MAE, RMSE) and the statistical
baselines scored on the same expanding-window folds as the models.

MASE divides a fold's MAE by the in-sample MAE of the seasonal naive forecast (y[t] = y[t - m]) on
the fold's training series, as in the M-competitions: below 1 beats the seasonal naive one-step
forecast. sMAPE is 200 |e| / (|y| + |yhat|), in percent (a term with y = yhat = 0 counts 0).

The baselines — naive, seasonal naive, simple exponential smoothing (ETS(A,N,N), alpha fitted by
one-step squared error) and the Theta method (SES with drift of half the linear trend, Hyndman &
Billah 2003), the last two on the series multiplicatively deseasonalised by classical decomposition
when a season is given and the series is positive (as the M3 competition's benchmarks were) — are
numpy, so statsmodels is not a dependency. They are leaderboard-only: they forecast from the
series itself, not from a row of features, so there is no artifact to register or serve.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHAS = np.linspace(0.02, 0.98, 49)
SES_ROWS = 2000
BASELINES = ("naive", "seasonal_naive", "ses", "theta")


def scale_of(history: np.ndarray, m: int) -> float:
    """In-sample MAE of the seasonal naive forecast (the naive one where m is 1 or too long)."""
    m = m if history.size > m else 1
    d = np.abs(history[m:] - history[:-m])
    return float(d.mean()) if d.size else math.nan


def metrics(y: np.ndarray, pred: np.ndarray, scale: float) -> dict[str, float]:
    err = pred - y
    mae = float(np.mean(np.abs(err)))
    denom = np.abs(y) + np.abs(pred)
    terms = np.where(denom > 0, 2.0 * np.abs(err) / np.where(denom > 0, denom, 1.0), 0.0)
    return {
        "mase": mae / scale if scale > 0 else math.nan,
        "smape": float(100.0 * terms.mean()),
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
    }


def naive(history: np.ndarray, h: int, m: int) -> np.ndarray:
    return np.full(h, history[-1])


def seasonal_naive(history: np.ndarray, h: int, m: int) -> np.ndarray:
    if m <= 1 or history.size < m:
        return naive(history, h, m)
    last = history[-m:]
    return last[np.arange(h) % m]


def _ses_fit(y: np.ndarray) -> tuple[float, float]:
    """(alpha, final level) minimising the one-step squared error over a grid of alphas, on the last
    SES_ROWS values (bounded time: with alpha >= 0.02 older values weigh under 0.98^2000 ~ 3e-18)."""
    y = y[-SES_ROWS:]
    best = (math.inf, 0.5, float(y[-1]))
    for a in ALPHAS:
        level, sse = float(y[0]), 0.0
        for v in y[1:]:
            e = float(v) - level
            sse += e * e
            level += a * e
        if sse < best[0]:
            best = (sse, float(a), level)
    return best[1], best[2]


def _seasonal_indices(y: np.ndarray, m: int) -> np.ndarray | None:
    """Classical multiplicative decomposition's indices (mean 1), or None where it does not apply."""
    if m <= 1 or y.size < 2 * m or np.any(y <= 0):
        return None
    kernel = np.ones(m) / m if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    trend = np.convolve(y, kernel, mode="valid")
    start = (kernel.size - 1) // 2
    ratio = y[start : start + trend.size] / trend
    pos = (np.arange(trend.size) + start) % m
    idx = np.array([ratio[pos == k].mean() for k in range(m)])
    return idx / idx.mean()


Method = Callable[[np.ndarray, int, int], np.ndarray]  # (history, horizon, season) -> forecast


def _adjusted(method: Callable[[np.ndarray, int], np.ndarray]) -> Method:
    """`method` on the seasonally adjusted series, its forecast reseasonalised (where m applies)."""

    def forecast(history: np.ndarray, h: int, m: int) -> np.ndarray:
        si = _seasonal_indices(history, m)
        n = history.size
        y = history / si[np.arange(n) % m] if si is not None else history
        f = np.asarray(method(y, h), dtype=np.float64)
        return f * si[(n + np.arange(h)) % m] if si is not None else f

    return forecast


def _ses(y: np.ndarray, h: int) -> np.ndarray:
    return np.full(h, _ses_fit(y)[1])


def _theta(y: np.ndarray, h: int) -> np.ndarray:
    n = y.size
    slope = float(np.polyfit(np.arange(n, dtype=np.float64), y, 1)[0]) if n > 1 else 0.0
    alpha, level = _ses_fit(y)
    k = np.arange(1, h + 1, dtype=np.float64)
    return level + 0.5 * slope * (k - 1 + 1 / alpha - (1 - alpha) ** n / alpha)


ses = _adjusted(_ses)
theta = _adjusted(_theta)


METHODS = {"naive": naive, "seasonal_naive": seasonal_naive, "ses": ses, "theta": theta}


@dataclass(frozen=True)
class ForecastPlan:
    """The folds in feature rows, and for each its origin in the series (what a baseline sees)."""

    series: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    origins: list[int]
    horizon: int
    season: int
    baselines: bool = True  # false on a resumed run that has recorded them already

    def scale(self, j: int) -> float:
        return scale_of(self.series[: self.origins[j] + 1], self.season)

    def fold_metrics(self, j: int, y: np.ndarray, out: np.ndarray) -> dict[str, float]:
        return metrics(y, out[:, 0], self.scale(j))

    def baseline_trials(self, first_number: int, metric: str) -> list[Any]:
        """One completed, artifact-less TrialResult per baseline (seasonal naive only with a season)."""
        from optiloop.automl.search.runner import TrialResult, _summary

        names = [b for b in BASELINES if b != "seasonal_naive" or self.season > 1]
        out: list[Any] = []
        for k, name in enumerate(names):
            per_fold = []
            for j, o in enumerate(self.origins):
                hist = self.series[: o + 1]
                truth = self.series[o + 1 : o + 1 + self.horizon]
                per_fold.append(metrics(truth, METHODS[name](hist, self.horizon, self.season), self.scale(j)))
            res = TrialResult(
                first_number + k, "baseline", name,
                {"baseline.method": name, "baseline.season_length": self.season}, "completed",
            )  # fmt: skip
            res.metrics = _summary(per_fold, metric)
            res.fold_scores = [f[metric] for f in per_fold]
            out.append(res)
        return out
