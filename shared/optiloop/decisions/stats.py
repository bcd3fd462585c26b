"""Fixed-horizon statistics beside the always-valid ones (`sequential`): what a team that fixed its
sample size up front reads, computed from sufficient statistics only (n, sum, sum of squares), so the
results need no scan of the logged rewards.

- `two_proportion_z`: binary metrics, pooled-variance z (the textbook test; a CI from the unpooled
  standard error).
- `welch_t`: continuous metrics, unequal variances with Welch–Satterthwaite degrees of freedom.
- `holm`: Holm's step-down adjustment, for 3+ variants (each treatment vs the control): controls the
  family-wise error like Bonferroni and is uniformly more powerful.
- `cuped`: variance reduction with a pre-period covariate (Deng et al. 2013): theta = cov(y, x)/var(x)
  pooled over arms, y - theta (x - mean x) per arm; unbiased for the difference because x predates
  assignment.
- `srm`: sample-ratio mismatch — a chi-square goodness of fit of the observed counts to the
  configured split; a tiny p-value means assignment or logging is broken and no result is trusted.

Valid only when read once at the planned horizon: peeking inflates their error (that is what the
mSPRT is for; tests/benchmarks/decisions_quality.py measures both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class Test:
    diff: float
    ci: tuple[float, float]
    p_value: float
    statistic: float
    method: str


def two_proportion_z(n_a: float, s_a: float, n_b: float, s_b: float, alpha: float = 0.05) -> Test:
    """B minus A for success counts `s` out of `n` (each n >= 1)."""
    pa, pb = s_a / n_a, s_b / n_b
    pooled = (s_a + s_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (pb - pa) / se0 if se0 > 0 else 0.0
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    half = float(sps.norm.isf(alpha / 2)) * se
    return Test(
        pb - pa, (pb - pa - half, pb - pa + half), float(2 * sps.norm.sf(abs(z))), z, "two-proportion z"
    )


def welch_t(
    n_a: float, mean_a: float, var_a: float, n_b: float, mean_b: float, var_b: float, alpha: float = 0.05
) -> Test:
    """B minus A from each arm's n, mean and sample variance (each n >= 2)."""
    va, vb = var_a / n_a, var_b / n_b
    se = math.sqrt(va + vb)
    diff = mean_b - mean_a
    if se == 0:
        return Test(diff, (diff, diff), 1.0 if diff == 0 else 0.0, 0.0, "Welch t")
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    t = diff / se
    half = float(sps.t.isf(alpha / 2, df)) * se
    return Test(diff, (diff - half, diff + half), float(2 * sps.t.sf(abs(t), df)), t, "Welch t")


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (compare each with alpha), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def cuped(y: list[np.ndarray], x: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """Per arm, y adjusted by the pre-period covariate x; and theta. Arms are 1-d arrays."""
    ys, xs = np.concatenate(y), np.concatenate(x)
    var = float(np.var(xs, ddof=1)) if len(xs) > 1 else 0.0
    theta = float(np.cov(ys, xs, ddof=1)[0, 1] / var) if var > 0 else 0.0
    mx = float(xs.mean())
    return [yi - theta * (xi - mx) for yi, xi in zip(y, x, strict=True)], theta


def cuped_arms(
    n: np.ndarray, sy: np.ndarray, syy: np.ndarray, sx: np.ndarray, sxx: np.ndarray, sxy: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """theta (pooled over arms) and per arm the mean and sample variance of y - theta (x - mean x),
    from per-arm sums over the rewards that carried a covariate (the same estimator as `cuped`)."""
    total = float(n.sum())
    if total < 2:
        return 0.0, np.zeros_like(n), np.zeros_like(n)
    tx, ty = float(sx.sum()), float(sy.sum())
    var_x = (float(sxx.sum()) - tx * tx / total) / (total - 1)
    cov = (float(sxy.sum()) - tx * ty / total) / (total - 1)
    theta = cov / var_x if var_x > 0 else 0.0
    mx = tx / total
    safe = np.maximum(n, 1.0)
    mean = (sy - theta * (sx - n * mx)) / safe
    s_z, s_zz = sy - theta * sx, syy - 2 * theta * sxy + theta * theta * sxx
    var = np.divide(s_zz - s_z * s_z / safe, n - 1, out=np.zeros_like(n), where=n > 1)
    return theta, mean, np.maximum(var, 0.0)


def srm(observed: list[float], weights: list[float]) -> float:
    """p-value of the chi-square test that `observed` counts follow the configured `weights`."""
    total = sum(observed)
    if total <= 0:
        return 1.0
    expected = [w * total for w in weights]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True) if e > 0)
    return float(sps.chi2.sf(chi2, len(observed) - 1))
