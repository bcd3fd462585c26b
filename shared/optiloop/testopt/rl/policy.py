"""The RL policy's actor, evaluated with numpy (`optiloop.policy/1`, written by rl_policy/train.py).

    {"format": "optiloop.policy/1", "params": [names, in the space's order],
     "layers": [{"weight": [[...]], "bias": [...]}, ...], "activation": "tanh",
     "log_std": [...], "step": 0.25, "horizon": 4}

The observation is a unit point followed by step / horizon; the actor's output is the mean of a
Gaussian over moves, which take a point to clip(u + step * tanh(a)), as in training. A document is
read defensively (it is part of an uploaded or trained artifact): shapes must chain, numbers must
be finite, sizes are bounded; anything else is an InvalidInput naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput

FORMAT = "optiloop.policy/1"
MAX_WIDTH = 4096
MAX_LAYERS = 8
MAX_HORIZON = 64
TOP = 1.0 - 1e-9
WHERE = "artifact.policy"


def _bad(reason: str, field: str = WHERE) -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


@dataclass(frozen=True)
class PolicyNet:
    params: tuple[str, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    std: np.ndarray
    step: float
    horizon: int

    @property
    def dim(self) -> int:
        return len(self.params)

    def mean(self, obs: np.ndarray) -> np.ndarray:
        """The actor's mean move for each observation row (rows x (dim + 1))."""
        h = np.asarray(obs, dtype=np.float64)
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w.T + b
            if k < last:
                h = np.tanh(h)
        return h

    def rollout(self, U0: np.ndarray, steps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Where each start point is after its number of steps (1..horizon) of sampled moves."""
        U = np.array(U0, dtype=np.float64)
        for t in range(int(steps.max(initial=0))):
            live = steps > t
            if not live.any():
                break
            obs = np.hstack([U[live], np.full((int(live.sum()), 1), t / self.horizon)])
            a = self.mean(obs) + self.std * rng.standard_normal((len(obs), self.dim))
            U[live] = np.clip(U[live] + self.step * np.tanh(a), 0.0, TOP)
        return U


def _matrix(raw: Any, field: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    try:
        m = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise _bad("must be numbers", field) from e
    if m.ndim not in (1, 2) or not np.all(np.isfinite(m)) or max(m.shape, default=0) > MAX_WIDTH:
        raise _bad(f"must be a finite vector or matrix of at most {MAX_WIDTH} per side", field)
    if shape is not None and m.shape != shape:
        raise _bad(f"has shape {m.shape}, expected {shape}", field)
    return m


def parse_policy(doc: Mapping[str, Any]) -> PolicyNet:
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise _bad(f"must be an {FORMAT} document", f"{WHERE}.format")
    names = doc.get("params")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) for n in names)
        or len(set(names)) != len(names)
    ):
        raise _bad("must list the space's param names", f"{WHERE}.params")
    d = len(names)
    layers = doc.get("layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise _bad(f"must hold 1..{MAX_LAYERS} layers", f"{WHERE}.layers")
    if doc.get("activation", "tanh") != "tanh":
        raise _bad("only tanh hidden units are served", f"{WHERE}.activation")
    weights, biases, width = [], [], d + 1
    for k, layer in enumerate(layers):
        at = f"{WHERE}.layers[{k}]"
        if not isinstance(layer, Mapping):
            raise _bad("must be an object with weight and bias", at)
        w = _matrix(layer.get("weight"), f"{at}.weight")
        if w.ndim != 2 or w.shape[1] != width:
            raise _bad(f"must be a matrix reading {width} values", f"{at}.weight")
        weights.append(w)
        biases.append(_matrix(layer.get("bias"), f"{at}.bias", (w.shape[0],)))
        width = w.shape[0]
    if width != d:
        raise _bad(
            f"the last layer must answer one move per param ({d}), it answers {width}", f"{WHERE}.layers"
        )
    log_std = _matrix(doc.get("log_std"), f"{WHERE}.log_std", (d,))
    step, horizon = doc.get("step"), doc.get("horizon")
    if isinstance(step, bool) or not isinstance(step, int | float) or not 0 < step <= 1:
        raise _bad("must be a number in (0, 1]", f"{WHERE}.step")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise _bad(f"must be an integer of 1..{MAX_HORIZON}", f"{WHERE}.horizon")
    std = np.exp(np.clip(log_std, -10.0, 3.0))
    return PolicyNet(tuple(names), tuple(weights), tuple(biases), std, float(step), horizon)


def columns(policy: PolicyNet, names: Sequence[str]) -> np.ndarray | None:
    """Where the policy's params sit among a space's (None unless it is the same set of params)."""
    index = {n: i for i, n in enumerate(names)}
    if set(index) != set(policy.params):
        return None
    return np.array([index[n] for n in policy.params], dtype=np.int64)
