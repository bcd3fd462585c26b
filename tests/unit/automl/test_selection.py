"""The winner's rule (optiloop.automl.selection) on constructed per-fold scores, and the places that
must all name its winner: the leaderboard, the experiment's config, runner.rank and the search job."""

from __future__ import annotations

import math
from typing import Any

import pytest

from optiloop.automl import constraints, experiments, ranking, selection
from optiloop.automl.selection import BEST_MEAN, DEFAULT, Candidate, choose, order, own_se, paired
from optiloop.errors import InvalidInput

NAN = math.nan


def cand(number: int, family: str, folds: tuple[float, ...], feasible: bool = True) -> Candidate:
    ok = [v for v in folds if not math.isnan(v)]
    return Candidate(number, family, sum(ok) / len(ok) if ok else -math.inf, folds, feasible)


# larger better (a negated logloss)
LINEAR = (-0.10, -0.12, -0.08, -0.11, -0.09)
# better than the linear model by 0.03 on every fold: a real difference
MLP_CLEAR = (-0.07, -0.09, -0.05, -0.08, -0.06)


def winner(cands: list[Candidate], rule: str = DEFAULT) -> int:
    got = choose(cands, rule)
    assert got is not None
    return got.winner


def test_within_one_se_the_linear_model_beats_a_better_mean_mlp() -> None:
    mlp = cand(1, "mlp", tuple(v + 0.004 for v in (-0.10, -0.12, -0.08, -0.11, -0.09)))
    lin = cand(0, "linear", (-0.09, -0.13, -0.07, -0.12, -0.09))  # mean 0.004 behind, SE larger
    got = choose([mlp, lin])
    assert got is not None
    assert (got.best_mean, got.winner) == (1, 0)
    assert 0 < got.gap <= got.se and set(got.within) == {0, 1}
    assert "simplest candidate within one paired standard error" in got.reason({0: "lr", 1: "mlp"})
    assert order([mlp, lin]) == [0, 1]
    assert winner([mlp, lin], BEST_MEAN) == 1 and order([mlp, lin], BEST_MEAN) == [1, 0]


def test_a_clearly_better_complex_model_wins() -> None:
    lin, mlp = cand(0, "linear", LINEAR), cand(1, "mlp", MLP_CLEAR)
    got = choose([lin, mlp])
    assert got is not None and got.winner == 1 == got.best_mean and got.within == (1,)


def test_the_ensemble_wins_only_by_more_than_its_paired_se() -> None:
    boosted = cand(3, "xgboost", (-0.40, -0.42, -0.41))
    # ahead of XGBoost by 0.004 per fold, every fold: a tiny SE on a large table, a real gain
    steady = cand(9, "ensemble", (-0.396, -0.416, -0.406))
    assert winner([boosted, steady]) == 9
    # ahead by the same mean, but +0.02, -0.01, +0.002 fold by fold: within the noise
    noisy = cand(9, "ensemble", (-0.38, -0.43, -0.408))
    assert noisy.score > boosted.score
    assert winner([boosted, noisy]) == 3


def test_ties_go_to_the_simpler_then_to_the_earlier() -> None:
    same = (-0.2, -0.3, -0.25)
    assert winner([cand(0, "mlp", same), cand(1, "linear", same)]) == 1
    assert winner([cand(4, "xgboost", same), cand(2, "hist_gradient_boosting", same)]) == 2
    # equally simple: the better mean, not the earlier, among those within one SE
    a, b = cand(0, "linear", (-0.21, -0.30, -0.26)), cand(1, "linear", (-0.20, -0.29, -0.25))
    assert winner([a, b]) == 1


