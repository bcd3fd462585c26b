"""Canary experiments: a candidate (the second variant) takes a growing share of traffic — 5% -> 25% ->
50% -> 100% by default — moving on only when both arms have `min_samples` rewards in the current stage
and the candidate is not significantly worse on the metric (the always-valid mSPRT, so checking at
every reward is safe). Guardrails (quality, cost, p95 latency) pause it like any experiment; a
candidate significantly worse on the metric pauses it too, with the reason. At the last stage (100%)
with its samples, results recommend promoting the candidate — through approvals, never silently.

Assignment is the AB split's sticky hash against the stage's share: a unit whose hash is below the
share sees the candidate, so a unit that saw the candidate keeps seeing it as the share grows.

The stage lives in the checkpoint beside the sums; each reward record carries the stage it counted in
and whether it advanced the stage, so `rebuild` recovers the stage and the per-stage counts exactly.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from optiloop.decisions import sequential
from optiloop.decisions.state import LearnerState
from optiloop.errors import FieldProblem

DEFAULT_STAGES = (0.05, 0.25, 0.5, 1.0)


def normalise(
    raw: dict[str, Any] | None, n_variants: int, min_samples: int, problems: list[FieldProblem]
) -> dict[str, Any]:
    raw = raw or {}
    stages = [float(s) for s in (raw.get("stages") or DEFAULT_STAGES)]
    if n_variants != 2:
        problems.append(
            FieldProblem("variants", "a Canary has two variants: the control, then the candidate")
        )
    if any(b <= a for a, b in itertools.pairwise(stages)) or stages[-1] != 1.0 or stages[0] <= 0:
        problems.append(FieldProblem("canary.stages", "shares must rise strictly, above 0, and end at 1"))
    return {"stages": stages, "min_samples": int(raw.get("min_samples") or min_samples)}


def share(spec: dict[str, Any], state: LearnerState) -> float:
    stages: list[float] = spec["canary"]["stages"]
    return stages[min(int(state.stage or 0), len(stages) - 1)]


def fold(state: LearnerState, spec: dict[str, Any], arm: int) -> tuple[int, bool]:
    """Count the reward in the current stage; advance when the stage is done and the candidate is not
    worse. Returns (the stage it counted in, whether the stage advanced)."""
    if state.stage_n is None:
        return 0, False
    stage = int(state.stage or 0)
    state.stage_n[arm] += 1.0
    last = len(spec["canary"]["stages"]) - 1
    if stage >= last or not _stage_done(spec, state) or worse(spec, state):
        return stage, False
    state.stage = stage + 1
    state.stage_n[:] = 0.0
    return stage, True


def _stage_done(spec: dict[str, Any], state: LearnerState) -> bool:
    assert state.stage_n is not None
    need = spec["canary"]["min_samples"]
    if share(spec, state) >= 1.0:
        return bool(state.stage_n[1] >= need)
    return bool((state.stage_n >= need).all())


def worse(spec: dict[str, Any], state: LearnerState) -> bool:
    """The candidate is significantly worse than the control on the metric (mSPRT at alpha)."""
    n = state.n
    if (n < 2).any():
        return False
    mean = state.s / n
    if spec["metric"]["kind"] == "binary":
        var = np.clip(mean, 0, 1) * (1 - np.clip(mean, 0, 1))
    else:
        var = np.maximum((state.ss - n * mean**2) / (n - 1), 0.0)
    v = float(max(var[0] / n[0] + var[1] / n[1], 1e-12))
    pooled = float(np.average(var, weights=n))
    stop = spec["stopping"]
    diff = float(mean[1] - mean[0])
    sign = -1.0 if spec["metric"]["direction"] == "minimize" else 1.0
    p = float(sequential.p_value(diff, v, max(stop["tau"] ** 2 * pooled, 1e-12)))
    return bool(p <= stop["alpha"] and sign * diff < 0 and (n >= stop["min_samples"]).all())


def rebuild(state: LearnerState, records: list[dict[str, Any]]) -> None:
    if state.stage_n is None:
        return
    state.stage = max([int(r.get("stage", 0)) + int(bool(r.get("advanced"))) for r in records], default=0)
    state.stage_n[:] = 0.0
    for r in records:
        if int(r.get("stage", 0)) == state.stage:
            state.stage_n[int(r["arm"])] += 1.0


def summary(spec: dict[str, Any], state: LearnerState) -> dict[str, Any] | None:
    if state.stage_n is None:
        return None
    stages = spec["canary"]["stages"]
    stage = int(state.stage or 0)
    need = spec["canary"]["min_samples"]
    done = stage == len(stages) - 1 and _stage_done(spec, state)
    bad = worse(spec, state)
    return {
        "stage": stage,
        "share": stages[stage],
        "stages": stages,
        "stage_rewards": state.stage_n.astype(int).tolist(),
        "min_samples": need,
        "candidate_worse": bad,
        "complete": done,
        # promotion goes through approvals (POST /v1/approvals on the candidate's prompt or model
        # version): the experiment only recommends
        "recommendation": "promote" if done and not bad else ("stop" if bad else "continue"),
    }
