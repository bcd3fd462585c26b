"""A compact row per completed trial, written with the trial: what ranking an experiment reads.

Why: the leaderboard ranks every completed trial (the selection rule compares each one's fold
scores with the best's), but a trial's document also carries its parameters, Optuna's distributions,
costs, fairness and artifact fields — about 2.5 KB, so an experiment of 10,000 trials (the API's
largest budget) made every leaderboard request parse 25 MB: 600–850 ms over HTTP on SQLite
(tests/benchmarks/automl_overhead.py; issue 10's floor is p95 < 250 ms), and on DynamoDB 25 query
pages of 1 MB. A row holds only what ranking (optiloop.automl.ranking) and the Pareto front read; pruned and
failed trials, which ranking skips, have none. The leaderboard ranks rows, then reads the full
documents of the trials it lists (a page, 100 by default).

A row is written in the transaction that writes its trial, so the two never disagree (a trial's
document is not rewritten once recorded). Experiments stored before rows existed have none and no
`trial_rows` flag: they are ranked from their trial documents, as before (`ROWS_FLAG` on the
experiment says which).
"""

from __future__ import annotations

import base64
import math
import sys
from array import array
from typing import Any

from optiloop.deps import Deps
from optiloop.store.records import Doc

KIND = "trial_row"
ROWS_FLAG = "trial_rows"  # set on experiments whose completed trials all have rows
FIELDS = ("trial_id", "number", "status", "family", "model", "metrics", "feasible", "prior", "cost", "hedges")
PAGE = 1000


def view(trial: dict[str, Any], metric: str) -> dict[str, Any]:
    """What ranking reads of a trial (optiloop.automl.ranking): the fields the selection rule and the
    Pareto front read; of its metrics the experiment's objective (and its companions,
    `<metric>_...`); its fold scores."""
    row = {k: trial[k] for k in FIELDS if k in trial}
    row["metrics"] = {k: v for k, v in (trial.get("metrics") or {}).items() if k.startswith(metric)}
    row["fold_scores"] = list(trial.get("fold_scores") or [])
    return row


def pack(scores: list[float | None]) -> str:
    """Fold scores as base64 of little-endian float64s (a missing one NaN): exact, and a third of
    their JSON text, which parsing 10,000 rows spent most of its time on (up to 25 folds a trial
    with repeated CV)."""
    values = array("d", (math.nan if v is None else float(v) for v in scores))
    if sys.byteorder == "big":  # pragma: no cover - every platform we run on is little-endian
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def unpack(text: str) -> list[float]:
    values = array("d", base64.b64decode(text))
    if sys.byteorder == "big":  # pragma: no cover
        values.byteswap()
    return values.tolist()


def put(deps: Deps, trial: dict[str, Any], metric: str) -> None:
    """Write a completed trial's row (its `view`, fold scores packed); call inside the transaction
    that writes the trial. A trial that is not completed has no row."""
    if trial.get("status") != "completed":
        return
    data = view(trial, metric)
    data["folds"] = pack(data.pop("fold_scores"))
    deps.store.docs.create(
        Doc(kind=KIND, id=trial["trial_id"], scope=trial["experiment_id"], sort=sort_of(trial), data=data)
    )


def sort_of(trial: dict[str, Any]) -> str:
    """A trial's place in its experiment's listings (its document's and its row's): its number."""
    return f"{int(trial['number']):06d}"


def since(
    deps: Deps, experiment_id: str, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The experiment's rows past `after` (a `sort_of`; None: all), in trial-number order, as `view`s
    (a fold without a score NaN), and the last one's sort (None when there are none)."""
    out: list[dict[str, Any]] = []
    while True:
        page = deps.store.docs.list(KIND, experiment_id, after=after, limit=PAGE)
        for d in page:
            row = dict(d.data)
            row["fold_scores"] = unpack(row.pop("folds"))
            out.append(row)
        if page:
            after = page[-1].sort
        if len(page) < PAGE:
            return out, after
