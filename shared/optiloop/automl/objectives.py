"""Objectives: which metric an experiment optimises and in which direction.

The seed writes `"objective": "maximize_f1"`; a bare metric name (`"auc"`) takes the metric's
natural direction. A direction against the metric's nature (`minimize_auc`) is refused: it is
almost always a typo, and the search would happily find the worst model there is.
"""

from __future__ import annotations

from dataclasses import dataclass

from optiloop.errors import FieldProblem, InvalidInput

MAXIMIZE = frozenset({"auc", "accuracy", "f1", "balanced_accuracy", "r2"})
MINIMIZE = frozenset({"logloss", "rmse", "mae", "mase", "smape"})
CLASSIFICATION = ("auc", "logloss", "accuracy", "f1", "balanced_accuracy")
REGRESSION = ("rmse", "mae", "r2")
ANOMALY = ("auc",)
FORECASTING = ("mase", "smape", "mae", "rmse")  # MASE first: scale-free, the M-competitions' measure
ALIASES = {"roc_auc": "auc", "log_loss": "logloss", "neg_log_loss": "logloss", "f1_macro": "f1"}


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str  # maximize | minimize

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "maximize"


def parse_objective(text: str, task_type: str) -> Objective:
    raw = text.strip().lower()
    direction = None
    for d in ("maximize", "minimize"):
        if raw.startswith(d + "_"):
            direction, raw = d, raw[len(d) + 1 :]
    metric = ALIASES.get(raw, raw)
    allowed = metrics_for(task_type)
    if metric not in allowed:
        raise InvalidInput(
            FieldProblem(
                "objective",
                f"{text!r} is not a {task_type} objective; one of {', '.join(allowed)} "
                "(optionally as maximize_<metric> / minimize_<metric>)",
            )
        )
    natural = "maximize" if metric in MAXIMIZE else "minimize"
    if direction is not None and direction != natural:
        raise InvalidInput(FieldProblem("objective", f"{metric} is to be {natural}d, not {direction}d"))
    return Objective(metric, natural)


def metrics_for(task_type: str) -> tuple[str, ...]:
    """Anomaly detectors are scored, when labels are given, by how they rank anomalies first."""
    return {"classification": CLASSIFICATION, "anomaly": ANOMALY, "forecasting": FORECASTING}.get(
        task_type, REGRESSION
    )
