"""Exponential smoothing state space models with additive errors — ETS(A,N,N), ETS(A,A,N) and
ETS(A,Ad,N) — fitted by least squares (the Gaussian likelihood's maximum for additive errors), and
the one of them with the smallest AICc (Hyndman et al. 2002/2008, as `forecast::ets` and
statsforecast's AutoETS choose).

Why these three and no seasonal state: the search deseasonalises first (classical multiplicative
decomposition where a seasonality test says there is a season, as the M3/M4 benchmarks did), so
the models see a seasonally adjusted series; that keeps the optimisation to at most five numbers
and the fit to tens of milliseconds in numpy + scipy (statsmodels is not a dependency: its ETS is
~10x slower and would be one more wheel in the worker). Multiplicative errors and trends are not
tried: on the adjusted M3 series they changed the choice rarely and cost a third more fits.

The parameters are bounded as the usual admissible region's box (alpha in (0, 1), beta in
(0, alpha), phi in [0.8, 0.98]); the initial level and trend are optimised with them, started
from a line through the first values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ROWS = 2000  # the last values only: an alpha >= 1e-4 forgets the rest within numerical noise
MODELS = ("ANN", "AAN", "AAdN")
PHI_BOUNDS = (0.8, 0.98)
EPS = 1e-4


@dataclass(frozen=True)
class Fit:
    model: str  # ANN | AAN | AAdN
    alpha: float
    beta: float
    phi: float
    level: float  # the final states, after the last value
    trend: float
    sse: float
    n: int
    aicc: float

    def forecast(self, h: int) -> np.ndarray:
        k = np.arange(1, h + 1, dtype=np.float64)
        if self.model == "ANN":
            return np.full(h, self.level)
        if self.model == "AAN":
            return self.level + k * self.trend
        damp = np.cumsum(self.phi**k)  # phi + phi^2 + ... + phi^k
        return self.level + damp * self.trend


def _filter(
    y: np.ndarray, alpha: float, beta: float, phi: float, l0: float, b0: float, trend: bool
) -> tuple[float, float, float]:
    """(sse, final level, final trend) of the one-step errors."""
    level, slope, sse = l0, b0, 0.0
    for v in y:
        pred = level + phi * slope
        e = float(v) - pred
        sse += e * e
        level = pred + alpha * e
        if trend:
            slope = phi * slope + beta * e
    return sse, level, slope


def _aicc(sse: float, n: int, k: int) -> float:
    if n - k - 1 <= 0:
        return math.inf
    return n * math.log(max(sse, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def fit(y: np.ndarray, model: str) -> Fit:
    """One model fitted to `y` (at least 3 values; the last MAX_ROWS are used)."""
    from scipy.optimize import minimize

    y = np.asarray(y, dtype=np.float64)[-MAX_ROWS:]
    n = y.size
    trend, damped = model != "ANN", model == "AAdN"
    head = y[: min(n, 10)]
    b0 = float(np.polyfit(np.arange(head.size), head, 1)[0]) if trend and head.size > 1 else 0.0
    l0 = float(head[0]) - b0
    spread = float(np.std(y)) or 1.0
    # optimise the states on a unit scale: L-BFGS-B's steps are shared by all coordinates
    x0 = [0.3, 0.3, 0.9, 0.0, 0.0] if trend else [0.3, 0.0]
    bounds = [(EPS, 1 - EPS), (EPS, 1 - EPS), PHI_BOUNDS, (None, None), (None, None)]
    if not trend:
        bounds = [(EPS, 1 - EPS), (None, None)]

    def unpack(p: np.ndarray) -> tuple[float, float, float, float, float]:
        if not trend:
            return float(p[0]), 0.0, 1.0, l0 + float(p[1]) * spread, 0.0
        phi = float(p[2]) if damped else 1.0
        return float(p[0]), float(p[0] * p[1]), phi, l0 + float(p[3]) * spread, b0 + float(p[4]) * spread

    def objective(p: np.ndarray) -> float:
        a, b, phi, lv, bv = unpack(p)
        return _filter(y, a, b, phi, lv, bv, trend)[0] / (spread * spread)

    if trend and not damped:
        bounds[2] = (1.0, 1.0)
        x0[2] = 1.0
    res = minimize(objective, np.array(x0), method="L-BFGS-B", bounds=bounds, options={"maxiter": 200})
    a, b, phi, lv, bv = unpack(res.x)
    sse, level, slope = _filter(y, a, b, phi, lv, bv, trend)
    k = {"ANN": 2, "AAN": 4, "AAdN": 5}[model]  # smoothing parameters + initial states
    return Fit(model, a, b, phi, level, slope, sse, n, _aicc(sse, n, k))


def auto(y: np.ndarray, models: tuple[str, ...] = MODELS) -> Fit:
    """The model of `models` with the smallest AICc (trend models need at least 8 values)."""
    y = np.asarray(y, dtype=np.float64)
    usable = [m for m in models if m == "ANN" or y.size >= 8]
    fits = [fit(y, m) for m in usable or ["ANN"]]
    return min(fits, key=lambda f: (f.aicc, MODELS.index(f.model)))