def test_among_equally_simple_candidates_a_configuration_fixed_before_the_search_wins() -> None:
    """The winner's curse inside a family: the best of many tuned HistGB configurations by the same
    folds is the luckiest; its defaults, within one SE, carry no selection optimism."""
    tuned = cand(21, "hist_gradient_boosting", (-0.012, -0.036, -0.080, -0.045, -0.013))
    default = Candidate(
        5, "hist_gradient_boosting", -0.046, (-0.003, -0.015, -0.132, -0.076, -0.004), prior=True
    )
    ens = cand(40, "ensemble", (-0.011, -0.033, -0.078, -0.045, -0.014))
    got = choose([tuned, default, ens])
    assert got is not None and (got.best_mean, got.winner) == (40, 5) and 5 in got.within
    assert winner([tuned, default, ens], BEST_MEAN) == 40
    # a simpler family within one SE still comes first, prior or not
    lin = cand(30, "linear", (-0.004, -0.016, -0.133, -0.077, -0.005))
    assert winner([tuned, default, ens, lin]) == 30
    # and a prior configuration the folds can tell apart (worse on every fold) does not win
    far = Candidate(6, "hist_gradient_boosting", -0.2, (-0.2,) * 5, prior=True)
    assert winner([tuned, far]) == 21


def test_an_erratic_candidate_gets_no_more_benefit_of_the_doubt_than_the_best_s_own_noise() -> None:
    """breast_cancer, outer fold 4: a default MLP with one inner fold at 0.341 was within the
    ensemble's paired SE (its own erratic fold made that SE large) and held out at 0.118 against the
    ensemble's 0.066; the bound is the smaller of the paired SE and the best's own SE."""
    ens = cand(40, "ensemble", (-0.111, -0.169, -0.045, -0.027, -0.021))
    mlp = Candidate(6, "mlp", -0.1063, (-0.123, -0.341, -0.049, -0.007, -0.011), prior=True)
    gap, se, _ = paired(ens, mlp)
    assert gap <= se  # by the paired SE alone, the MLP would be "within"
    assert gap > own_se(ens)
    got = choose([ens, mlp])
    assert got is not None and got.winner == 40 and got.within == (40,)
    # a steady simpler one inside the best's noise still wins
    lin = cand(0, "linear", (-0.131, -0.159, -0.060, -0.017, -0.026))
    got = choose([ens, mlp, lin])
    assert (
        got is not None and got.winner == 0 and got.se == pytest.approx(min(paired(ens, lin)[1], own_se(ens)))
    )


def test_missing_folds_pair_what_both_have_and_too_few_pairs_never_displace_the_best() -> None:
    best = cand(0, "mlp", (-0.10, -0.11, -0.09, -0.12, -0.10))
    # one fold's score missing (NaN): the other four pair, and the linear model is within one SE
    lin = cand(1, "linear", (-0.11, NAN, -0.08, -0.13, -0.10))
    gap, se, n = paired(best, lin)
    assert n == 4 and gap <= se
    assert winner([best, lin]) == 1
    # a trial recorded with one fold (or none: before fold scores were kept) has no SE
    for folds in ((-0.105,), ()):
        short = Candidate(2, "linear", -0.105, folds)
        assert paired(best, short)[1] == math.inf
        assert winner([best, short]) == 0


def test_no_finite_score_no_choice_and_an_infeasible_trial_never_wins_over_a_feasible_one() -> None:
    assert choose([]) is None
    assert choose([Candidate(0, "linear", -math.inf, ())]) is None
    fast_bad = cand(0, "xgboost", (-0.30, -0.31, -0.29))
    slow_good = cand(1, "linear", (-0.10, -0.11, -0.09), feasible=False)
    got = choose([fast_bad, slow_good])
    assert got is not None and got.winner == 0 == got.best_mean
    # a feasible simpler one within one SE of the feasible best still wins
    near = cand(2, "linear", (-0.31, -0.30, -0.295))
    assert winner([fast_bad, slow_good, near]) == 2
    assert order([fast_bad, slow_good, near]) == [2, 0, 1]


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of"):
        choose([cand(0, "linear", LINEAR)], "median")


