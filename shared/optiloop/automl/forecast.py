"""Time-series forecasting (task_type "forecasting"): a table with a time column and a numeric target
-> lag/rolling/calendar features, expanding-window folds and the plan the search scores them by.

The scheme is DIRECT with lags >= horizon, one model for every step 1..h: the row for time t sees
the target only up to t - h (lag_h, lag_h+1, ..., and rolling means/stds of the w values ending at
lag h). From a forecast origin o, every target o+1..o+h therefore needs values up to o only, which
are known there — no feature is computed from the future, and no prediction is fed back in (a
recursive scheme would compound its own errors and need a runtime that loops). The served model is
then an ordinary regression over these columns: instances carry the lag features (see
docs/automl.md for how to build them from a history), so every existing numpy runtime serves it.

Folds are expanding windows, never shuffled: fold j validates the h rows after origin o_j and trains
on every row up to o_j. There is no extra gap between the two: the lags already hold the rows
o+1..o+h out of each validation row's features, which is exactly what a forecast made at o knows.

Leakage checks: a column of the table that tracks the target at the same time (|r| >= 0.999) or
at a lead of 1..h steps (a future-dated column) is refused with that reason in `excluded`. Other
columns are exogenous features taken as known at the target's time (plans, prices, calendars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.automl.features import LEAK_CORR, _encode, _leak, _unusable
from optiloop.automl.table import Table
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models import dateparts
from optiloop.models.signature import Input, Signature

CHUNK_ROWS = 8192  # rolling windows computed this many rows at a time (x window length floats)
MIN_TRAIN_ROWS = 10  # feature rows the first fold trains on, at least
MAX_HORIZON = 365
MAX_SEASON = 366
DEFAULT_FOLDS = 3
CALENDAR = ("month", "day_of_week", "day_of_month", "hour")


@dataclass
class ForecastPrepared:
    """What `features.prepare` returns for the other tasks, plus the series and its folds."""

    x: np.ndarray  # feature rows (series rows from `warmup` on), float32 values as float64
    y: np.ndarray  # the target on those rows
    signature: Signature
    excluded: dict[str, str]
    series: np.ndarray  # the whole target series, in time order
    horizon: int
    season: int
    warmup: int  # series rows without a full set of lags (not feature rows)
    folds: list[tuple[np.ndarray, np.ndarray]]  # (train, validation) feature-row indices
    origins: list[int]  # each fold's forecast origin, as a series index
    recipe: dict[str, Any] = field(default_factory=dict)  # how to build an instance (docs, artifact)
    class_balance: dict[str, int] = field(default_factory=dict)
    panel: Any = None  # several series (config.series_id): optiloop.automl.search.forecasting.Panel

    @property
    def task(self) -> str:
        return "regression"

    @property
    def dropped_rows(self) -> int:
        return self.warmup


def settings(raw: dict[str, Any]) -> dict[str, Any]:
    """config.time_column / horizon / season_length / series_id (optional: the column telling
    several series apart), checked for form (the table is checked later)."""
    time_column = raw.get("time_column")
    if not isinstance(time_column, str) or not time_column:
        raise InvalidInput(FieldProblem("config.time_column", "is required for forecasting"))
    horizon = raw.get("horizon")
    if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= MAX_HORIZON:
        raise InvalidInput(FieldProblem("config.horizon", f"an integer from 1 to {MAX_HORIZON} is required"))
    season = raw.get("season_length")
    if season is None:
        season = 1
    if not isinstance(season, int) or isinstance(season, bool) or not 1 <= season <= MAX_SEASON:
        raise InvalidInput(FieldProblem("config.season_length", f"an integer from 1 to {MAX_SEASON}"))
    series_id = raw.get("series_id")
    if series_id is not None and (not isinstance(series_id, str) or not series_id):
        raise InvalidInput(
            FieldProblem("config.series_id", "must name the column that tells the series apart")
        )
    out: dict[str, Any] = {"time_column": time_column, "horizon": horizon, "season_length": season}
    if series_id:
        out["series_id"] = series_id
    return out


def _parse_times(values: Any) -> tuple[np.ndarray, bool]:
    """Strings -> (int64 times, is_datetime): integer steps (ingest types a 0..n-1 column "id") as
    integers, anything else as ISO datetimes in epoch seconds, read as every datetime input is
    (optiloop.models.dateparts: an offset taken to UTC; ingest stored other formats as ISO);
    ValueError when neither."""
    strs = np.char.strip(np.asarray(values).astype(str))
    if np.all(np.char.isdigit(np.char.lstrip(strs, "-"))):
        return strs.astype(np.int64), False
    out = np.empty(strs.size, dtype=np.int64)
    for i, s in enumerate(strs.tolist()):
        d = dateparts.parse(s)
        if d is None:
            raise ValueError(f"{s!r} is not an ISO-8601 date or timestamp")
        out[i] = round((d - dateparts.EPOCH).total_seconds())
    return out, True


def _times(table: Table, name: str) -> tuple[np.ndarray, bool]:
    """The time column as int64 (epoch seconds for datetimes) and whether it is a datetime."""
    col = table.column(name)
    if col is None:
        raise InvalidInput(FieldProblem("config.time_column", f"no column {name!r} in the dataset"))
    if col.missing.any() if col.missing.size else False:
        raise InvalidInput(FieldProblem("config.time_column", f"column {name!r} has missing values"))
    if not col.is_numeric:
        try:
            return _parse_times(col.values)
        except ValueError as e:
            raise InvalidInput(
                FieldProblem("config.time_column", f"column {name!r} is neither a datetime nor integers")
            ) from e
    vals = col.values.astype(np.float64)
    if np.isnan(vals).any() or not np.all(vals == np.round(vals)):
        raise InvalidInput(
            FieldProblem("config.time_column", f"column {name!r} must be datetimes or integer steps")
        )
    return vals.astype(np.int64), False


def _lags(h: int, m: int) -> list[int]:
    lags = list(range(h, h + 3))
    if m > 1:
        first_season = m * -(-h // m)  # the first multiple of the season at or past the horizon
        lags += [first_season, first_season + m] if first_season + m <= 4 * m + h else [first_season]
    return sorted(set(lags))


def _windows(m: int) -> list[int]:
    return sorted({3, m}) if m > 3 else [3]


def _shift(y: np.ndarray, k: int) -> np.ndarray:
    out = np.full(y.size, np.nan)
    out[k:] = y[: y.size - k]
    return out


def _rolling(y: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the w values ending at lag h (y[t-h-w+1 .. t-h]), NaN where incomplete."""
    mean, std = np.full(y.size, np.nan), np.full(y.size, np.nan)
    if y.size >= w:
        win = np.lib.stride_tricks.sliding_window_view(y, w)  # win[i] = y[i .. i+w-1]
        for lo in range(h + w - 1, y.size, CHUNK_ROWS):  # in chunks: bounded memory on long series
            idx = np.arange(lo, min(lo + CHUNK_ROWS, y.size))
            mean[idx] = win[idx - h - w + 1].mean(axis=1)
            std[idx] = win[idx - h - w + 1].std(axis=1)
    return mean, std


