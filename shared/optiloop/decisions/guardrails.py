"""Guardrail metrics: a treatment that makes quality, cost or tail latency worse than the control by
more than the experiment tolerates stops the experiment (it is paused, audited, with the reason).

The default guardrails are the issue's: quality down 5%, cost up 10%, p95 latency up 20% (relative to
the control, the first variant). A guardrail is judged only once both arms have `min_samples`
observations of its metric, so the first noisy rewards cannot stop anything; means are compared
as observed (a guardrail is a safety brake, not a significance test — tolerances are the slack).

Metrics come from the feedback's named observations (`rewards` components and `observations`, with
`cost` and `latency_ms` joined from the generate trace); p95 latency from the per-arm histogram.
"""

from __future__ import annotations

from typing import Any

from optiloop.decisions.state import LearnerState, latency_quantile

DEFAULT_GUARDRAILS: list[dict[str, Any]] = [
    {"metric": "quality", "stat": "mean", "direction": "decrease", "max_relative": 0.05},
    {"metric": "cost", "stat": "mean", "direction": "increase", "max_relative": 0.10},
    {"metric": "latency_ms", "stat": "p95", "direction": "increase", "max_relative": 0.20},
]
GUARDRAIL_MIN_SAMPLES = 30


def _value(state: LearnerState, rule: dict[str, Any], arm: int) -> tuple[float | None, int]:
    if rule["stat"] == "p95":
        if state.latency is None or rule["metric"] != "latency_ms":
            return None, 0
        counts = state.latency[arm]
        return latency_quantile(counts, 0.95), int(counts.sum())
    row = state.observed.get(rule["metric"])
    if row is None or row[0, arm] <= 0:
        return None, 0
    return float(row[1, arm] / row[0, arm]), int(row[0, arm])


def evaluate(spec: dict[str, Any], state: LearnerState) -> list[dict[str, Any]]:
    """Every guardrail per treatment: control and treatment values, relative change, `breached`."""
    out: list[dict[str, Any]] = []
    min_n = int(spec.get("guardrail_min_samples", GUARDRAIL_MIN_SAMPLES))
    ids = [v["id"] for v in spec["variants"]]
    for rule in spec.get("guardrails", DEFAULT_GUARDRAILS):
        base, n0 = _value(state, rule, 0)
        for arm in range(1, len(ids)):
            value, n1 = _value(state, rule, arm)
            change: float | None = None
            if base is not None and value is not None and base != 0:
                change = (value - base) / abs(base)
            sign = 1.0 if rule["direction"] == "increase" else -1.0
            breached = bool(
                change is not None and n0 >= min_n and n1 >= min_n and sign * change > rule["max_relative"]
            )
            out.append(
                {
                    "metric": rule["metric"], "stat": rule["stat"], "variant": ids[arm],
                    "control_value": base, "value": value, "relative_change": change,
                    "limit": sign * rule["max_relative"], "n": [n0, n1], "breached": breached,
                }
            )  # fmt: skip
    return out


def breaches(spec: dict[str, Any], state: LearnerState) -> list[dict[str, Any]]:
    return [g for g in evaluate(spec, state) if g["breached"]]