def test_the_config_says_which_rule_and_refuses_a_bad_one() -> None:
    assert experiments.normalise_config({}, "classification")["selection"] == "one_se"
    assert experiments.normalise_config({}, "regression")["selection"] == "one_se"
    assert experiments.normalise_config({}, "anomaly")["selection"] == "best_mean"
    assert (
        experiments.normalise_config({"selection": "best_mean"}, "classification")["selection"] == "best_mean"
    )
    for raw, task in (({"selection": "median"}, "classification"), ({"selection": "one_se"}, "anomaly")):
        with pytest.raises(InvalidInput) as e:
            experiments.normalise_config(raw, task)
        assert e.value.problems[0].field == "config.selection"


def _trial(number: int, family: str, folds: list[float | None], **kw: object) -> dict[str, object]:
    ok = [v for v in folds if v is not None]
    return {"trial_id": f"t{number}", "number": number, "model": family, "family": family,
            "status": "completed", "metrics": {"logloss": sum(ok) / len(ok)}, "fold_scores": folds,
            **kw}  # fmt: skip


def test_repeated_draws_do_not_shrink_the_standard_error() -> None:
    """Two draws of the same five folds reuse the same rows: ten fold scores, but the SE counts five.
    An MLP whose lead over the linear model is within one draw's SE, duplicated into two draws, is
    distinguishable only if the draws are (wrongly) taken as ten independent folds."""
    lin_one = (-0.10,) * 5  # a steady linear model; the MLP leads it by 0.0065 with fold sd 0.018
    mlp_one = tuple(-0.10 + d for d in (-0.0135, 0.0265, -0.0085, 0.0215, 0.0065))
    lin, mlp = cand(0, "linear", lin_one * 2), cand(1, "mlp", mlp_one * 2)
    one_draw = choose([cand(0, "linear", lin_one), cand(1, "mlp", mlp_one)])
    assert one_draw is not None and one_draw.winner == 0  # within one SE over five folds
    assert winner([lin, mlp]) == 1  # ten folds taken as independent: the SE shrinks by sqrt(2)
    got = choose([lin, mlp], per_draw=5)
    assert got is not None and got.winner == 0 and got.se == pytest.approx(one_draw.se, rel=0.2)
    _, se_all, n = paired(mlp, lin)
    _, se_draw, _ = paired(mlp, lin, per_draw=5)
    assert n == 10 and se_draw == pytest.approx(se_all * math.sqrt(2))
    assert own_se(lin, per_draw=5) == pytest.approx(own_se(lin) * math.sqrt(2))
    assert order([lin, mlp], per_draw=5)[0] == 0
    assert paired(mlp, lin, per_draw=20)[1] == se_all  # fewer folds than a draw: all of them count


def test_ranked_puts_the_rules_winner_first_and_old_experiments_keep_the_best_mean() -> None:
    trials = [
        _trial(0, "linear", [0.09, 0.13, 0.07, 0.12, 0.09]),
        _trial(1, "mlp", [0.096, 0.116, 0.076, 0.106, 0.086]),
        _trial(2, "xgboost", [0.3, 0.3, 0.3, 0.3, 0.3]),
        {
            "trial_id": "t3",
            "number": 3,
            "model": "mlp",
            "family": "mlp",
            "status": "pruned",
            "metrics": {"logloss": 0.01},
            "fold_scores": [0.01],
        },
    ]
    exp = {"metric": "logloss", "direction": "minimize", "config": {"selection": "one_se"}}
    ranked, choice = ranking.ranked(exp, trials)
    assert [t["number"] for t in ranked] == [0, 1, 2]  # the pruned trial is no candidate
    assert (choice.winner, choice.best_mean) == (0, 1)
    legacy = {**exp, "config": {}}  # stored before config.selection existed
    assert [t["number"] for t in ranking.ranked(legacy, trials)[0]] == [1, 0, 2]