def _calendar(t: np.ndarray, is_datetime: bool, m: int) -> dict[str, np.ndarray]:
    """Calendar features of the target's own time (known in advance)."""
    out: dict[str, np.ndarray] = {}
    if is_datetime:
        d = t.astype("datetime64[s]")
        days = d.astype("datetime64[D]")
        out["month"] = (d.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.float64)
        out["day_of_week"] = ((days.astype(np.int64) + 3) % 7).astype(np.float64)  # Monday = 0
        out["day_of_month"] = (days - days.astype("datetime64[M]")).astype(np.int64) + 1.0
        out["hour"] = ((t // 3600) % 24).astype(np.float64)
    elif m > 1:
        out["season_position"] = (t % m).astype(np.float64)
    return out


def _future_dated(x: np.ndarray, y: np.ndarray, h: int) -> str | None:
    """A column that tracks the target 1..h steps ahead carries the future."""
    for k in range(1, h + 1):
        a, b = x[: x.size - k], y[k:]
        ok = ~np.isnan(a)
        if ok.sum() < 10 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
            continue
        r = float(np.corrcoef(a[ok], b[ok])[0, 1])
        if abs(r) >= LEAK_CORR:
            return f"leaky: future-dated, tracks the target {k} step(s) ahead (r={r:.4f})"
    return None


def numeric_target(table: Table, target: str | None) -> np.ndarray:
    """The target column as floats, or the 422 naming `target`: absent, not numeric, or with gaps (a
    forecast needs a complete series; one table or several series of it alike)."""
    col = table.column(target) if target else None
    if target is None or col is None:
        raise InvalidInput(FieldProblem("target", f"no column {target!r} in the dataset"))
    if col.type != "numeric":
        raise InvalidInput(
            FieldProblem("target", f"column {target!r} is {col.type}; forecasting needs numbers")
        )
    y = col.values.astype(np.float64)
    if np.isnan(y).any():
        raise InvalidInput(
            FieldProblem("target", f"column {target!r} has {int(np.isnan(y).sum())} missing values; "
                         "forecasting needs a complete series (fill or drop them first)")
        )  # fmt: skip
    return y


def prepare_forecast(table: Table, target: str | None, cfg: dict[str, Any], n_folds: int) -> ForecastPrepared:
    """InvalidInput naming the field when the series cannot be forecast as configured."""
    if cfg.get("series_id"):
        from optiloop.automl.forecast_panel import prepare_panel

        return prepare_panel(table, target, cfg, n_folds)
    h, m, tname = int(cfg["horizon"]), int(cfg["season_length"]), str(cfg["time_column"])
    y = numeric_target(table, target)
    if target == tname:
        raise InvalidInput(FieldProblem("config.time_column", "is the target"))
    t, is_dt = _times(table, tname)
    steps = np.diff(t)
    if (steps == 0).any():
        raise InvalidInput(FieldProblem("config.time_column", f"column {tname!r} has duplicate times"))
    if (steps < 0).any():
        raise InvalidInput(
            FieldProblem("config.time_column", f"column {tname!r} is not sorted ascending (sort the rows)")
        )
    lags, windows = _lags(h, m), _windows(m)
    warmup = max(max(lags), h + max(windows) - 1)
    folds = max(1, n_folds)
    need = warmup + MIN_TRAIN_ROWS + folds * h
    if y.size < need:
        raise InvalidInput(
            FieldProblem(
                "config.horizon",
                f"{y.size} rows are too few: horizon {h} and season {m} need {warmup} warm-up rows, "
                f"{MIN_TRAIN_ROWS} to train on and {folds} x {h} to validate ({need}); "
                "use fewer cv folds or a shorter horizon",
            )
        )
    if np.unique(y).size < 2:
        raise InvalidInput(
            FieldProblem("target", f"column {target!r} is constant: there is nothing to learn")
        )
    cols: dict[str, np.ndarray] = {f"lag_{k}": _shift(y, k) for k in lags}
    for w in windows:
        mean, std = _rolling(y, h, w)
        cols[f"rolling_mean_{w}"], cols[f"rolling_std_{w}"] = mean, std
    cols.update({k: v for k, v in _calendar(t, is_dt, m).items() if np.unique(v).size > 1})  # not constant
    inputs = [Input(name, "number", True) for name in cols]
    feats = [v[warmup:] for v in cols.values()]
    keep = np.zeros(y.size, dtype=bool)
    keep[warmup:] = True
    excluded: dict[str, str] = {}
    for c in table.columns:
        if c.name in (target, tname):
            continue
        if c.name in cols:
            excluded[c.name] = "its name is taken by a generated feature"
            continue
        reason = _unusable(c, keep)
        if reason is None:
            enc, inp = _encode(c, np.ones(y.size, dtype=bool))
            reason = _leak(enc, y, "regression") or _future_dated(enc, y, h)
            if reason is None:
                inputs.append(inp)
                feats.append(enc[warmup:])
        if reason is not None:
            excluded[c.name] = reason
    x = np.column_stack(feats).astype(np.float32).astype(np.float64)
    fold_list: list[tuple[np.ndarray, np.ndarray]] = []
    origins: list[int] = []
    for j in range(folds):
        o = y.size - (folds - j) * h - 1  # series index of the origin
        fold_list.append((np.arange(0, o + 1 - warmup), np.arange(o + 1 - warmup, o + 1 - warmup + h)))
        origins.append(o)
    recipe = {
        "scheme": "direct, lags >= horizon (one model for steps 1..horizon)",
        "time_column": tname,
        "horizon": h,
        "season_length": m,
        "lags": lags,
        "rolling_windows": windows,
        "rolling_end_lag": h,
        "calendar": [k for k in (*CALENDAR, "season_position") if k in cols],
    }
    sig = Signature(task="regression", inputs=tuple(inputs), classes=())
    return ForecastPrepared(x, y[warmup:], sig, excluded, y, h, m, warmup, fold_list, origins, recipe)


def prepare_for(table: Table, target: str | None, task_type: str, config: dict[str, Any]) -> Any:
    """The features of an experiment of any task (its normalised config holds the forecast's)."""
    if task_type == "forecasting":
        return prepare_forecast(table, target, config["forecast"], int(config["cv"]["folds"]))
    from optiloop.automl.features import MIN_CLASS_ROWS, prepare

    return prepare(table, target, task_type, min_class_rows=MIN_CLASS_ROWS)


def instances(
    history: Any, recipe: dict[str, Any], times: Any = None, exogenous: Any = None
) -> list[dict[str, Any]]:
    """The `horizon` instances that forecast the steps after `history` (the target's values up to
    the forecast origin, oldest first) with a served forecasting model: what a client sends to
    POST /v1/inference. `times`: the targets' own times (datetimes or integer steps), needed when
    the recipe has calendar features; `exogenous`: per step, the values of the table's other
    feature columns at that time. Numpy only, so it runs wherever the SDK does."""
    y = np.asarray(history, dtype=np.float64)
    h = int(recipe["horizon"])
    lags, windows = list(recipe["lags"]), list(recipe["rolling_windows"])
    need = max(max(lags), h + max(windows) - 1) - h + 1
    if y.size < need:
        raise ValueError(f"history has {y.size} values; the recipe needs the last {need}")
    calendar: dict[str, np.ndarray] = {}
    if recipe.get("calendar"):
        if times is None or len(times) != h:
            raise ValueError(f"times: the {h} targets' times are needed for {recipe['calendar']}")
        arr = np.asarray(times)
        t, is_dt = (arr.astype(np.int64), False) if np.issubdtype(arr.dtype, np.number) else _parse_times(arr)
        calendar = _calendar(t, is_dt, int(recipe["season_length"]))
    out: list[dict[str, Any]] = []
    o = y.size - 1
    for s in range(1, h + 1):
        row: dict[str, Any] = {f"lag_{k}": float(np.float32(y[o + s - k])) for k in lags}
        end = o + s - h  # the rolling windows end at lag h
        for w in windows:
            win = y[end - w + 1 : end + 1]
            row[f"rolling_mean_{w}"] = float(np.float32(win.mean()))
            row[f"rolling_std_{w}"] = float(np.float32(win.std()))
        for name in recipe.get("calendar") or []:
            row[name] = float(calendar[name][s - 1])
        if exogenous is not None:
            row.update(exogenous[s - 1])
        out.append(row)
    return out
