"""Forecasting in the search: the fold metrics (MASE, sMAPE, MAE, RMSE) and the statistical
baselines scored on the same expanding-window folds as the models.

MASE divides a fold's MAE by the in-sample MAE of the seasonal naive forecast (y[t] = y[t - m]) on
the fold's training series, as in the M-competitions: below 1 beats the seasonal naive one-step
forecast. sMAPE is 200 |e| / (|y| + |yhat|), in percent (a term with y = yhat = 0 counts 0).

The baselines — naive, seasonal naive, simple exponential smoothing (ETS(A,N,N), alpha fitted by
one-step squared error) and the Theta method (SES with drift of half the linear trend, Hyndman &
Billah 2003), the last two on the series multiplicatively deseasonalised by classical decomposition
when a season is given and the series is positive (as the M3 competition's benchmarks were) — are
numpy, so statsmodels is not a dependency; `optiloop.automl.search.statistical` computes them with
ETS and the combinations. They forecast from the series itself, not from a row of features, so
what registers and serves is their forecast table from each series' end (the `forecast` runtime).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALPHAS = np.linspace(0.02, 0.98, 49)
SES_ROWS = 2000


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


def seasonal(y: np.ndarray, m: int) -> bool:
    """The M3/M4 benchmarks' seasonality test: the autocorrelation at lag m is beyond the 90%
    limit 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n). Deseasonalising a series without a season only
    adds noise (on the first 100 M3 monthly series it cost Theta 3 points of sMAPE)."""
    n = y.size
    if m <= 1 or n < 3 * m:
        return False
    yc = y - y.mean()
    denom = float(yc @ yc)
    if denom <= 0:
        return False
    r = np.array([float(yc[k:] @ yc[:-k]) / denom for k in range(1, m + 1)])
    return bool(abs(r[m - 1]) > 1.645 * math.sqrt((1 + 2 * float(r[:-1] @ r[:-1])) / n))


def _seasonal_indices(y: np.ndarray, m: int) -> np.ndarray | None:
    """Classical multiplicative decomposition's indices (mean 1), or None where it does not apply
    (no season, too short, a value <= 0, or the seasonality test finds none)."""
    if m <= 1 or y.size < 2 * m or np.any(y <= 0) or (y.size >= 3 * m and not seasonal(y, m)):
        return None
    kernel = np.ones(m) / m if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    trend = np.convolve(y, kernel, mode="valid")
    start = (kernel.size - 1) // 2
    ratio = y[start : start + trend.size] / trend
    pos = (np.arange(trend.size) + start) % m
    idx = np.array([ratio[pos == k].mean() for k in range(m)])
    return idx / idx.mean()


def _ses(y: np.ndarray, h: int) -> np.ndarray:
    return np.full(h, _ses_fit(y)[1])


def _theta(y: np.ndarray, h: int) -> np.ndarray:
    n = y.size
    slope = float(np.polyfit(np.arange(n, dtype=np.float64), y, 1)[0]) if n > 1 else 0.0
    alpha, level = _ses_fit(y)
    k = np.arange(1, h + 1, dtype=np.float64)
    return level + 0.5 * slope * (k - 1 + 1 / alpha - (1 - alpha) ** n / alpha)


@dataclass(frozen=True)
class Panel:
    """Several series in one dataset (config.series_id) and the global model's pooled rows: each
    feature row's series, its position in that series and the per-row normaliser its lags and
    target were divided by; `future_x` the rows that forecast steps 1..h from each series' end
    (`future_ok`: the series is long enough to have them)."""

    ids: list[str]
    values: list[np.ndarray]
    n_folds: int
    row_series: np.ndarray
    row_t: np.ndarray
    row_norm: np.ndarray
    future_x: np.ndarray  # (series x h) rows, NaN where not future_ok
    future_norm: np.ndarray
    future_ok: np.ndarray
    global_reason: str | None = None  # why there is no global model (too few rows), else None

    def origin(self, s: int, j: int, h: int) -> int:
        return int(self.values[s].size - (self.n_folds - j) * h - 1)


FALLBACK = "theta"  # what the global model forecasts where a series is too short for its features
COMBINE_TOP = 3  # the combination candidate averages this many of the best candidates by CV


@dataclass
class _Scored:
    """A candidate as the combination sees it: its CV metrics, fold forecasts ([fold][series]) and
    forecasts from each series' end."""

    number: int
    model: str
    metrics: dict[str, float]
    folds: list[list[np.ndarray]]
    final: np.ndarray


