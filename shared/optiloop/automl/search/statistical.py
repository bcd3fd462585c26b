"""The statistical forecasters of the search, every one from one pass over a history: naive,
seasonal naive, SES, Theta, ETS (AICc over ETS(A,N,N)/(A,A,N)/(A,Ad,N)), damped trend, and two
combinations — `comb`, the mean of SES, Holt and damped (the M4 competition's "Comb" benchmark),
and `ets_theta_damped`, the median of ETS, Theta and damped.

Why combinations: choosing one method per series by cross-validation on a few folds is noisy —
on the first 100 M3 monthly series the per-series CV pick scored sMAPE 28.8 where the plain mean
of SES/Holt/damped scored 25.8 (statsforecast's AutoETS: 27.7). Averaging forecasters whose errors
differ cancels part of each one's error without having to guess which one is right, which is why
combinations have won the M-competitions since M3. Where a dataset holds many series, the search
chooses the candidate by its mean over all of them, a choice that is not noisy.

ETS, damped, Holt and SES (for `comb`) and Theta run on the seasonally adjusted series
(multiplicative classical decomposition where the seasonality test finds a season, as the M3/M4
benchmarks did), reseasonalised after; naive and seasonal naive on the series itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optiloop.automl.search import ets
from optiloop.automl.search.forecasting import _seasonal_indices, _ses, _theta, naive, seasonal_naive

STATISTICAL = ("naive", "seasonal_naive", "ses", "theta", "ets", "damped", "comb", "ets_theta_damped")
MIN_HISTORY = 4  # values a statistical forecaster needs at least (fewer: naive)


def forecasts(
    history: np.ndarray, h: int, m: int, names: tuple[str, ...] = STATISTICAL
) -> dict[str, np.ndarray]:
    """Each of `names` forecasting h steps after `history` (fits shared between them)."""
    x = np.asarray(history, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    if "naive" in names or x.size < MIN_HISTORY:
        out["naive"] = naive(x, h, m)
    if "seasonal_naive" in names:
        out["seasonal_naive"] = seasonal_naive(x, h, m)
    if x.size < MIN_HISTORY:
        return {k: out["naive"] for k in names}
    si = _seasonal_indices(x, m)
    y = x / si[np.arange(x.size) % m] if si is not None else x
    future = si[(x.size + np.arange(h)) % m] if si is not None else np.ones(h)
    cache: dict[str, np.ndarray] = {}

    def adjusted(key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in cache:
            cache[key] = np.asarray(make(), dtype=np.float64) * future
        return cache[key]

    fits: dict[str, ets.Fit] = {}

    def fitted(model: str) -> ets.Fit:
        if model not in fits:
            fits[model] = ets.fit(y, model if model == "ANN" or y.size >= 8 else "ANN")
        return fits[model]

    def ets_auto() -> np.ndarray:
        for model in ets.MODELS:
            fitted(model)
        return min(fits.values(), key=lambda f: (f.aicc, ets.MODELS.index(f.model))).forecast(h)

    makers: dict[str, Callable[[], np.ndarray]] = {
        "ses": lambda: _ses(y, h),
        "theta": lambda: _theta(y, h),
        "ets": ets_auto,
        "damped": lambda: fitted("AAdN").forecast(h),
        "holt": lambda: fitted("AAN").forecast(h),
        "ets_ses": lambda: fitted("ANN").forecast(h),
    }
    for name in names:
        if name in out:
            continue
        if name == "comb":
            parts = [adjusted(k, makers[k]) for k in ("ets_ses", "holt", "damped")]
            out[name] = np.mean(parts, axis=0)
        elif name == "ets_theta_damped":
            parts = [adjusted(k, makers[k]) for k in ("ets", "theta", "damped")]
            out[name] = np.median(parts, axis=0)
        else:
            out[name] = adjusted(name, makers[name])
    return out
