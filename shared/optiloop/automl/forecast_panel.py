"""Forecasting several series in one dataset (`config.series_id`): the series, their folds and the
global model's pooled rows.

Every series is forecast on its own by the statistical candidates, and all of them together by a
GLOBAL model: one regression over the rows of every series, with the same direct-scheme features
as one series has (lags >= horizon, rolling mean/std ending at lag h) divided by a per-row
normaliser — the mean |y| of the widest rolling window ending at lag h, known at the forecast
origin — and the target divided by it too. Normalised, a series of thousands and one of tens share
one shape, so short series borrow strength from long ones (the idea behind the global models
that did well in M4/M5). Calendar features and the table's other columns are not used across
series (each series' dates differ); they are listed in `excluded`.

Folds count from each series' end: fold j of series s validates the h values after
o_sj = n_s - (folds - j) * h - 1 and trains on every row, of any series, at or before its own
series' origin. A series too short to have feature rows at a fold (or at its end) is forecast there
by Theta, so every candidate is scored on every series of every fold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.automl.forecast import (
    MIN_TRAIN_ROWS,
    ForecastPrepared,
    _lags,
    _rolling,
    _shift,
    _times,
    _windows,
    numeric_target,
)
from optiloop.automl.search.forecasting import Panel
from optiloop.automl.search.statistical import MIN_HISTORY
from optiloop.automl.table import Table
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.signature import Input, Signature

MAX_SERIES = 20_000


def _split(table: Table, target: str, cfg: dict[str, Any]) -> tuple[list[str], list[np.ndarray]]:
    """The series' ids (in order of first appearance) and values (in row order), checked."""
    sid, tname = str(cfg["series_id"]), str(cfg["time_column"])
    col = table.column(sid)
    if col is None:
        raise InvalidInput(FieldProblem("config.series_id", f"no column {sid!r} in the dataset"))
    if sid in (target, tname):
        raise InvalidInput(FieldProblem("config.series_id", "must be a column besides the target and time"))
    if col.missing.size and col.missing.any():
        raise InvalidInput(FieldProblem("config.series_id", f"column {sid!r} has missing values"))
    vals = col.values
    keys = np.asarray([_key(v) for v in vals]) if col.is_numeric else np.asarray(vals).astype(str)
    ids, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if ids.size > MAX_SERIES:
        raise InvalidInput(FieldProblem("config.series_id", f"{ids.size} series; at most {MAX_SERIES}"))
    order = np.argsort(first, kind="stable")
    y = table.column(target).values.astype(np.float64)  # type: ignore[union-attr]
    t, _ = _times(table, tname)
    out_ids: list[str] = []
    out_vals: list[np.ndarray] = []
    for code in order:
        rows = np.flatnonzero(inverse == code)
        steps = np.diff(t[rows])
        name = str(ids[code])
        if (steps <= 0).any():
            what = "duplicate times" if (steps == 0).any() else "times not sorted ascending (sort the rows)"
            raise InvalidInput(FieldProblem("config.time_column", f"series {name!r} has {what}"))
        out_ids.append(name)
        out_vals.append(y[rows])
    return out_ids, out_vals


def _key(v: Any) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else str(f)


def _rows(
    v: np.ndarray, h: int, lags: list[int], windows: list[int], warmup: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normalised features, normalised target, normaliser) of a series' rows t >= warmup."""
    cols = [_shift(v, k) for k in lags]
    for w in windows:
        mean, std = _rolling(v, h, w)
        cols += [mean, std]
    norm = _rolling(np.abs(v), h, max(windows))[0]
    norm = np.where(np.isfinite(norm) & (norm > 0), norm, 1.0)
    x = np.column_stack(cols)[warmup:] / norm[warmup:, None]
    return x, v[warmup:] / norm[warmup:], norm[warmup:]