def test_runner_rank_and_the_search_jobs_model_follow_the_rule() -> None:
    """The benchmark and the search job pick through runner.rank: the same rule on TrialResults."""
    from optiloop.automl import search_job
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import TrialResult, rank

    def res(number: int, family: str, folds: list[float], **kw: object) -> TrialResult:
        mean = {"logloss": sum(folds) / len(folds)}
        return TrialResult(number, family, family, {}, "completed", metrics=mean, fold_scores=folds,
                           artifact=b"x", **kw)  # type: ignore[arg-type]  # fmt: skip

    results = [
        res(0, "linear", [0.09, 0.13, 0.07, 0.12, 0.09]),
        res(1, "mlp", [0.096, 0.116, 0.076, 0.106, 0.086]),
        res(2, "ensemble", [0.05, 0.05, 0.05, 0.05, 0.05], violations=["latency_ms_p95"]),
        TrialResult(3, "xgboost", "xgboost", {}, "pruned", metrics={"logloss": 0.01}, fold_scores=[0.01]),
    ]
    obj = Objective("logloss", "minimize")
    singles = [results[0], results[1], results[3]]  # the pruned trial is no candidate
    assert [r.number for r in rank(singles, obj, "one_se")] == [0, 1]
    assert [r.number for r in rank(singles, obj)] == [1, 0]  # best_mean by default
    # the ensemble is better on every fold by far more than the SE; rank does not judge constraints
    assert [r.number for r in rank(results, obj, "one_se")] == [2, 1, 0]
    # the search job's model: feasible ones first (the ensemble is over the latency bound), then the rule
    assert search_job._best(results, obj, "one_se").number == 0
    assert search_job._best(results, obj, "best_mean").number == 1


