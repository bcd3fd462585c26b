"""Which completed candidate wins an experiment: the one place the local run, the AWS fan-out's
Record and Finalise, the search job and the leaderboard ask, so that the leaderboard's first trial,
the experiment's `best`, its report and what a user registers are the same trial everywhere.

Why not simply the best inner-CV mean: picking the best of many candidates by the same folds they
were scored on over-fits the choice (the winner's curse). On small tables it is measured
(docs/benchmarks.md, issue #10): on wine's 142 training rows an outer fold, the search's pick held
out at logloss 0.060 after 10-16 trials but 0.080 after 14-57, the greedy ensemble or an MLP winning
the inner CV by less than its noise, while tuned logistic regression held out at 0.056.

`one_se` (the default): the one-standard-error rule (Breiman et al., 1984; Hastie, Tibshirani &
Friedman, ESL 7.10) on PAIRED fold scores. Every candidate was scored on the same CV folds, so for a
candidate c and the best-by-mean b the per-fold differences d_j = b_j - c_j remove what the folds
share (an easy fold is easy for both); their mean and standard error, sd(d)/sqrt(n), say whether c
is distinguishable from b. The bound is the smaller of SE(d) and b's own standard error over the
folds, sd(b_j)/sqrt(n): the paired SE alone grows with the candidate's own erratic folds, so the less
stable a candidate, the more benefit of the doubt it got — measured on breast_cancer (outer fold 4):
a default MLP with one inner fold at logloss 0.341 was within the greedy ensemble's paired SE and
won as the simpler, held out at 0.118 against the ensemble's 0.066; capped by the best's own noise
it is not. Among the candidates with mean(d) <= min(SE(d), SE(b)) (b itself included) the
simplest wins, by a declared complexity order; among equally simple ones a configuration fixed
before the search saw these folds (`prior`: a family's defaults, a warm start) before one the sampler
tuned on them; then the better mean, then the earlier.

Complexity (lower simpler): linear < bagged trees (random forest, extra trees) < boosted trees
(XGBoost, HistGB) < MLP < ensemble. Why this order: it is the order of how many effective parameters
the fit tunes to the training rows and of how much the fitted model varies with them — a linear
model has one weight per feature; an average of deep trees varies less than trees fitted
sequentially to residuals; an MLP's fit depends on initialisation and epochs; the ensemble mixes
several of these with weights chosen on the very out-of-fold rows it is scored on (its score is the
most optimistic of all). So the ensemble wins only when it beats every single candidate, the best
one included, by more than the paired standard error — on thousands of rows that SE is small and a
real gain still wins (credit_data, mlc_churn, ames: docs/benchmarks.md).

Why prior configurations next: the winner's curse is as strong inside a family as across families.
TPE spends most of a trial budget near the family that leads, and the best of twenty HistGB
configurations scored on the same 28-row validation folds is the luckiest of them, not the best:
measured on wine (outer fold 0, 40 trials), the tuned HistGB that led the inner CV (logloss 0.037)
held out at 0.139, HistGB's defaults (0.046 in the inner CV, within one paired SE) at 0.040. A
configuration chosen before the search — by the library's authors or on earlier experiments —
carries none of this search's selection optimism, so when the folds cannot tell it from the tuned
one, it is the better bet.

Repeated CV (config.cv.repeats: R shuffled draws of the k folds) gives k x R fold scores, but not
k x R independent ones: every row is validated once in each draw, so the draws share their rows, and
sd/sqrt(kR) would claim a precision the data do not have (no unbiased estimator of the variance of
a cross-validated mean exists — Bengio & Grandvalet, 2004; Nadeau & Bengio's correction grows it
for the same reason). The standard errors here therefore count at most `per_draw` (k) folds:
sd over all k x R scores (repeating makes sd itself steadier) divided by sqrt(k). With one draw that
is the plain SE. It is the right statistic rather than a measured gain: on wine, penguins and
breast_cancer at 60 s it changed 3 of 15 outer folds' picks and no table by more than a quarter of
its SE (docs/benchmarks.md, "Repeated inner CV on small tables").

A candidate with fewer than two folds paired with the best (no fold scores recorded, folds missing)
has no standard error: it cannot be shown equivalent, so it wins only as the best by mean. An
infeasible candidate (over the experiment's constraints) never wins while a feasible one exists.

A hedge (`Candidate.hedges`: optiloop.automl.search.hedge, small tables only) never competes: it is
the rule's pick averaged with the tuned linear model, built after the search for that pick, and
under `one_se` it is answered in place of the pick it hedges (`Choice.hedged` names the pick), so
the leaderboard's first row, `best` and the report are the hedge. A hedge of another candidate, or
under `best_mean`, changes nothing; an infeasible hedge never displaces a feasible pick.

`best_mean`: the best mean alone (ties: the earlier trial) — what experiments recorded before
`config.selection` existed keep, and what forecasting and anomaly experiments use (their folds are
expanding windows of different lengths, or there are no labels: no exchangeable folds to pair).

Pure Python and deterministic (same fold scores, same choice): it runs on the HTTP path (the
leaderboard) where numpy is not imported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

ONE_SE, BEST_MEAN = "one_se", "best_mean"
RULES = (ONE_SE, BEST_MEAN)
DEFAULT = ONE_SE
# the rule of experiments stored before config.selection existed: their winners stay what they were
LEGACY = BEST_MEAN
COMPLEXITY: dict[str, int] = {
    "linear": 0,
    "random_forest": 1,
    "extra_trees": 1,
    "xgboost": 2,
    "hist_gradient_boosting": 2,
    "mlp": 3,
    "ensemble": 4,
}
UNKNOWN = max(COMPLEXITY.values()) + 1  # a family the order does not name is the least simple


def rule_of(config: dict[str, Any]) -> str:
    """An experiment config's rule; one stored before config.selection existed keeps LEGACY."""
    return str(config.get("selection") or LEGACY)


