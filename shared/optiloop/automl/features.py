"""A table and its target -> the feature matrix, the labels and the signature the model will serve.

The signature is built here, before any model, and the matrix is exactly what
`Signature.encode` makes of the same rows as instances (a category's code is its index in
`categories`, a boolean 0/1, a missing value NaN), so training and serving cannot disagree. Values
are rounded to float32 once: XGBoost and scikit-learn's trees compare float32 features, and the
portable trees runtime does too, so every model sees the same numbers at fit and at predict time.

A datetime column becomes its parts (optiloop.models.dateparts: year, month, day, weekday, hour,
days since 1970) and a text column its length and word counts (optiloop.models.textparts: `chars`,
`words`, and a count per word of a vocabulary of its frequent words), each an input derived from the
column (`joined.month`, `review:great` read the request's `joined` and `review`), those constant
in the training rows left out; the column itself is named in `excluded` only when no part is left.

A categorical with more than MAX_CATEGORIES values keeps its most frequent ones (`_frequent`); the
rest read as missing, as an unseen value does at serving.

What is not a feature, and why, is returned (`excluded`), never silently dropped: ids, constant or
empty columns, many-valued categoricals none of whose values is frequent, and leaky-looking columns
(or date and text parts) — one that determines the target on every row by itself (a single
threshold or value -> class map for classification, |r| >= 0.999 for regression).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.automl.table import Column, Table
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models import dateparts, textparts
from optiloop.models.signature import Input, Signature

MAX_CLASSES = 100
MIN_CLASS_ROWS = 2  # one row to validate on and one to train on, in every fold
MAX_CATEGORIES = 200  # levels of one categorical input; a column with more keeps its most frequent
MIN_LEVEL_ROWS = 10  # ... of those on at least this many rows (`_frequent`)
LEAK_CORR = 0.999
# columns whose features are parts computed from the raw value, at training and at serving alike
DERIVED = {"datetime": dateparts.columns, "text": textparts.columns}


@dataclass
class Prepared:
    x: np.ndarray  # rows x features, float64 holding float32 values, NaN missing
    y: np.ndarray  # class codes (int64) or values (float64)
    signature: Signature
    excluded: dict[str, str]
    class_balance: dict[str, int]
    dropped_rows: int
    # classification: classes with too few rows to cross-validate, left out with their rows
    dropped_classes: dict[str, int] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.signature.task


def _label(v: float, integer: bool) -> Any:
    return int(v) if integer else float(v)


def _labels(col: Column, keep: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Class codes and the classes (JSON values: ints, floats, booleans or strings), sorted."""
    if col.type == "boolean":
        # a yes/no column answers in its own spelling (its levels, optiloop.automl.infer), else true/false
        vals = col.values[keep]
        names: list[Any] = list(col.levels) if col.levels and len(col.levels) == 2 else [False, True]
        return vals.astype(np.int64), names[: int(vals.max()) + 1] if vals.size else []
    if col.is_numeric:
        vals = col.values[keep]
        uniq = np.unique(vals)
        integer = bool(np.all(uniq == np.round(uniq)))
        codes = np.searchsorted(uniq, vals).astype(np.int64)
        return codes, [_label(float(u), integer) for u in uniq]
    strs = col.values[keep]
    uniq_s = np.unique(strs)
    return np.searchsorted(uniq_s, strs).astype(np.int64), [str(u) for u in uniq_s]


def _target(table: Table, target: str, task_type: str) -> tuple[Column, np.ndarray]:
    col = table.column(target)
    if col is None:
        names = ", ".join(table.names[:20])
        raise InvalidInput(FieldProblem("target", f"no column {target!r} in the dataset (columns: {names})"))
    keep = ~col.missing
    if not keep.any():
        raise InvalidInput(FieldProblem("target", f"column {target!r} has no values"))
    if task_type == "regression" and col.type != "numeric":
        raise InvalidInput(
            FieldProblem("target", f"column {target!r} is {col.type}; regression needs numbers")
        )
    if np.unique(col.values[keep]).size < 2:
        raise InvalidInput(
            FieldProblem("target", f"column {target!r} is constant: there is nothing to learn")
        )
    return col, keep


