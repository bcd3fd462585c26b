"""XGBoost -> `optiloop.trees/1`, by the training jobs' exporter (`training_jobs/_lib/trees_export.py`).

One exporter, not two: the file is loaded from the training-code root the local trainer uses
(`optiloop.models.training.factory.code_root`: OPTILOOP_TRAINING_JOBS_DIR, else the repository's
training_jobs/), so a fix there fixes AutoML's artifacts too.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import Any


@cache
def _exporter() -> Any:
    from optiloop.models.training.factory import code_root

    path = code_root() / "_lib" / "trees_export.py"
    spec = importlib.util.spec_from_file_location("optiloop_trees_export", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise RuntimeError(f"the XGBoost exporter is not at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def export_xgb(model: Any, n_features: int) -> dict[str, Any]:
    doc: dict[str, Any] = _exporter().export_booster(model.get_booster(), n_features)
    return doc
