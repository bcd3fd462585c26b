"""What a decision is based on: the newest completed evaluations of the entity under review.

Evaluation runs are stored by `optiloop.prompts.evals` as `eval_run` documents scoped to the
prompt version, sorted by time; this module only reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optiloop.deps import Deps

SCAN = 50  # evaluations looked at per decision: plenty for "the newest one on dataset X"


def latest_evals(deps: Deps, version_id: str) -> list[dict[str, Any]]:
    """Newest completed evaluation per dataset, newest first."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for doc in deps.store.docs.list("eval_run", version_id, limit=SCAN, descending=True):
        run = doc.data
        if run.get("status") != "completed" or run.get("dataset_id") in seen:
            continue
        seen.add(run["dataset_id"])
        out.append(
            {
                "eval_run_id": doc.id,
                "dataset_id": run["dataset_id"],
                "created_at": run.get("created_at"),
                "aggregates": run.get("aggregates", {}),
            }
        )
    return out


def measurer(evals: list[dict[str, Any]], dataset_id: str | None) -> Callable[[str], float | None]:
    """`measure("eval.f1")` -> the mean (or `.ci_low`, `.ci_high`, `.n`) of the newest evaluation,
    on `dataset_id` if the policy names one."""
    chosen = next((e for e in evals if dataset_id is None or e["dataset_id"] == dataset_id), None)

    def measure(key: str) -> float | None:
        if chosen is None:
            return None
        parts = key.split(".")
        metric, stat = parts[1], parts[2] if len(parts) > 2 else "mean"
        agg = chosen["aggregates"].get(metric)
        return None if agg is None or agg.get(stat) is None else float(agg[stat])

    return measure