def _anomaly_labels(table: Table, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Anomaly detection: every row, and labels when a target is named — a boolean or 0/1 column,
    true/1 meaning anomaly (used to score the detector, never to fit it); zeros otherwise."""
    n = table.n_rows
    if target is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    col, keep = _target(table, target, "anomaly")
    vals = col.values[keep]
    if not (col.type == "boolean" or (col.is_numeric and set(np.unique(vals).tolist()) <= {0.0, 1.0})):
        raise InvalidInput(
            FieldProblem(
                "target", f"column {target!r} must be boolean or 0/1 (1 = anomaly) for anomaly detection"
            )
        )
    return vals.astype(np.int64), keep


def prepare(table: Table, target: str | None, task_type: str, *, min_class_rows: int = 1) -> Prepared:
    """InvalidInput naming `target` when it is missing, empty, constant or not the task's kind.
    `task_type` "anomaly": the target is optional (labels to score by); the signature is binary with
    classes (false, true), true = anomaly. `min_class_rows`: classes on fewer rows are left out with
    their rows (`dropped_classes`; an experiment cross-validates, so it asks for MIN_CLASS_ROWS)."""
    if task_type == "anomaly":
        y_a, keep_a = _anomaly_labels(table, target)
        x, inputs, excluded = _features(table, target, keep_a, y_a, "anomaly")
        sig = Signature(task="binary", inputs=tuple(inputs), classes=(False, True))
        labels = {"False": int((y_a == 0).sum()), "True": int((y_a == 1).sum())} if target else {}
        return Prepared(x, y_a, sig, excluded, labels, int((~keep_a).sum()))
    assert target is not None
    tcol, keep = _target(table, target, task_type)
    dropped: dict[str, int] = {}
    if task_type == "regression":
        y: np.ndarray = tcol.values[keep].astype(np.float64)
        classes: list[Any] = []
        task = "regression"
        balance: dict[str, int] = {}
    else:
        y, classes = _labels(tcol, keep)
        per_class = np.bincount(y, minlength=len(classes))
        rare = np.flatnonzero(per_class < min_class_rows)
        if rare.size:  # too few rows to cross-validate: left out (`rare_classes_warning` says why)
            dropped = {str(classes[k]): int(per_class[k]) for k in rare}
            keep = keep.copy()
            keep[np.flatnonzero(keep)[np.isin(y, rare)]] = False
            y, classes = _labels(tcol, keep)
            per_class = np.bincount(y, minlength=len(classes))
        if len(classes) < 2:
            why = f"column {target!r} has one class on {min_class_rows} or more rows: nothing to learn"
            raise InvalidInput(FieldProblem("target", why))
        if len(classes) > MAX_CLASSES:
            raise InvalidInput(
                FieldProblem(
                    "target", f"has {len(classes)} classes; classification takes at most {MAX_CLASSES}"
                )
            )
        task = "binary" if len(classes) == 2 else "multiclass"
        balance = {str(c): int(per_class[k]) for k, c in enumerate(classes)}
    x, inputs, excluded = _features(table, target, keep, y, task)
    sig = Signature(task=task, inputs=tuple(inputs), classes=tuple(classes))  # type: ignore[arg-type]
    return Prepared(x, y, sig, excluded, balance, int((~keep).sum()), dropped)


def rare_classes_warning(dropped: dict[str, int]) -> str | None:
    """Why a class of one row is left out rather than refused or kept: kept, it is in no training
    fold when its row is validated, so the fold models know one class fewer than the experiment and
    every trial failed at run time (a shape mismatch of the predicted probabilities); refused, a
    table with one odd label (a typo, a retired product) cannot be used at all until someone edits
    it. Left out with its rows, as AutoGluon does with its label_count_threshold, the model answers
    the other classes and the experiment says so in its `warnings`."""
    if not dropped:
        return None
    shown = ", ".join(f"{c!r} ({n})" for c, n in list(dropped.items())[:5])
    more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
    return (
        f"target: classes with fewer than {MIN_CLASS_ROWS} rows cannot be cross-validated; left out "
        f"with their rows: {shown}{more}"
    )


def _features(
    table: Table, target: str | None, keep: np.ndarray, y: np.ndarray, task: str
) -> tuple[np.ndarray, list[Input], dict[str, str]]:
    """The usable columns encoded (float32 values as float64), their inputs, and what was left out."""
    inputs: list[Input] = []
    cols: list[np.ndarray] = []
    excluded: dict[str, str] = {}
    for c in table.columns:
        if c.name == target:
            continue
        reason = _unusable(c, keep)
        if reason is not None:
            excluded[c.name] = reason
            continue
        if c.type in DERIVED:
            encoded = _parts(c, keep)
            if not encoded:
                excluded[c.name] = f"constant: every {c.type} part is the same on every row"
        else:
            encoded = [_encode(c, keep)]
        for feature, inp in encoded:
            leak = None if task == "anomaly" else _leak(feature, y, task)
            if leak is not None:
                excluded[inp.name] = leak
                continue
            inputs.append(inp)
            cols.append(feature)
    if not inputs:
        raise InvalidInput(FieldProblem("dataset_id", "no column is usable as a feature"))
    return np.column_stack(cols).astype(np.float32).astype(np.float64), inputs, excluded


def _unusable(c: Column, keep: np.ndarray) -> str | None:
    if c.type == "id":
        return "id columns are not features"
    present = c.values[keep & ~c.missing]
    n_unique = np.unique(present).size
    if n_unique == 0:
        return "no values"
    if n_unique == 1:
        return "constant"
    if c.type == "categorical" and n_unique > MAX_CATEGORIES and not _frequent(present).size:
        return f"{n_unique} categories, none on {MIN_LEVEL_ROWS} or more rows"
    return None


def _frequent(present: np.ndarray) -> np.ndarray:
    """A many-valued categorical's kept levels: the MAX_CATEGORIES most frequent of those on at least
    MIN_LEVEL_ROWS rows (ties by value), sorted. The rest read as missing, in training as at serving
    (a value outside the signature's categories is missing there), so a 3,750-value tail number or a
    job title keeps its common values' signal without one one-hot column per rare spelling; empty when
    fewer than two levels are that frequent (an id-like column: nothing to learn from)."""
    values, counts = np.unique(present, return_counts=True)
    order = np.lexsort((values, -counts))[:MAX_CATEGORIES]
    kept = values[order][counts[order] >= MIN_LEVEL_ROWS]
    return np.sort(kept) if kept.size >= 2 else kept[:0]


def _encode(c: Column, keep: np.ndarray) -> tuple[np.ndarray, Input]:
    # Every input may be missing at predict time, even one the training rows always had: each
    # runtime the search exports answers a missing value (trees by their default branch, the
    # linear runtime and the MLP by imputing the training mean, one-hot by all zeros), and a
    # held-out row with one empty cell must not turn a whole batch into a 422.
    required = False
    if c.type == "boolean":
        return c.values[keep].astype(np.float64), Input(c.name, "boolean", required)
    if c.is_numeric:  # read at serving as ingest read the file (its format, its stray words)
        return c.values[keep].astype(np.float64), Input(
            c.name, "number", required, format=c.format, missing_as=c.missing_as
        )
    if c.type == "ordinal" and c.levels:
        # the levels lowest first, so a category's code is its rank: a tree splits "Good or better"
        # in one threshold instead of picking levels out of their alphabetical order
        index = {v: float(k) for k, v in enumerate(c.levels)}
        ranks = np.array([index.get(str(v), np.nan) for v in c.values[keep]])
        ranks[c.missing[keep]] = np.nan
        return ranks, Input(c.name, "category", required, tuple(c.levels))
    cats = np.unique(c.values[~c.missing])
    if cats.size > MAX_CATEGORIES:
        cats = _frequent(c.values[keep & ~c.missing])
    vals = c.values[keep]
    at = np.clip(np.searchsorted(cats, vals), 0, cats.size - 1)
    codes = np.where(cats[at] == vals, at, -1).astype(np.float64)
    codes[(codes < 0) | c.missing[keep]] = np.nan
    return codes, Input(c.name, "category", required, tuple(str(v) for v in cats))


def _parts(c: Column, keep: np.ndarray) -> list[tuple[np.ndarray, Input]]:
    """A datetime or text column's parts that vary over the training rows, as inputs reading the
    column: `<column>.<part>`, a text's word w `<column>:<w>`."""
    parts = DERIVED[c.type](c.values[keep], c.missing[keep])
    fmt, strays = (c.format, c.missing_as) if c.type == "datetime" else ("", ())  # how serving reads it
    out = []
    for part, v in parts.items():
        if np.unique(v[~np.isnan(v)]).size > 1:
            word = part.removeprefix(textparts.TOKEN)
            name = f"{c.name}:{word}" if word != part else f"{c.name}.{part}"
            out.append(
                (v, Input(name, "number", False, source=c.name, part=part, format=fmt, missing_as=strays))
            )
    return out


def _leak(x: np.ndarray, y: np.ndarray, task: str) -> str | None:
    ok = ~np.isnan(x)
    if ok.sum() < 10 or ok.sum() < 0.9 * x.size:
        return None
    xs, ys = x[ok], y[ok]
    if task == "regression":
        if np.std(xs) == 0 or np.std(ys) == 0:
            return None
        r = float(np.corrcoef(xs, ys)[0, 1])
        return f"leaky: correlates with the target at r={r:.4f}" if abs(r) >= LEAK_CORR else None
    # one value -> one class everywhere, with far fewer values than rows (else it is an id)
    uniq, inv = np.unique(xs, return_inverse=True)
    if uniq.size < xs.size / 2:
        per_value = np.zeros((uniq.size, int(ys.max()) + 1))
        np.add.at(per_value, (inv, ys), 1)
        if np.all((per_value > 0).sum(axis=1) == 1) and np.unique(ys).size > 1:
            return "leaky: each of its values determines the target"
    if task == "binary":
        order = np.argsort(xs, kind="stable")
        ysort = ys[order]
        changes = int(np.count_nonzero(np.diff(ysort)))
        if (
            changes == 1
            and np.unique(xs[order][ysort == ysort[0]]).max() < xs[order][ysort != ysort[0]].min()
        ):
            return "leaky: one threshold on it separates the classes on every row"
    return None
