"""How an experiment's completed trials rank: the one order the leaderboard, the local run's best so
far, the fan-out's Record and Finalise, the report and the registry all read.

The selection rule's winner first (optiloop.automl.selection), then feasible trials before
infeasible ones, each best first by the objective (ties: the earlier trial); and the accuracy-vs-
latency Pareto front over all of them.

Why a `Board` that trials are added to, rather than ranking a list: a search can record 10,000
trials (the API's largest budget), and the callers that rank while it runs ask again and again —
the local run after every trial, a running experiment's leaderboard on every request. Ranking all
completed trials each time cost O(n) per ask: at 10,000 completed trials ~100 ms per trial in the
local run, and 292 ms p50 / 427 ms p95 per leaderboard request over HTTP (issue 10's floor: p95 <
250 ms; tests/benchmarks/automl_overhead.py). A Board builds each trial's candidate once, keeps the
order sorted as trials arrive, re-pairs candidates only when the best by mean changes
(`selection.Running`) and folds new trials into the Pareto front it has (the front of the front
and the new points is the front of all). `ranked` is a Board filled once: one implementation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from optiloop.automl import constraints, selection

Trial = dict[str, Any]
Key = tuple[bool, float, int]


def _sign(exp: dict[str, Any]) -> float:
    """What turns the objective larger-better."""
    return 1.0 if exp["direction"] == "maximize" else -1.0


def score_of(exp: dict[str, Any]) -> Any:
    """A trial's objective, larger better (NaN and missing worst)."""
    sign = _sign(exp)
    metric = exp["metric"]

    def score(t: Trial) -> float:
        v = t["metrics"].get(metric)
        return -math.inf if v is None or (isinstance(v, float) and math.isnan(v)) else sign * float(v)

    return score


def rank_key(exp: dict[str, Any]) -> Any:
    """Feasible trials first (optiloop.automl.constraints), then by the objective, then the earlier."""
    score = score_of(exp)

    def key(t: Trial) -> Key:
        return _place(t, score(t))

    return key


def _place(t: Trial, score: float) -> Key:
    """A trial's sort key given its score: feasible first, then best score, then the earlier."""
    return (not is_feasible(t), -score, int(t["number"]))


def is_feasible(t: Trial) -> bool:
    """Meets the experiment's constraints (trials recorded before constraints existed do)."""
    return t.get("feasible") is not False


def selection_rule(exp: dict[str, Any]) -> str:
    """The experiment's selection rule; one stored before config.selection existed keeps the best
    mean it was ranked by."""
    return selection.rule_of(exp["config"])


def per_draw(exp: dict[str, Any]) -> int | None:
    """The folds of one CV draw, which standard errors count at most (optiloop.automl.selection)."""
    return int((exp["config"].get("cv") or {}).get("folds") or 0) or None


class Board:
    """An experiment's completed trials, ranked as they are added (a trial already added, by number,
    is skipped; one not completed is ignored). Not thread-safe: a caller sharing one locks it."""

    def __init__(self, exp: dict[str, Any]) -> None:
        self._score, self._sign = score_of(exp), _sign(exp)
        self._chooser = selection.Running(selection_rule(exp), per_draw(exp))
        self._trials: dict[int, Trial] = {}
        self._keys: list[Key] = []  # every completed trial's `_place`, sorted
        self._front: list[tuple[float, float, int]] = []  # (latency, score, number) on the front

    def __len__(self) -> int:
        return len(self._trials)

    def add(self, trials: Iterable[Trial]) -> Board:
        new: list[tuple[Trial, float]] = []
        for t in trials:
            n = int(t["number"])
            if t["status"] == "completed" and n not in self._trials:
                self._trials[n] = t
                new.append((t, self._score(t)))
        if not new:
            return self
        self._chooser.add([self._candidate(t, s) for t, s in new])
        self._keys.extend(_place(t, s) for t, s in new)
        self._keys.sort()  # a sorted run and a short tail: timsort merges them in linear time
        points = [
            (float(t["cost"][constraints.PARETO_X]), s, int(t["number"]))
            for t, s in new
            if (t.get("cost") or {}).get(constraints.PARETO_X) is not None and s > -math.inf
        ]
        if points:
            pool = {p[2]: p for p in self._front + points}
            self._front = [pool[n] for n in constraints.pareto_front(list(pool.values()))]
        return self

    def _candidate(self, t: Trial, score: float) -> selection.Candidate:
        sign = self._sign
        return selection.Candidate(
            int(t["number"]),
            str(t.get("family") or t["model"]),
            score,
            # a fold's objective, larger better; a missing one NaN (and NaN stays NaN)
            tuple(math.nan if v is None else sign * float(v) for v in t.get("fold_scores") or ()),
            is_feasible(t),
            bool(t.get("prior")),
            None if t.get("hedges") is None else int(t["hedges"]),
        )

    def choice(self) -> selection.Choice | None:
        """The selection rule's Choice; None while no trial has a score."""
        return self._chooser.choice()

    def trial(self, number: int) -> Trial:
        return self._trials[number]

    def ranked(self, limit: int | None = None) -> list[Trial]:
        """The first `limit` trials (all when None), best first: the rule's winner, then `rank_key`'s
        order."""
        choice = self.choice()
        winner = None if choice is None else choice.winner
        numbers = [] if winner is None else [winner]
        want = len(self) if limit is None else limit
        for _, _, n in self._keys:
            if len(numbers) >= want:
                break
            if n != winner:
                numbers.append(n)
        return [self._trials[n] for n in numbers[:want]]

    def front(self) -> list[Trial]:
        """The trials no other beats on both the objective and the estimated latency, fastest first
        (trials without a served model, a forecasting baseline, have no latency and are left out)."""
        return [self._trials[p[2]] for p in self._front]


def ranked(exp: dict[str, Any], trials: Iterable[Trial]) -> tuple[list[Trial], selection.Choice | None]:
    """The completed trials best first — the selection rule's winner (feasible ones first), then
    `rank_key`'s order — and the rule's Choice (None when no trial has a score)."""
    board = Board(exp).add(trials)
    return board.ranked(), board.choice()
