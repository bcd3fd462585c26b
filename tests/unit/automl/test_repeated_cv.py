"""Repeated inner CV on small tables: R seeded draws of k folds (stratified for classification),
draw 0 the plain k-fold of before, one draw from 500 rows (large tables search exactly as before),
the out-of-fold array stacked by draw, config.cv.repeats validated with the field's name."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.automl import experiments
from optiloop.automl.objectives import Objective
from optiloop.errors import InvalidInput

pytest.importorskip("sklearn")


def _spec(**kw):  # type: ignore[no-untyped-def]
    from optiloop.automl.search.runner import SearchSpec

    return SearchSpec(objective=Objective("logloss", "minimize"), **kw)


def _classes(n: int) -> np.ndarray:
    return np.random.default_rng(3).choice(3, size=n, p=[0.5, 0.3, 0.2])


@pytest.mark.parametrize(("rows", "draws"), [(60, 5), (142, 4), (266, 2), (499, 2), (500, 1), (4000, 1)])
def test_automatic_draws_follow_the_table_size(rows: int, draws: int) -> None:
    from optiloop.automl.search.runner import cv_repeats

    assert cv_repeats(rows, None) == draws
    assert cv_repeats(rows, 3) == 3  # a declared number wins


def test_large_tables_keep_the_plain_k_folds() -> None:
    from sklearn.model_selection import StratifiedKFold

    from optiloop.automl.search.runner import folds_of

    y = _classes(800)
    plain = list(StratifiedKFold(5, shuffle=True, random_state=7).split(np.zeros((800, 1)), y))
    for spec in (_spec(cv_seed=7, repeats=None), _spec(cv_seed=7)):
        got = folds_of(y, spec, "multiclass")
        assert len(got) == 5
        assert all(
            np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0]) for a, b in zip(got, plain, strict=True)
        )


def test_small_tables_get_stratified_seeded_draws_that_each_partition_the_rows() -> None:
    from optiloop.automl.search.runner import folds_of

    y = _classes(142)
    folds = folds_of(y, _spec(cv_seed=2, repeats=None), "multiclass")
    assert len(folds) == 4 * 5
    share = np.bincount(y) / y.size
    for r in range(4):
        draw = folds[5 * r : 5 * r + 5]
        assert np.array_equal(np.sort(np.concatenate([va for _, va in draw])), np.arange(142))
        for tr, va in draw:
            assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == 142
            assert np.all(np.abs(np.bincount(y[va], minlength=3) - share * va.size) <= 1.0)  # stratified
    assert not np.array_equal(folds[0][1], folds[5][1])  # a new shuffle per draw
    again = folds_of(y, _spec(cv_seed=2, repeats=None), "multiclass")
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))  # deterministic
    other = folds_of(y, _spec(cv_seed=3, repeats=None), "multiclass")
    assert not np.array_equal(folds[0][1], other[0][1])


def test_regression_draws_plain_k_folds_and_stacked_slots_cover_each_draw_once() -> None:
    from optiloop.automl.search.runner import folds_of, stacked

    y = np.random.default_rng(0).normal(size=90)
    folds = folds_of(y, _spec(folds=3, repeats=3, stratified=False), "regression")
    assert len(folds) == 9
    slots = stacked(folds, 90)
    assert np.array_equal(np.sort(np.concatenate([s for _, s in slots])), np.arange(270))
    assert all(np.array_equal(s % 90, va) for (_, va), (_, s) in zip(folds, slots, strict=True))
    assert [int(s.min()) // 90 for _, s in slots] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_a_repeated_search_scores_every_draw_and_repeats_itself() -> None:
    from optiloop.automl.features import prepare
    from optiloop.automl.infer import infer_table
    from optiloop.automl.search.runner import SearchSpec, search

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=80), rng.normal(size=80)
    prep = prepare(
        infer_table(
            {"a": list(a), "b": list(b), "y": [int(v) for v in (a + 0.5 * b + rng.normal(size=80) > 0)]}
        ),
        "y",
        "classification",
    )
    spec = SearchSpec(
        objective=Objective("logloss", "minimize"), folds=3, repeats=2, trials=5, families=("linear",),
        keep_oof=True, ensemble=False,
    )  # fmt: skip
    runs = [search(prep.x, prep.y, prep.signature, spec, refit=False) for _ in range(2)]
    assert [(r.params, r.status, r.fold_scores) for r in runs[0]] == [
        (r.params, r.status, r.fold_scores) for r in runs[1]
    ]
    done = [r for r in runs[0] if r.status == "completed"]
    assert done and all(len(r.fold_scores) == 6 for r in done)
    oof = done[0].oof
    assert oof is not None and oof.shape == (160, 1) and np.all(np.isfinite(oof))
    assert not np.allclose(oof[:80], oof[80:])  # two draws: each row predicted by two different models


def test_config_repeats_is_validated_by_name_and_old_experiments_keep_one_draw() -> None:
    assert experiments.normalise_config({}, "classification")["cv"]["repeats"] is None
    assert experiments.normalise_config({"cv": {"repeats": 3}}, "regression")["cv"]["repeats"] == 3
    series = {"time_column": "t", "horizon": 3}
    assert experiments.normalise_config(series, "forecasting")["cv"]["repeats"] == 1
    for bad, task in ((0, "classification"), (11, "classification"), ("2", "regression"), (2, "forecasting")):
        with pytest.raises(InvalidInput) as e:
            experiments.normalise_config({**series, "cv": {"repeats": bad}}, task)
        assert [p.field for p in e.value.problems] == ["config.cv.repeats"]
    assert experiments.cv_repeats_of({"cv": {"type": "kfold", "folds": 5, "seed": 0}}) == 1
    assert (
        experiments.cv_repeats_of({"cv": {"type": "kfold", "folds": 5, "seed": 0, "repeats": None}}) is None
    )