def test_the_shortcut_past_far_candidates_never_changes_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_clearly_beyond` skips pairing a candidate whose gap must exceed the bound: on random pools
    (repeated draws, missing folds, short ones, infeasible ones) the choice is the one pairing every
    candidate gives, and the shortcut did skip some."""
    import random

    real, skipped = selection._clearly_beyond, []

    def counting(*a: object) -> bool:
        out = real(*a)  # type: ignore[arg-type]
        skipped.append(out)
        return out

    rng = random.Random(5)
    for _ in range(300):
        k, spread = rng.choice([3, 5, 10]), rng.choice([1e-4, 1e-2, 1.0])
        cands = []
        for n in range(rng.randint(2, 40)):
            base = -rng.random() * spread
            folds = [base + rng.gauss(0, spread / 4) for _ in range(k)]
            if rng.random() < 0.1:
                folds[rng.randrange(k)] = NAN
            if rng.random() < 0.1:
                folds = folds[:-1]
            score = math.fsum(f for f in folds if math.isfinite(f)) / k
            family = rng.choice(["linear", "xgboost", "mlp", "ensemble"])
            cands.append(Candidate(n, family, score, tuple(folds), rng.random() > 0.1, rng.random() < 0.3))
        per_draw = rng.choice([None, k])
        with monkeypatch.context() as m:
            m.setattr(selection, "_clearly_beyond", counting)
            fast = choose(cands, DEFAULT, per_draw)
            m.setattr(selection, "_clearly_beyond", lambda *_a: False)
            assert choose(cands, DEFAULT, per_draw) == fast
    assert any(skipped) and not all(skipped)


def _pairing_every_candidate(
    cands: list[Candidate], rule: str, per_draw: int | None
) -> selection.Choice | None:
    """The rule as its module doc states it, written plainly: every candidate paired with the best."""
    pool = sorted((c for c in cands if math.isfinite(c.score)), key=selection._by_mean)
    if not pool:
        return None
    best = pool[0]
    if rule == BEST_MEAN:
        return selection.Choice(rule, best.number, best.number, 0.0, 0.0, (best.number,))
    noise = own_se(best, per_draw)
    within = [(best, 0.0, 0.0)]
    for c in pool[1:]:
        gap, se, _ = paired(best, c, per_draw)
        if c.feasible == best.feasible and math.isfinite(min(se, noise)) and gap <= min(se, noise):
            within.append((c, gap, min(se, noise)))
    c, gap, se = min(within, key=lambda t: (selection.complexity(t[0].family), not t[0].prior,
                                            *selection._by_mean(t[0])))  # fmt: skip
    return selection.Choice(rule, c.number, best.number, gap, se, tuple(t[0].number for t in within))


def _random_pool(rng: Any, size: int) -> list[Candidate]:
    k, spread = rng.choice([3, 5, 10]), rng.choice([1e-4, 1e-2, 1.0])
    out = []
    for n in range(size):
        base = -rng.random() * spread
        folds = [base + rng.gauss(0, spread / 4) for _ in range(k)]
        if rng.random() < 0.1:
            folds[rng.randrange(k)] = NAN
        score = math.fsum(f for f in folds if math.isfinite(f)) / k if rng.random() > 0.05 else NAN
        family = rng.choice(["linear", "random_forest", "xgboost", "mlp", "ensemble"])
        out.append(Candidate(n, family, score, tuple(folds), rng.random() > 0.1, rng.random() < 0.3))
    return out


def test_running_choice_is_the_plain_rules_whatever_order_and_chunks_candidates_arrive_in() -> None:
    """`selection.Running` pairs again only when the best by mean changes: fed a random pool in a
    random order and random chunks, asked after every chunk, it answers what pairing every candidate
    with the best of those so far answers."""
    import random

    rng = random.Random(11)
    for _ in range(200):
        cands = _random_pool(rng, rng.randint(1, 60))
        rng.shuffle(cands)
        rule, per_draw = rng.choice([DEFAULT, BEST_MEAN]), rng.choice([None, 5])
        running, seen = selection.Running(rule, per_draw), 0
        while seen < len(cands):
            step = rng.randint(1, 8)
            running.add(cands[seen : seen + step])
            seen += step
            assert running.choice() == _pairing_every_candidate(cands[:seen], rule, per_draw)


def test_a_board_fed_trials_in_chunks_ranks_as_one_fed_them_all() -> None:
    """`ranking.Board` keeps its order, choice and Pareto front as trials arrive (the local run and
    the kept leaderboard add a few at a time): after every chunk the same as ranking them all at
    once, pruned trials and repeats ignored."""
    import random

    rng = random.Random(3)
    exp = {
        "metric": "logloss",
        "direction": "minimize",
        "config": {"selection": "one_se", "cv": {"folds": 5}},
    }
    for _ in range(60):
        trials = []
        for c in _random_pool(rng, rng.randint(1, 80)):
            trials.append({
                "trial_id": f"t{c.number}", "number": c.number, "model": c.family, "family": c.family,
                "status": "completed" if rng.random() > 0.1 else "pruned",
                "metrics": {"logloss": -c.score}, "fold_scores": [None if f != f else -f for f in c.folds],
                "feasible": c.feasible, "prior": c.prior,
                "cost": {"latency_ms_p95": rng.choice([0.1, 0.5, 1.0, 2.0])} if rng.random() > 0.2 else {},
            })  # fmt: skip
        board, seen = ranking.Board(exp), 0
        while seen < len(trials):
            step = rng.randint(1, 10)
            board.add(trials[seen : seen + step] + trials[max(0, seen - 2) : seen])  # with repeats
            seen += step
            done = [t for t in trials[:seen] if t["status"] == "completed"]
            cands = [_as_candidate(t) for t in done]
            choice = _pairing_every_candidate(cands, "one_se", 5)
            rest = sorted(done, key=ranking.rank_key(exp))
            want = rest if choice is None else [t for t in rest if t["number"] == choice.winner] + [
                t for t in rest if t["number"] != choice.winner]  # fmt: skip
            assert board.choice() == choice and board.ranked() == want and board.ranked(3) == want[:3]
            with_latency = [(t, c) for t, c in zip(done, cands, strict=True) if t["cost"]]
            points = [
                (t["cost"]["latency_ms_p95"], c.score, c.number)
                for t, c in with_latency
                if c.score > -math.inf
            ]
            assert [t["number"] for t in board.front()] == constraints.pareto_front(points)


def _as_candidate(t: dict[str, Any]) -> Candidate:
    """A minimised-logloss trial as the rule sees it (larger better), written out apart from ranking's."""
    v = t["metrics"]["logloss"]
    folds = tuple(NAN if f is None else -f for f in t["fold_scores"])
    return Candidate(t["number"], t["family"], -v if v == v else -math.inf, folds, t["feasible"], t["prior"])
