"""What `GET /v1/experiments/{id}` reports for an online experiment: per variant the rewards counted,
mean, always-valid confidence interval and probability to be best; per treatment its difference
from the control (the first variant) with an always-valid interval and p-value; and a stopping
recommendation. Alpha is split over the treatments (Bonferroni) so 3+ variants stay honest.

Beside them, for teams that fixed a horizon: two-proportion z (binary) or Welch t (continuous) per
treatment with Holm-adjusted p-values; CUPED-adjusted Welch comparisons when rewards carried a
pre-period covariate; a sample-ratio-mismatch check of AB splits; the guardrails; and the per-day
series (each UTC day of the decisions: per variant n and mean).

Probability to be best draws from the posteriors (Beta for binary metrics, normal for continuous)
with a fixed seed, so the same state always reports the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.decisions import adapt, canary, guardrails, sequential, stats
from optiloop.decisions.state import LearnerState

PROB_DRAWS = 4000
MIN_VAR = 1e-12
SRM_ALPHA = 0.001  # the usual threshold: a mismatch this unlikely means broken assignment or logging


def _moments(state: LearnerState, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    n = state.n
    mean = np.divide(state.s, n, out=np.zeros_like(n), where=n > 0)
    if binary:
        p = np.clip(mean, 0.0, 1.0)
        var = p * (1.0 - p)
    else:
        var = np.divide(state.ss - n * mean**2, n - 1, out=np.zeros_like(n), where=n > 1)
    return mean, np.maximum(var, 0.0)


def prob_best(state: LearnerState, metric: dict[str, Any]) -> np.ndarray:
    n, rng = state.n, np.random.default_rng(0)
    mean, var = _moments(state, metric["kind"] == "binary")
    if metric["kind"] == "binary":
        draws = rng.beta(1.0 + state.s, 1.0 + n - state.s, size=(PROB_DRAWS, len(n)))
    else:
        sd = np.sqrt(np.where(n > 1, var, var[n > 1].mean() if (n > 1).any() else 1.0) / np.maximum(n, 1.0))
        draws = rng.normal(mean, np.maximum(sd, 1e-9), size=(PROB_DRAWS, len(n)))
    best = np.argmin(draws, axis=1) if metric["direction"] == "minimize" else np.argmax(draws, axis=1)
    return np.bincount(best, minlength=len(n)) / PROB_DRAWS


def summarise(spec: dict[str, Any], state: LearnerState) -> dict[str, Any]:
    metric, stop = spec["metric"], spec["stopping"]
    binary = metric["kind"] == "binary"
    n = state.n
    mean, var = _moments(state, binary)
    pooled = float(np.average(var, weights=n)) if n.sum() > 0 else 0.0
    tau2 = max((stop["tau"] ** 2) * pooled, MIN_VAR)
    k = len(n)
    alpha = stop["alpha"] / max(k - 1, 1)
    pbest = prob_best(state, metric)
    variants = []
    for i, v in enumerate(spec["variants"]):
        se2 = var[i] / n[i] if n[i] > 0 else 0.0
        hw = sequential.half_width(se2, tau2, stop["alpha"]) if n[i] > 1 else None
        variants.append(
            {
                "id": v["id"],
                "n": int(n[i]),
                "mean": float(mean[i]) if n[i] else None,
                "ci": [float(mean[i] - hw), float(mean[i] + hw)] if hw is not None else None,
                "prob_best": float(pbest[i]),
            }
        )
    sign = -1.0 if metric["direction"] == "minimize" else 1.0
    comparisons, better, worse = [], [], 0
    ready = bool((n >= stop["min_samples"]).all())
    for i in range(1, k):
        if n[0] < 2 or n[i] < 2:
            comparisons.append(
                {"variant": spec["variants"][i]["id"], "diff": None, "ci": None, "p_value": None}
            )
            continue
        diff = float(mean[i] - mean[0])
        v = float(max(var[0] / n[0] + var[i] / n[i], MIN_VAR))
        p = float(sequential.p_value(diff, v, tau2))
        hw = sequential.half_width(v, tau2, alpha)
        crossed = ready and p <= alpha
        comparisons.append(
            {"variant": spec["variants"][i]["id"], "diff": diff, "ci": [diff - hw, diff + hw], "p_value": p,
             "significant": crossed}
        )  # fmt: skip
        if crossed and sign * diff > 0:
            better.append((sign * diff, i))
        elif crossed:
            worse += 1
    return {
        "rewards": int(n.sum()),
        "variants": variants,
        "control": spec["variants"][0]["id"],
        "comparisons": comparisons,
        "alpha": stop["alpha"],
        "alpha_per_comparison": alpha,
        "method": "mSPRT (normal mixture), always-valid: safe to check at any time",
        "stopping": _recommend(spec, n, better, worse, ready),
        "fixed_horizon": fixed_horizon(spec, state, binary, mean, var),
        "cuped": cuped(spec, state),
        "srm": srm(spec, n),
        "guardrails": guardrails.evaluate(spec, state),
        "series": series(spec, state),
        "drift": adapt.summary(state),
        "canary": canary.summary(spec, state),
    }


def fixed_horizon(
    spec: dict[str, Any], state: LearnerState, binary: bool, mean: np.ndarray, var: np.ndarray
) -> dict[str, Any]:
    """Each treatment vs the control once, valid only if read at a horizon fixed in advance."""
    n, alpha = state.n, spec["stopping"]["alpha"]
    rows: list[dict[str, Any]] = []
    for i in range(1, len(n)):
        vid = spec["variants"][i]["id"]
        if n[0] < 2 or n[i] < 2:
            rows.append({"variant": vid, "diff": None, "ci": None, "p_value": None})
            continue
        if binary:
            t = stats.two_proportion_z(n[0], state.s[0], n[i], state.s[i], alpha)
        else:
            t = stats.welch_t(n[0], mean[0], var[0], n[i], mean[i], var[i], alpha)
        rows.append({"variant": vid, "diff": t.diff, "ci": list(t.ci), "p_value": t.p_value,
                     "statistic": t.statistic, "method": t.method})  # fmt: skip
    _adjust(rows, alpha)
    return {"comparisons": rows, "correction": "Holm" if len(n) > 2 else None}


def _adjust(rows: list[dict[str, Any]], alpha: float) -> None:
    tested = [r for r in rows if r["p_value"] is not None]
    for r, adj in zip(tested, stats.holm([r["p_value"] for r in tested]), strict=True):
        r["p_adjusted"] = adj
        r["significant"] = adj <= alpha


def cuped(spec: dict[str, Any], state: LearnerState) -> dict[str, Any] | None:
    """Welch comparisons of covariate-adjusted rewards, over the rewards that carried a covariate."""
    if state.cov is None:
        return None
    cn, sy, syy, sx, sxx, sxy = state.cov
    theta, mean, var = stats.cuped_arms(cn, sy, syy, sx, sxx, sxy)
    raw_var = np.divide(syy - sy * sy / np.maximum(cn, 1.0), cn - 1, out=np.zeros_like(cn), where=cn > 1)
    alpha = spec["stopping"]["alpha"]
    rows: list[dict[str, Any]] = []
    for i in range(1, len(cn)):
        vid = spec["variants"][i]["id"]
        if cn[0] < 2 or cn[i] < 2:
            rows.append({"variant": vid, "diff": None, "ci": None, "p_value": None})
            continue
        t = stats.welch_t(cn[0], mean[0], var[0], cn[i], mean[i], var[i], alpha)
        rows.append({"variant": vid, "diff": t.diff, "ci": list(t.ci), "p_value": t.p_value,
                     "statistic": t.statistic, "method": "CUPED + Welch t"})  # fmt: skip
    _adjust(rows, alpha)
    total_raw = float((raw_var * np.maximum(cn - 1, 0)).sum())
    total_adj = float((var * np.maximum(cn - 1, 0)).sum())
    return {
        "theta": theta,
        "n": cn.astype(int).tolist(),
        "variance_reduction": 1.0 - total_adj / total_raw if total_raw > 0 else None,
        "comparisons": rows,
    }


def srm(spec: dict[str, Any], n: np.ndarray) -> dict[str, Any] | None:
    """AB splits only: bandits move traffic on purpose, so a ratio check means nothing there. Counts
    are rewarded decisions (the units whose outcome reached the results)."""
    if spec["type"] != "AB" or n.sum() <= 0:
        return None
    weights = [float(v["weight"]) for v in spec["variants"]]
    p = stats.srm(n.tolist(), weights)
    return {"p_value": p, "expected": weights, "observed": n.astype(int).tolist(), "mismatch": p < SRM_ALPHA}


def series(spec: dict[str, Any], state: LearnerState) -> list[dict[str, Any]]:
    ids = [v["id"] for v in spec["variants"]]
    out = []
    for day, (cnt, tot) in sorted(state.days.items()):
        per = [
            {"id": vid, "n": int(c), "mean": float(t / c) if c else None}
            for vid, c, t in zip(ids, cnt, tot, strict=True)
        ]
        out.append({"day": day, "variants": per})
    return out


def _recommend(
    spec: dict[str, Any], n: np.ndarray, better: list[tuple[float, int]], worse: int, ready: bool
) -> dict[str, Any]:
    ids = [v["id"] for v in spec["variants"]]
    stop = spec["stopping"]
    if better:
        winner = ids[max(better)[1]]
        return {
            "recommendation": "stop",
            "winner": winner,
            "reason": f"{winner} beats {ids[0]} (always-valid test)",
        }
    if worse and worse == len(ids) - 1:
        return {
            "recommendation": "stop",
            "winner": ids[0],
            "reason": f"every treatment is worse than {ids[0]}",
        }
    if stop.get("max_samples") and n.sum() >= stop["max_samples"]:
        return {
            "recommendation": "stop",
            "winner": None,
            "reason": "max_samples reached without a difference",
        }
    reason = (
        "no difference has crossed yet"
        if ready
        else f"each variant needs {stop['min_samples']} rewards first"
    )
    return {"recommendation": "continue", "winner": None, "reason": reason}
