"""The labelled table every tabular job starts from: rows read from the `train` channel, the inferred
signature inputs and task, the encoded matrix, the labels and the seeded train/validation split.

One reading for all tabular jobs (tabular_xgb, torch_mlp), so a dataset trains under the same
signature, encoding and held-out rows whichever model fits it, and their metrics compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from _lib import encoding, evaluate, sm
from _lib.data import read_rows


@dataclass(frozen=True)
class Table:
    rows: list[dict[str, Any]]
    id_fields: tuple[str, ...]
    inputs: list[dict[str, Any]]
    task: str
    classes: list[Any]
    x: np.ndarray
    y: np.ndarray
    train: np.ndarray
    val: np.ndarray

    def signature(self) -> dict[str, object]:
        out: dict[str, object] = {"task": self.task, "inputs": self.inputs}
        if self.classes:
            out["classes"] = self.classes
        if self.id_fields:
            out["id_fields"] = list(self.id_fields)
        return out


def load_table(job: str, hp: dict[str, str]) -> Table:
    """Read, type, encode and split the `train` channel; `sm.fail` (exit 1, a reason) when it cannot
    be trained on. `job` names the script in those reasons."""
    folder = sm.channel("train")
    if folder is None:
        sm.fail(f'{job} needs a `train` channel (inputs: {{"train": {{"dataset_id": ...}}}})')
    id_fields = tuple(f for f in hp.get("id_fields", "").split(",") if f)
    rows, labels = read_rows(folder, hp.get("target", "target"), id_fields)
    if len(rows) < 2:
        sm.fail(f"{job} needs at least 2 labelled rows, got {len(rows)}")
    inputs, dropped = encoding.infer_inputs(rows)
    if not inputs:
        sm.fail("no usable input fields (numbers, booleans or categories) in the rows")
    if dropped:
        print(f"left out (no values, objects, or more than {encoding.MAX_CATEGORIES} categories): {dropped}")
    task, classes = encoding.infer_task(labels, hp.get("task", "auto"))
    if task != "regression" and len(classes) < 2:
        sm.fail(f"the labels hold one class only ({classes}); a classifier needs two")
    if task == "regression":
        y = np.array([float(v) for v in labels], dtype=np.float64)
    else:
        y = encoding.label_codes(labels, classes)
    x = encoding.encode(inputs, rows)
    train, val = evaluate.split(
        len(rows), float(hp.get("validation_fraction", "0.2")), int(hp.get("seed", "0"))
    )
    print(
        f"rows: {len(rows)} (train {len(train)}, validation {len(val)}); inputs: {len(inputs)}; task: {task}"
    )
    return Table(rows, id_fields, inputs, task, classes, x, y, train, val)
