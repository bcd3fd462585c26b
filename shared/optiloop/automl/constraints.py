"""Constraints on what a trial's model costs to serve, and the accuracy-vs-latency Pareto front.

`config.constraints` bounds the served model: `latency_ms_p95` (a one-row predict through the
serving runtime, estimated from the model's structure by optiloop.automl.cost, so a loaded machine
does not change which trials are feasible) and `model_size_bytes` (the artifact's bytes). A trial
over a bound is *infeasible*: it stays on the leaderboard, ranked after every feasible trial and
marked with its violations, and it is never the experiment's best, a member of the ensemble, or a
warm-start configuration's reason to win. The search is told too: with constraints, Optuna's TPE
sampler receives each trial's normalised violations (`value / limit - 1`, feasible when <= 0)
and prefers the region that meets them.

Why the limits are hard and not a penalty on the objective: a penalty needs a price per
millisecond that nobody can state, and it lets a slow-but-accurate model win by enough accuracy;
a data scientist who writes `latency_ms_p95: 5` means "not slower than 5 ms". The Pareto front shows
what each millisecond buys, so the limit can be chosen with the trade-off in view.
"""

from __future__ import annotations

import math
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput

# key -> (unit, largest accepted limit): an hour per row or a 10 GiB model bound nothing real
LIMITS: dict[str, tuple[str, float]] = {
    "latency_ms_p95": ("ms", 3_600_000.0),
    "model_size_bytes": ("bytes", float(10 * 2**30)),
}
PARETO_X = "latency_ms_p95"


def parse(raw: Any) -> dict[str, float]:
    """`config.constraints` checked: known keys, positive finite numbers (a 422 naming the key)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput(FieldProblem("config.constraints", "must be an object of limits"))
    out: dict[str, float] = {}
    for key, value in raw.items():
        field = f"config.constraints.{key}"
        if key not in LIMITS:
            raise InvalidInput(FieldProblem(field, f"is not a constraint; one of {', '.join(LIMITS)}"))
        unit, ceiling = LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(FieldProblem(field, f"must be a number of {unit}"))
        if not 0 < value <= ceiling:
            raise InvalidInput(FieldProblem(field, f"must be > 0 and <= {ceiling:g} {unit}"))
        out[key] = float(value)
    return out


def violations(cost: dict[str, float] | None, limits: dict[str, float]) -> list[str]:
    """What a trial's cost exceeds, one readable line per bound ([] when it meets them all, or
    when it has no served model to measure: a forecasting baseline)."""
    if not cost:
        return []
    return [
        f"{key} {cost[key]:g} > {limit:g}"
        for key, limit in sorted(limits.items())
        if key in cost and cost[key] > limit
    ]


def optuna_values(cost: dict[str, float] | None, limits: dict[str, float]) -> list[float]:
    """The normalised violations Optuna's constrained TPE reads (feasible when every one is <= 0);
    zeros for a trial without a served model (unknown is not held against it)."""
    return [
        (cost[key] / limit - 1.0) if cost and key in cost else 0.0 for key, limit in sorted(limits.items())
    ]


def pareto_front(points: list[tuple[float, float, int]]) -> list[int]:
    """`points`: (latency, score larger-better, trial number). The trials no other trial beats on
    both (at most as slow and at least as good, better on one), by latency ascending; ties keep the
    earlier trial."""
    front: list[int] = []
    best = -math.inf
    for _latency, score, number in sorted(points, key=lambda p: (p[0], -p[1], p[2])):
        if score > best:
            front.append(number)
            best = score
    return front
