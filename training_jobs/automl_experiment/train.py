"""A whole AutoML search as one training job: the AutoML state machine runs one of these for a
forecasting or anomaly experiment (optiloop.automl.search_job says why one job, not one per trial),
on SageMaker or as a local subprocess.

Like automl_trial it imports optiloop, so it runs on the platform's own image (`framework:
optiloop`, OPTILOOP_AUTOML_IMAGE; docker/automl-trial.Dockerfile): the search must be the local
worker's, not a copy — the spec is optiloop.automl.run.search_spec, the loop
optiloop.automl.search.runner.search, on the table prepared by optiloop.automl.forecast.prepare_for.

Channel `table`: the experiment's table as stored (`table.npz`, optiloop.table/1).
Hyperparameters (strings): task_type, target (JSON: null for an unlabelled anomaly experiment),
metric, direction, config (the experiment's normalised config, JSON), fingerprint, and
warm_start.<k> (JSON: the warm-start configurations Plan chose, in order).

Writes to SM_MODEL_DIR the best completed trial's artifact (the job's model), `search.json` (every
trial's record, in the order the search finished them) and `trials/<number>.tar.gz` (each trial's
artifact as built), and prints the best trial's metrics and the trial count. A search in which no
trial left a model exits through `_lib.sm.fail` with the trials' errors, which the platform records
as the experiment's error.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # _lib/ sits beside train.py in the bundle, above it here

from _lib import sm  # noqa: E402

MAX_ERRORS = 5  # trial errors quoted in the failure reason


def main() -> None:
    hp = sm.hyperparameters()
    try:
        from optiloop.automl import search_job
        from optiloop.automl.forecast import prepare_for
        from optiloop.automl.run import _groups, search_spec
        from optiloop.automl.search.runner import search
        from optiloop.automl.selection import rule_of
        from optiloop.automl.table import from_bytes
    except ImportError as e:
        sm.fail(f"automl_experiment needs the OptiLoop training image (optiloop[automl] installed): {e}")
    exp, warm = search_job.experiment_of(hp)
    folder = sm.channel("table")
    if folder is None or not (folder / "table.npz").is_file():
        sm.fail("channel 'table' with table.npz is missing")
    table = from_bytes((folder / "table.npz").read_bytes())
    cfg = exp["config"]
    prep = prepare_for(table, exp["target"], exp["task_type"], cfg)
    spec = search_spec(exp, prep, warm, baselines=True)
    results = search(
        prep.x, prep.y, prep.signature, spec, fingerprint=exp["data_fingerprint"],
        groups=_groups(table, exp["target"], cfg.get("sensitive_column")),
    )  # fmt: skip
    # the winner Finalise names (experiments.selection_rule)
    best = search_job.write(sm.model_dir(), results, spec.trials, spec.objective, rule_of(cfg))
    if best is None:
        errors = sorted({r.error for r in results if r.error})[:MAX_ERRORS]
        sm.fail(f"no trial of {len(results)} completed: " + ("; ".join(errors) or "none ran"))
    for name, value in sorted(best.metrics.items()):
        if math.isfinite(value):
            sm.metric(name, value)
    sm.metric("trials", len(results))
    sm.metric("fit_s", round(sum(r.fit_s for r in results), 4))


if __name__ == "__main__":
    main()
