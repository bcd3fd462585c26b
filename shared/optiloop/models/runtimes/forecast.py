"""`optiloop.forecast/1`: a forecast table — for each series, the next `horizon` values from the
end of the data the model was fitted on, with prediction intervals.

Why a table and not a model to evaluate: AutoML's statistical forecasters (ETS, Theta, their
combinations) and its global model across series forecast from each series' own history. Refitting
them per request would put scipy in the predict Lambda and make a request's cost grow with the
history; the forecast they make from the data's end is what a deployment of them is for. So the
artifact carries that forecast, and a request names the series and the step:

    {"format": "optiloop.forecast/1", "horizon": 18, "series": ["N1402", "N1403"],
     "levels": [80, 95],
     "mean":  [[...18 values...], [...]],                 # series x step
     "lower": {"80": [[...]], "95": [[...]]}, "upper": {"80": [[...]], "95": [[...]]}}

Instances `{"series_id": "N1402", "step": 3}` (a single-series model takes `step` alone) answer
`{"value", "interval": {"80": [lo, hi], "95": [lo, hi]}}`. A new forecast is a new model version:
rerun the experiment on the longer history and register its winner.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.runtimes.links import model_document

FORMAT = "optiloop.forecast/1"
MAX_SERIES = 100_000
MAX_HORIZON = 1000


def _bad(reason: str) -> InvalidInput:
    return InvalidInput(FieldProblem("artifact.model_file", reason))


def _matrix(value: Any, rows: int, cols: int, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise _bad(f"{what} must be a series x horizon matrix of numbers") from e
    if arr.shape != (rows, cols) or not np.all(np.isfinite(arr)):
        raise _bad(f"{what} must be a {rows} x {cols} matrix of finite numbers")
    return arr


class ForecastPredictor:
    """x columns: the series' code (its index in `series`; NaN where the model has one series and
    the instance names none) and the step 1..horizon."""

    n_outputs = 1

    def __init__(self, doc: dict[str, Any]) -> None:
        series, h = doc.get("series"), doc.get("horizon")
        if not isinstance(series, list) or not 1 <= len(series) <= MAX_SERIES:
            raise _bad(f"series must be a list of 1 to {MAX_SERIES} ids")
        if not isinstance(h, int) or isinstance(h, bool) or not 1 <= h <= MAX_HORIZON:
            raise _bad(f"horizon must be an integer from 1 to {MAX_HORIZON}")
        self.series = [str(s) for s in series]
        self.horizon = h
        self.mean = _matrix(doc.get("mean"), len(series), h, "mean")
        levels = doc.get("levels") or []
        if not isinstance(levels, list) or not all(isinstance(v, int) and 0 < v < 100 for v in levels):
            raise _bad("levels must be a list of integer percentages between 0 and 100")
        self.levels = [int(v) for v in levels]
        lower, upper = doc.get("lower") or {}, doc.get("upper") or {}
        self.lower = {v: _matrix(lower.get(str(v)), len(series), h, f"lower[{v}]") for v in self.levels}
        self.upper = {v: _matrix(upper.get(str(v)), len(series), h, f"upper[{v}]") for v in self.levels}
        self.n_features = 2 if len(self.series) > 1 else 1  # (series_id,) step

    def _cells(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(series row, step column) per instance, or the 422 naming the instance's field."""
        problems: list[FieldProblem] = []
        codes = x[:, 0] if x.shape[1] > 1 else np.zeros(x.shape[0])
        steps = x[:, -1]
        for r in range(x.shape[0]):
            if math.isnan(codes[r]):
                if len(self.series) > 1:
                    problems.append(
                        FieldProblem(f"instances[{r}].series_id", "is not a series of this model")
                    )
                else:
                    codes[r] = 0.0
            if not 1 <= steps[r] <= self.horizon:
                problems.append(FieldProblem(f"instances[{r}].step", f"must be from 1 to {self.horizon}"))
        if problems:
            raise InvalidInput(problems[:20])
        return codes.astype(np.int64), steps.astype(np.int64) - 1

    def predict(self, x: np.ndarray) -> np.ndarray:
        rows, cols = self._cells(x)
        return self.mean[rows, cols][:, None]

    def intervals(self, x: np.ndarray) -> list[dict[str, list[float]]]:
        """Per instance {level: [lower, upper]} (empty where the model has no intervals)."""
        rows, cols = self._cells(x)
        return [
            {str(v): [float(self.lower[v][r, c]), float(self.upper[v][r, c])] for v in self.levels}
            for r, c in zip(rows, cols, strict=True)
        ]


def load_forecast(model_bytes: bytes) -> ForecastPredictor:
    doc = model_document(model_bytes)
    if doc.get("format") != FORMAT:
        raise _bad(f"format must be {FORMAT!r}")
    return ForecastPredictor(doc)
