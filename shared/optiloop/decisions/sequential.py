"""Always-valid inference: the mixture sequential probability ratio test (mSPRT) with a normal mixture,
and the confidence sequences it induces (Johari, Pekelis, Walsh 2017; Howard et al. 2021).

For an estimate `est` of an effect theta with variance `v` (a mean: sd^2/n; a difference of means:
sd_a^2/n_a + sd_b^2/n_b) and a N(0, tau^2) mixing prior over theta, the mixture likelihood ratio
against theta0 is

    L = sqrt(v / (v + tau^2)) * exp((est - theta0)^2 tau^2 / (2 v (v + tau^2)))

Under theta = theta0 it is a nonnegative martingale, so by Ville's inequality P(ever L >= 1/alpha)
<= alpha: `p = min(1, 1/L)` may be checked after every reward, and the interval of theta0 with
L < 1/alpha covers theta at all times with probability >= 1 - alpha. Variances are plug-in estimates
(as in the published mSPRT), so the guarantee is asymptotic; `min_samples` keeps the first few
noisy looks from deciding anything.
"""

from __future__ import annotations

import math

import numpy as np


def log_mixture_ratio(est: np.ndarray | float, v: np.ndarray | float, tau2: np.ndarray | float) -> np.ndarray:
    est, v = np.asarray(est, dtype=float), np.asarray(v, dtype=float)
    return 0.5 * np.log(v / (v + tau2)) + est**2 * tau2 / (2.0 * v * (v + tau2))


def p_value(est: np.ndarray | float, v: np.ndarray | float, tau2: np.ndarray | float) -> np.ndarray:
    """The always-valid p-value against theta = 0 at this look."""
    out: np.ndarray = np.minimum(1.0, np.exp(-log_mixture_ratio(est, v, tau2)))
    return out


def half_width(v: float, tau2: float, alpha: float) -> float:
    """Half the width of the (1 - alpha) confidence sequence around the estimate."""
    if v <= 0:
        return 0.0
    return math.sqrt(v * (v + tau2) / tau2 * (2.0 * math.log(1.0 / alpha) + math.log((v + tau2) / v)))
