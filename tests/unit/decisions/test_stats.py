"""Fixed-horizon statistics checked against scipy (and against the raw-data estimators they restate
from sufficient statistics): z and Welch t, Holm, CUPED, the sample-ratio-mismatch check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from optiloop.decisions import stats


def test_welch_t_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, 40), rng.normal(0.4, 2.5, 75)
    t = stats.welch_t(len(a), a.mean(), a.var(ddof=1), len(b), b.mean(), b.var(ddof=1))
    ref = sps.ttest_ind(b, a, equal_var=False)
    assert t.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert t.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    lo, hi = ref.confidence_interval(0.95)
    assert t.ci == pytest.approx((lo, hi), rel=1e-9)


def test_two_proportion_z_matches_the_chi_square_test() -> None:
    # the pooled two-proportion z squared is Pearson's chi-square on the 2x2 table (no continuity fix)
    z = stats.two_proportion_z(1000, 200, 1100, 260)
    chi2, p, _, _ = sps.chi2_contingency([[200, 800], [260, 840]], correction=False)
    assert z.statistic**2 == pytest.approx(chi2, rel=1e-10)
    assert z.p_value == pytest.approx(p, rel=1e-10)
    assert z.diff == pytest.approx(260 / 1100 - 0.2)
    assert z.ci[0] < z.diff < z.ci[1]


def test_holm_step_down() -> None:
    # hand-computed: sorted 0.01, 0.02, 0.04 -> 0.03, 0.04, 0.04 (monotone), in the given order
    assert stats.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert stats.holm([]) == []


def test_cuped_from_sums_equals_the_raw_estimator_and_reduces_variance() -> None:
    rng = np.random.default_rng(2)
    pre = [rng.normal(10, 3, 300), rng.normal(10, 3, 320)]
    post = [0.8 * pre[0] + rng.normal(0, 1, 300), 0.8 * pre[1] + 0.3 + rng.normal(0, 1, 320)]
    adjusted, theta = stats.cuped(post, pre)
    n = np.array([300.0, 320.0])
    sums = [np.array([f(y, x) for y, x in zip(post, pre, strict=True)]) for f in (
        lambda y, x: y.sum(), lambda y, x: (y * y).sum(), lambda y, x: x.sum(),
        lambda y, x: (x * x).sum(), lambda y, x: (x * y).sum())]  # fmt: skip
    theta2, mean, var = stats.cuped_arms(n, *sums)
    assert theta2 == pytest.approx(theta, rel=1e-9)
    assert theta == pytest.approx(0.8, abs=0.05)
    assert mean == pytest.approx([a.mean() for a in adjusted], rel=1e-9)
    assert var == pytest.approx([a.var(ddof=1) for a in adjusted], rel=1e-7)
    assert var.sum() < 0.25 * sum(y.var(ddof=1) for y in post)


def test_srm_matches_scipy_chisquare() -> None:
    p = stats.srm([5000, 5300], [0.5, 0.5])
    assert p == pytest.approx(sps.chisquare([5000, 5300], [5150, 5150]).pvalue, rel=1e-10)
    assert p < 0.01
    assert stats.srm([2010, 7990], [0.2, 0.8]) > 0.5
    assert stats.srm([0, 0], [0.5, 0.5]) == 1.0