@dataclass(frozen=True)
class Candidate:
    """A completed trial as the rule sees it. `score` and `folds` are larger-better (the objective's
    sign applied); `score` is the trial's recorded mean, -inf when missing; a fold without a score
    is NaN."""

    number: int
    family: str
    score: float
    folds: tuple[float, ...] = ()
    feasible: bool = True
    prior: bool = False  # configured before the search saw the folds (defaults, warm starts)
    # a hedge (optiloop.automl.search.hedge): the number of the candidate it serves averaged with the
    # tuned linear model. It never competes; it stands in for that candidate when the rule picks it
    hedges: int | None = None


@dataclass(frozen=True)
class Choice:
    """The winner, the best by mean, and why: `gap` and `se` are the paired mean difference between
    the two and the bound it was held to, min(paired SE, the best's own SE) (0 when the winner is the
    best by mean); `within` the numbers of
    the candidates within one SE of the best, best-by-mean order; `hedged` the candidate the rule
    picked when the winner is its hedge (None otherwise)."""

    rule: str
    winner: int
    best_mean: int
    gap: float
    se: float
    within: tuple[int, ...]
    hedged: int | None = None

    def reason(self, names: dict[int, str]) -> str:
        """One sentence a user reads on the leaderboard."""
        w, b = names.get(self.winner, str(self.winner)), names.get(self.best_mean, str(self.best_mean))
        if self.hedged is not None:
            picked = replace(self, winner=self.hedged, hedged=None)
            return (
                f"trial {self.winner} ({w}) serves the rule's pick averaged with the tuned linear model, "
                "as on every table under a few hundred rows where the linear model comes close: "
                + picked.reason(names)
            )
        if self.rule == BEST_MEAN:
            return f"trial {self.winner} ({w}) has the best cross-validated mean"
        if self.winner == self.best_mean:
            others = len(self.within) - 1
            return (
                f"trial {self.winner} ({w}) has the best cross-validated mean and no simpler candidate "
                f"is within one paired standard error of it ({others} as complex or more are)"
            )
        return (
            f"trial {self.winner} ({w}) is the simplest candidate within one paired standard error of "
            f"the best mean, trial {self.best_mean} ({b}): behind it by {self.gap:.4g} per fold on "
            f"average, SE {self.se:.4g} (one-standard-error rule: a difference smaller than the folds' "
            "noise does not justify the more complex model)"
        )


def complexity(family: str) -> int:
    return COMPLEXITY.get(family, UNKNOWN)


def _n_eff(n: int, per_draw: int | None) -> int:
    """How many folds a standard error may count: all of them, or one draw's (see the module doc)."""
    return min(n, per_draw) if per_draw and per_draw >= 2 else n


def paired(best: Candidate, other: Candidate, per_draw: int | None = None) -> tuple[float, float, int]:
    """(mean, standard error, n) of best - other over the folds both have a score on; SE is inf
    with fewer than two such folds. `per_draw`: the folds of one CV draw (k), when the scores come
    from repeated draws."""
    d = [
        b - o for b, o in zip(best.folds, other.folds, strict=False) if math.isfinite(b) and math.isfinite(o)
    ]
    n = len(d)
    if n < 2:
        return (math.nan, math.inf, n)
    mean = math.fsum(d) / n
    var = math.fsum((v - mean) ** 2 for v in d) / (n - 1)
    return (mean, math.sqrt(var / _n_eff(n, per_draw)), n)


def own_se(c: Candidate, per_draw: int | None = None) -> float:
    """The standard error of a candidate's mean over its folds; inf with fewer than two."""
    v = [f for f in c.folds if math.isfinite(f)]
    if len(v) < 2:
        return math.inf
    mean = math.fsum(v) / len(v)
    return math.sqrt(math.fsum((f - mean) ** 2 for f in v) / (len(v) - 1) / _n_eff(len(v), per_draw))