def _future(v: np.ndarray, h: int, lags: list[int], windows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The h rows forecasting steps 1..h from the series' end (features use values up to it)."""
    ext = np.r_[v, np.zeros(h)]  # the future's slots: no feature reads them (lags >= h)
    x, _, norm = _rows(ext, h, lags, windows, v.size)
    return x, norm


def prepare_panel(table: Table, target: str | None, cfg: dict[str, Any], n_folds: int) -> ForecastPrepared:
    h, m = int(cfg["horizon"]), int(cfg["season_length"])
    y = numeric_target(table, target)
    assert target is not None  # numeric_target refused a missing target with a 422
    if np.unique(y).size < 2:
        raise InvalidInput(
            FieldProblem("target", f"column {target!r} is constant: there is nothing to learn")
        )
    ids, values = _split(table, target, cfg)
    folds = max(1, n_folds)
    need = folds * h + MIN_HISTORY
    short = [(i, v.size) for i, v in zip(ids, values, strict=True) if v.size < need]
    if short:
        raise InvalidInput(
            FieldProblem(
                "config.series_id",
                f"series {short[0][0]!r} has {short[0][1]} values; each needs {folds} x {h} to validate "
                f"and {MIN_HISTORY} before them ({need}) — {len(short)} series are shorter; use fewer "
                "cv folds or a shorter horizon",
            )
        )
    lags, windows = _lags(h, m), _windows(m)
    warmup = max(max(lags), h + max(windows) - 1)
    xs, ys, norms, ser, pos = [], [], [], [], []
    fut_x = np.full((len(ids), h, len(lags) + 2 * len(windows)), np.nan)
    fut_norm, fut_ok = np.ones((len(ids), h)), np.zeros(len(ids), dtype=bool)
    for s, v in enumerate(values):
        if v.size > warmup:
            x, y, norm = _rows(v, h, lags, windows, warmup)
            xs.append(x)
            ys.append(y)
            norms.append(norm)
            ser.append(np.full(y.size, s))
            pos.append(np.arange(warmup, v.size))
        if v.size >= warmup:
            fut_x[s], fut_norm[s] = _future(v, h, lags, windows)
            fut_ok[s] = True
    n_feat = len(lags) + 2 * len(windows)
    x_all = np.vstack(xs).astype(np.float32).astype(np.float64) if xs else np.zeros((0, n_feat))
    y_all = np.concatenate(ys) if ys else np.zeros(0)
    row_series = np.concatenate(ser) if ser else np.zeros(0, dtype=np.int64)
    row_t = np.concatenate(pos) if pos else np.zeros(0, dtype=np.int64)
    origins_of = np.array([[v.size - (folds - j) * h - 1 for j in range(folds)] for v in values])
    fold_list: list[tuple[np.ndarray, np.ndarray]] = []
    global_reason: str | None = None
    for j in range(folds):
        o = origins_of[row_series, j]
        tr, va = np.flatnonzero(row_t <= o), np.flatnonzero((row_t > o) & (row_t <= o + h))
        if global_reason is None and (tr.size < MIN_TRAIN_ROWS or va.size == 0):
            global_reason = (
                f"no global model: fold {j} has {tr.size} training and {va.size} validation rows across "
                f"the series (at least {MIN_TRAIN_ROWS} and 1 are needed; the lags need {warmup} "
                "warm-up values a series); the statistical candidates are searched alone"
            )
        fold_list.append((tr, va))
    names = [f"lag_{k}" for k in lags] + [f"rolling_{s}_{w}" for w in windows for s in ("mean", "std")]
    excluded = {
        c.name: "not used across series (each series' calendar and covariates differ)"
        for c in table.columns
        if c.name not in (target, cfg["time_column"], cfg["series_id"])
    }
    norm_all = np.concatenate(norms) if norms else np.zeros(0)
    panel = Panel(ids, values, folds, row_series, row_t, norm_all, fut_x, fut_norm, fut_ok, global_reason)
    recipe = {
        "scheme": "per series (statistical) and global (pooled normalised lags >= horizon)",
        "series_id": cfg["series_id"],
        "series": len(ids),
        "time_column": cfg["time_column"],
        "horizon": h,
        "season_length": m,
        "lags": lags,
        "rolling_windows": windows,
        "normaliser": f"mean |y| of the {max(windows)} values ending at lag {h}",
        "serving": "a forecast table: instances {series_id, step}",
    }
    sig = Signature(task="regression", inputs=tuple(Input(n, "number", True) for n in names), classes=())
    dropped = int(sum(min(v.size, warmup) for v in values))  # rows without a full set of lags
    return ForecastPrepared(
        x_all, y_all, sig, excluded, np.zeros(0), h, m, dropped, fold_list, [], recipe, panel=panel
    )
