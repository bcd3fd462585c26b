"""Greedy ensemble selection (Caruana et al., 2004) over the trials' out-of-fold predictions.

Why this and not stacking: on the small tables AutoML meets most (a few hundred rows) a second-level
model fitted on out-of-fold outputs overfits the very noise it should average away, and it would need
its own nested CV to be scored honestly. Greedy selection only chooses non-negative weights that sum
to one (a convex mix of the members' probabilities or values), which serves as a plain weighted
average (`optiloop.ensemble/1`) and cannot be much worse than its best member on the rows it chose on.

The procedure: start from the best single trial; in each round add (with replacement) the candidate
whose addition gives the best objective on the out-of-fold predictions, scored as every trial is —
the mean over the CV folds — and keep the best prefix of rounds. Weights are the counts over the
rounds kept. Deterministic: ties go to the better-ranked candidate.

Caveat, said in the docs too: the ensemble's score is measured on the same out-of-fold rows it was
selected on, so it is slightly optimistic next to a single trial's (which is optimistic in its own
way: the search picked it by the same folds).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_CANDIDATES = 12  # the best trials considered (distinct configurations)
ROUNDS = 25


@dataclass(frozen=True)
class Selection:
    weights: dict[int, float]  # trial number -> weight (positive, summing to 1)
    score: float  # larger is better (the objective's sign applied)
    best_single: float


def select(
    oof: dict[int, np.ndarray],
    fold_score: Callable[[np.ndarray], float],
    *,
    rounds: int = ROUNDS,
    max_candidates: int = MAX_CANDIDATES,
    allowed: Callable[[set[int]], bool] | None = None,
) -> Selection | None:
    """`oof`: trial number -> its (rows, outputs) out-of-fold predictions; `fold_score(outputs)` the
    objective over the folds, larger better (NaN worst). None when fewer than two candidates.
    `allowed(members)`: whether a set of distinct members may serve together (the constraints on
    latency and size, which grow with each new member); a candidate that would break it is skipped."""
    if len(oof) < 2:
        return None
    scored = sorted(((_finite(fold_score(p)), n) for n, p in oof.items()), key=lambda t: (-t[0], t[1]))
    cands = [n for _, n in scored[:max_candidates]]
    best_single = scored[0][0]
    counts = dict.fromkeys(cands, 0)
    counts[cands[0]] = 1
    total = oof[cands[0]].copy()
    size = 1
    best = (best_single, dict(counts))
    for _ in range(rounds):
        pick, pick_score = None, -math.inf
        members = {m for m, c in counts.items() if c > 0}
        for n in cands:
            if allowed is not None and n not in members and not allowed(members | {n}):
                continue
            s = _finite(fold_score((total + oof[n]) / (size + 1)))
            if s > pick_score:  # strict: ties keep the better-ranked candidate
                pick, pick_score = n, s
        if pick is None:
            break
        counts[pick] += 1
        total += oof[pick]
        size += 1
        if pick_score > best[0]:
            best = (pick_score, dict(counts))
    score, kept = best
    used = {n: c for n, c in kept.items() if c > 0}
    n_kept = sum(used.values())
    return Selection({n: c / n_kept for n, c in used.items()}, score, best_single)


def _finite(v: float) -> float:
    return -math.inf if math.isnan(v) else v