def _clearly_beyond(best_mean: float, c: Candidate, k: int, noise: float) -> bool:
    """Whether `c` cannot be within the bound, known without pairing: with every fold scored on
    both, the paired gap is the difference of the fold means, and the bound is at most the best's
    own SE (`noise`). A shortcut, not a rule: on 10,000 completed trials pairing each one made the
    leaderboard's ranking several times slower (tests/benchmarks/automl_overhead.py). The margin
    leaves every case that rounding could decide to `paired`."""
    if len(c.folds) != k or not math.isfinite(noise) or not all(map(math.isfinite, c.folds)):
        return False
    gap = best_mean - math.fsum(c.folds) / k
    return gap > noise + 1e-9 * (1.0 + abs(best_mean) + noise)


def _by_mean(c: Candidate) -> tuple[bool, float, int]:
    return (not c.feasible, -c.score, c.number)


def choose(cands: Sequence[Candidate], rule: str = DEFAULT, per_draw: int | None = None) -> Choice | None:
    """The winner among `cands` by `rule`; None when no candidate has a finite score. `per_draw`:
    the folds of one CV draw (the experiment's k), so that repeated draws do not shrink the SE."""
    return Running(rule, per_draw).add(cands).choice()


class Running:
    """`choose`'s answer kept as candidates arrive: same candidates, same Choice, whatever order and
    chunks they come in (property-tested).

    Why: callers ask again after every few new candidates — the local run after each trial, a running
    experiment's leaderboard on every request — and pairing every candidate with the best is O(n)
    (about 20 ms at 10,000, the API's largest budget; tests/benchmarks/automl_overhead.py). A
    candidate's verdict depends only on the best by mean (its paired gap and the best's own SE), so
    it is paired again only when that best changes — rarer the longer a search runs; otherwise only
    the new candidates are."""

    def __init__(self, rule: str = DEFAULT, per_draw: int | None = None) -> None:
        if rule not in RULES:
            raise ValueError(f"selection rule {rule!r} is not one of {', '.join(RULES)}")
        self.rule, self.per_draw = rule, per_draw
        self._pool: list[Candidate] = []
        self._best: Candidate | None = None
        self._noise, self._whole, self._fold_mean = math.inf, False, math.nan
        self._within: list[tuple[Candidate, float, float]] = []
        self._hedges: dict[int, Candidate] = {}  # the candidate hedged -> its hedge
        self._choice: Choice | None = None

    def add(self, cands: Sequence[Candidate]) -> Running:
        """Take more candidates (a candidate without a finite score never wins and is dropped)."""
        new = [c for c in cands if math.isfinite(c.score)]
        for c in new:
            if c.hedges is not None:
                self._hedges[c.hedges] = c
                self._choice = None
        new = [c for c in new if c.hedges is None]
        if not new:
            return self
        self._pool.extend(new)
        self._choice = None
        top = min(new, key=_by_mean)
        if self._best is None or _by_mean(top) < _by_mean(self._best):
            self._pair_all(top)
        else:
            for c in new:
                self._pair(c)
        return self

    def _pair_all(self, best: Candidate) -> None:
        """A new best by mean: every candidate is judged against it again."""
        self._best, self._within = best, [(best, 0.0, 0.0)]
        self._noise = own_se(best, self.per_draw)
        self._whole = all(map(math.isfinite, best.folds))
        self._fold_mean = math.fsum(best.folds) / len(best.folds) if best.folds else math.nan
        for c in self._pool:
            if c is not best:
                self._pair(c)

    def _pair(self, c: Candidate) -> None:
        """Keep `c` among the candidates within the bound of the best, if it is."""
        best = self._best
        assert best is not None
        if self.rule == BEST_MEAN or c.feasible != best.feasible:  # infeasible never displaces feasible
            return
        if self._whole and _clearly_beyond(self._fold_mean, c, len(best.folds), self._noise):
            return
        gap, se, _ = paired(best, c, self.per_draw)
        bound = min(se, self._noise)
        if math.isfinite(bound) and gap <= bound:
            self._within.append((c, gap, bound))

    def choice(self) -> Choice | None:
        """The winner so far; None before any candidate with a score."""
        best = self._best
        if best is None:
            return None
        if self._choice is None:
            if self.rule == BEST_MEAN:
                self._choice = Choice(self.rule, best.number, best.number, 0.0, 0.0, (best.number,))
            else:
                c, gap, se = min(
                    self._within, key=lambda t: (complexity(t[0].family), not t[0].prior, *_by_mean(t[0]))
                )
                within = tuple(t[0].number for t in sorted(self._within, key=lambda t: _by_mean(t[0])))
                self._choice = Choice(self.rule, c.number, best.number, gap, se, within)
                hedge = self._hedges.get(c.number)
                if hedge is not None and (hedge.feasible or not c.feasible):
                    self._choice = replace(self._choice, winner=hedge.number, hedged=c.number)
        return self._choice


def order(cands: Sequence[Candidate], rule: str = DEFAULT, per_draw: int | None = None) -> list[int]:
    """Every candidate's number, best first: the rule's winner, then the others by feasibility,
    mean and number (the ranking the leaderboard shows)."""
    rest = [c.number for c in sorted(cands, key=_by_mean)]
    choice = choose(cands, rule, per_draw)
    if choice is None:
        return rest
    return [choice.winner] + [n for n in rest if n != choice.winner]
