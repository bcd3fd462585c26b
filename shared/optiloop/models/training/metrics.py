"""The metric convention: a script prints one line per value, `metric: <name>=<number>`.

    metric: auc=0.913
    metric: validation.logloss=0.31

Anything may precede `metric:` on the line (SageMaker prefixes nothing, a logging setup may add a
timestamp); the name is 1-64 of letters, digits, `_ . -` starting with a letter; the number is a
plain decimal or exponent float. A job's `metrics` are the last value printed for each name, its
`metric_history` every value in order (bounded). The same pattern, one regex per declared name,
is what SageMaker gets as `MetricDefinitions`, so both backends read a script's metrics alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

NAME = r"[A-Za-z][A-Za-z0-9_.\-]{0,63}"
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
LINE = re.compile(rf"metric: ({NAME})=({NUMBER})(?![\w.])")
NAME_RE = re.compile(rf"^{NAME}$")
MAX_HISTORY = 500
MAX_METRICS = 40  # SageMaker accepts at most 40 metric definitions per job


def parse_metrics(lines: Iterable[str]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """(last value per name, every value in order as {"name", "value", "line"}), finite values only."""
    last: dict[str, float] = {}
    history: list[dict[str, Any]] = []
    for n, line in enumerate(lines):
        for m in LINE.finditer(line):
            value = float(m.group(2))
            if not math.isfinite(value):
                continue
            name = m.group(1)
            if name not in last and len(last) >= MAX_METRICS:
                continue
            last[name] = value
            if len(history) < MAX_HISTORY:
                history.append({"name": name, "value": value, "line": n})
    return last, history


def metric_definitions(names: Iterable[str]) -> list[dict[str, str]]:
    """SageMaker `MetricDefinitions` for the declared names: the same line pattern per name."""
    out = []
    for name in list(dict.fromkeys(names))[:MAX_METRICS]:
        if not NAME_RE.match(name):
            raise ValueError(f"metric name {name!r} does not follow the convention ({NAME})")
        out.append({"Name": name, "Regex": f"metric: {re.escape(name)}=({NUMBER})"})
    return out