@dataclass(frozen=True)
class ForecastPlan:
    """The folds in feature rows, and for each its origin in the series (what a baseline sees);
    with a `panel`, the series of a multi-series dataset (origins per series, counted from each
    series' end) and the global model's rows."""

    series: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    origins: list[int]
    horizon: int
    season: int
    baselines: bool = True  # false on a resumed run that has recorded them already
    panel: Panel | None = None
    _stats: dict[tuple[int, int], dict[str, np.ndarray]] = field(default_factory=dict, compare=False)
    _scored: list[_Scored] = field(default_factory=list, compare=False)

    @property
    def ids(self) -> list[str]:
        return self.panel.ids if self.panel is not None else [""]

    def values(self, s: int) -> np.ndarray:
        return self.panel.values[s] if self.panel is not None else self.series

    def origin(self, s: int, j: int) -> int:
        return self.panel.origin(s, j, self.horizon) if self.panel is not None else self.origins[j]

    @property
    def n_folds(self) -> int:
        return self.panel.n_folds if self.panel is not None else len(self.origins)

    def scale(self, j: int, s: int = 0) -> float:
        return scale_of(self.values(s)[: self.origin(s, j) + 1], self.season)

    def truth(self, s: int, j: int) -> np.ndarray:
        o = self.origin(s, j)
        return self.values(s)[o + 1 : o + 1 + self.horizon]

    def stats(self, s: int, j: int) -> dict[str, np.ndarray]:
        """Every statistical forecast of series s from fold j's origin (j = n_folds: the series'
        end), computed once per plan."""
        from optiloop.automl.search.statistical import forecasts

        key = (s, j)
        if key not in self._stats:
            y = self.values(s)
            hist = y if j == self.n_folds else y[: self.origin(s, j) + 1]
            self._stats[key] = forecasts(hist, self.horizon, self.season)
        return self._stats[key]

    def fold_metrics(self, j: int, y: np.ndarray, out: np.ndarray) -> dict[str, float]:
        if self.panel is None:
            return metrics(y, out[:, 0], self.scale(j))
        return _mean_of(
            [metrics(self.truth(s, j), f, self.scale(j, s)) for s, f in enumerate(self.global_fold(j, out))]
        )

    def global_fold(self, j: int, out: np.ndarray) -> list[np.ndarray]:
        """The global model's fold-j forecasts per series from its outputs on the validation rows
        (normalised), denormalised; the fallback's where a series has no rows there."""
        assert self.panel is not None
        va = self.folds[j][1]
        ser, norm = self.panel.row_series[va], self.panel.row_norm[va]
        pred = out[:, 0] * norm
        per: list[np.ndarray] = []
        for s in range(len(self.panel.ids)):
            mask = ser == s
            per.append(pred[mask] if mask.sum() == self.horizon else self.stats(s, j)[FALLBACK])
        return per

    def baseline_trials(self, first_number: int, metric: str, fingerprint: str = "") -> list[Any]:
        """One completed TrialResult per statistical candidate (seasonal naive only with a season),
        scored on the folds of every series, with its forecast table from each series' end."""
        from optiloop.automl.search.runner import TrialResult, _summary
        from optiloop.automl.search.statistical import STATISTICAL

        names = [b for b in STATISTICAL if b != "seasonal_naive" or self.season > 1]
        out: list[Any] = []
        n_series = len(self.ids)
        for k, name in enumerate(names):
            folds = [[self.stats(s, j)[name] for s in range(n_series)] for j in range(self.n_folds)]
            per_fold = self._judged(folds)
            res = TrialResult(
                first_number + k, "baseline", name,
                {"baseline.method": name, "baseline.season_length": self.season}, "completed",
            )  # fmt: skip
            res.metrics = _summary(per_fold, metric)
            res.fold_scores = [f[metric] for f in per_fold]
            mean = np.array([self.stats(s, self.n_folds)[name] for s in range(n_series)])
            self._export(res, mean, self._errors(folds), fingerprint)
            self._scored.append(_Scored(res.number, name, res.metrics, folds, mean))
            out.append(res)
        combined = self._combination(first_number + len(names), metric, fingerprint)
        return out + ([combined] if combined is not None else [])

    def _combination(self, number: int, metric: str, fingerprint: str) -> Any:
        """The mean of the COMBINE_TOP best candidates by CV (statistical and global alike) as one
        more candidate. Its CV score reuses the folds that chose its members, so it is optimistic
        by the selection; on M3 the mean of close candidates still beat each of them held out."""
        from optiloop.automl.search.runner import TrialResult, _summary

        def key(c: _Scored) -> tuple[bool, float, int]:
            v = c.metrics.get(metric, math.nan)
            return (math.isnan(v), v, c.number)

        members = sorted(self._scored, key=key)[:COMBINE_TOP]
        if len(members) < 2:
            return None
        folds = [
            [np.mean([c.folds[j][s] for c in members], axis=0) for s in range(len(self.ids))]
            for j in range(self.n_folds)
        ]
        per_fold = self._judged(folds)
        params = {
            "combination.method": f"mean of the {len(members)} best candidates by CV {metric}",
            "combination.members": [{"number": c.number, "model": c.model} for c in members],
        }
        res = TrialResult(number, "baseline", "combination", params, "completed")
        res.metrics = _summary(per_fold, metric)
        res.fold_scores = [f[metric] for f in per_fold]
        try:
            self._export(res, np.mean([c.final for c in members], axis=0), self._errors(folds), fingerprint)
        except Exception as e:  # recorded as a failed candidate, like any trial
            res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
        return res

    def export_global(
        self, res: Any, model: Any, x: np.ndarray, y: np.ndarray, outputs: np.ndarray, fingerprint: str
    ) -> None:
        """The global model refit on every row; its forecasts from each series' end (the fallback's
        where a series is too short) as the trial's forecast table."""
        assert self.panel is not None
        p = self.panel
        model.fit(x, y, None)
        mean = np.array([self.stats(s, self.n_folds)[FALLBACK] for s in range(len(p.ids))])
        ok = np.flatnonzero(p.future_ok)
        if ok.size:
            rows = p.future_x[ok].reshape(-1, p.future_x.shape[-1])
            pred = np.asarray(model.predict_outputs(rows))[:, 0].reshape(ok.size, self.horizon)
            mean[ok] = pred * p.future_norm[ok]
        folds = [self.global_fold(j, outputs[self.folds[j][1]]) for j in range(self.n_folds)]
        self._export(res, mean, self._errors(folds), fingerprint)
        self._scored.append(_Scored(res.number, res.model, dict(res.metrics), folds, mean))

    def _judged(self, folds: list[list[np.ndarray]]) -> list[dict[str, float]]:
        """Each fold's metrics, the mean over the series, of fold forecasts given [fold][series]."""
        return [
            _mean_of([metrics(self.truth(s, j), f, self.scale(j, s)) for s, f in enumerate(per)])
            for j, per in enumerate(folds)
        ]

    def _errors(self, folds: list[list[np.ndarray]]) -> list[np.ndarray]:
        """Each series' CV errors (fold x step) of fold forecasts given [fold][series]: what the
        forecast table's intervals are made of."""
        errors = [np.full((self.n_folds, self.horizon), np.nan) for _ in self.ids]
        for j, per in enumerate(folds):
            for s, f in enumerate(per):
                errors[s][j] = self.truth(s, j) - f
        return errors

    def _export(self, res: Any, mean: np.ndarray, errors: list[np.ndarray], fingerprint: str) -> None:
        from optiloop.automl.export.forecast_table import build_table

        scales = [scale_of(self.values(s), self.season) for s in range(len(self.ids))]
        res.artifact = build_table(
            self.ids, mean, errors, scales=scales, params={"model": res.model, **res.params},
            metrics=res.metrics, data_fingerprint=fingerprint,
            rows=int(sum(self.values(s).size for s in range(len(self.ids)))),
        )  # fmt: skip
        res.runtime = "forecast"
        res.export_max_abs_diff = 0.0


def _mean_of(per_series: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's mean over the series (NaN ones left out: a series with no scale has no MASE)."""
    out: dict[str, float] = {}
    for k in per_series[0]:
        vals = np.array([m[k] for m in per_series], dtype=np.float64)
        ok = vals[~np.isnan(vals)]
        out[k] = float(ok.mean()) if ok.size else math.nan
    return out
