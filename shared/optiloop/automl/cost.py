"""What serving a model costs, from its structure: the latency and size AutoML's constraints check.

Why a cost model and not a stopwatch: feasibility decides the winner, and the issue's rule is that a
loaded machine must not change the answer (same seed, data and budget -> same leaderboard). A timed
predict on a shared 2-core box varies by 2-5x with the neighbours' load, so a trial near the limit
would flip between feasible and not from run to run. The serving runtimes are numpy programs whose
single-row cost is almost entirely (a) a fixed cost per numpy call and (b) a cost per element those
calls touch, and both counts follow from the model's structure:

- trees (`optiloop.trees/1`): every row walks every tree one level per step for `depth` steps, about
  ten numpy calls a step over `n_trees` elements, then a (trees x outputs) product;
- linear (`optiloop.linear/1`): the preprocessing (imputation, scaling, one call group per one-hot
  input) and a (width x outputs) product;
- mlp (`optiloop.mlp/1`): the same preprocessing, then a product, a bias and an activation per layer;
- ensemble (`optiloop.ensemble/1`): its members' costs plus a weighted add per member.

`latency_ms_p95 = (calls*CALL_US + elements*ELEMENT_US + madds*MADD_US + loops*LOOP_US)
* P95_OVER_MEDIAN / 1000`: numpy calls, elements touched by element-wise calls and gathers,
multiply-adds inside matrix products (BLAS: far cheaper per element than a gather), and Python-level
iterations (the linear preprocessing looks up each numeric input's column in a dict per call). The
constants were fitted once by non-negative least squares on measured one-row predicts (the fastest
of several rounds' medians, so the neighbours' load counts least) and the p95/median ratio measured
with them: `tests/benchmarks/automl_latency.py` re-measures them and prints how far the estimate is
from the clock for each model (docs/benchmarks.md, "AutoML latency cost model"). The estimate is of
the runtime's predict of one row, the number a constraint on per-row latency is about; the HTTP path
around it (auth, JSON, the signature's encoding) is the same for every model and not counted.

Size is the artifact's bytes (`model.tar.gz`, deterministic: sorted members, mtime 0), what the
registry stores and a deployment loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# fitted by tests/benchmarks/automl_latency.py (see the module docstring); microseconds
CALL_US = 0.57
ELEMENT_US = 0.00083
MADD_US = 0.00013
LOOP_US = 0.11
P95_OVER_MEDIAN = 1.6
LINK_CALLS = 6  # apply_link: the logistic link's 4, softmax's 6 (identity: none; the bound is kept)
PREDICT_CALLS = 4  # the predictor's own entry: asarray, shape checks, the output's allocation


@dataclass(frozen=True)
class Cost:
    calls: int  # numpy calls a single-row predict makes
    elements: int  # array elements element-wise calls and gathers touch
    madds: int = 0  # multiply-adds inside matrix products
    loops: int = 0  # Python-level iterations

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.calls + other.calls,
            self.elements + other.elements,
            self.madds + other.madds,
            self.loops + other.loops,
        )

    @property
    def latency_ms_p95(self) -> float:
        """The estimated p95 latency of a one-row predict, in ms (3 significant digits)."""
        us = self.calls * CALL_US + self.elements * ELEMENT_US + self.madds * MADD_US + self.loops * LOOP_US
        return float(f"{us * P95_OVER_MEDIAN / 1000.0:.3g}")


def of_predictor(predictor: Any) -> Cost:
    """The cost of one row through a loaded in-process predictor (optiloop.models.runtimes).
    TypeError for a runtime this model does not know (onnx: served by onnxruntime's own kernels)."""
    from optiloop.models.runtimes.ensemble import EnsemblePredictor
    from optiloop.models.runtimes.linear import LinearPredictor
    from optiloop.models.runtimes.mlp import MLPPredictor
    from optiloop.models.runtimes.trees import TreesPredictor

    if isinstance(predictor, EnsemblePredictor):
        return ensemble_of([of_predictor(m) for m, _weight in predictor.members], predictor.n_outputs)
    if isinstance(predictor, TreesPredictor):
        n_trees, depth, n_out = predictor.n_trees, int(predictor._depth), predictor.n_outputs
        fixed = Cost(PREDICT_CALLS + 8 + LINK_CALLS, 3 * n_trees + 4 * n_out, n_trees * n_out)
        return fixed + Cost(10 * depth, 10 * depth * n_trees)
    if isinstance(predictor, LinearPredictor):
        n_out = predictor.n_outputs
        head = Cost(PREDICT_CALLS + 2 + LINK_CALLS, 4 * n_out, predictor.prep.width * n_out)
        return _prep(predictor.prep) + head
    if isinstance(predictor, MLPPredictor):
        total = _prep(predictor.prep) + Cost(PREDICT_CALLS + LINK_CALLS, 4 * predictor.n_outputs)
        for w, _b, activation in predictor.layers:
            act = 0 if activation == "identity" else (1 if activation == "relu" else 8)
            total = total + Cost(2 + act, (1 + act) * w.shape[0], w.size)
        return total
    raise TypeError(f"no cost model for {type(predictor).__name__}")


def ensemble_of(members: list[Cost], n_outputs: int) -> Cost:
    """A weighted average's cost from its members' (known before the ensemble is built, so the
    greedy selection can stay within the constraints)."""
    total = Cost(PREDICT_CALLS, n_outputs)
    for member in members:
        total = total + member + Cost(3, 3 * n_outputs)
    return total


def _prep(prep: Any) -> Cost:
    """LinearPrep.transform on one row: the numeric block (a dict lookup per numeric input), then
    one group of calls per one-hot input."""
    n_num, n_hot = int(prep._num.size), len(prep._hot)
    return Cost(4 + 9 * n_hot + (6 if n_num else 0), prep.width + 6 * n_num + 8 * n_hot, 0, n_num)


def of_artifact(data: bytes) -> Cost:
    """The cost of a `model.tar.gz`, loaded with the serving runtime."""
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    return of_predictor(runtimes.load(read_artifact(data)))
