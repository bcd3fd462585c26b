"""Sufficient statistics of an online experiment: what its learner and its results need, nothing else.

Per variant: rewards counted (n), their sum and sum of squares (raw rewards, so results report what
was measured). Contextual experiments add per variant the Gram matrix sum(x x^T) and sum(u x), with u
the utility (the reward turned so that more is better). Every field is a sum, so the state after a
set of rewards does not depend on their order: `rebuild` from the logged rewards equals the state the
incremental updates reached (to the last bit of float addition order). Arrays are stored as base64 of
little-endian float64: exact, and ~half the size of JSON numbers in the checkpoint document.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

STATE = "decision_state"


def utility(reward: float, metric: dict[str, Any]) -> float:
    """The reward as the learner maximises it: binary minimise counts failures, continuous negates."""
    if metric["direction"] == "maximize":
        return reward
    return 1.0 - reward if metric["kind"] == "binary" else -reward


def _enc(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode()


def _dec(s: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f8").reshape(shape).copy()


@dataclass
class LearnerState:
    n: np.ndarray  # (K,) rewards counted
    s: np.ndarray  # (K,) sum of rewards
    ss: np.ndarray  # (K,) sum of squared rewards
    gram: np.ndarray | None = None  # (K, d, d) sum of x x^T, Contextual only
    xu: np.ndarray | None = None  # (K, d) sum of utility * x

    @classmethod
    def empty(cls, spec: dict[str, Any]) -> LearnerState:
        k = len(spec["variants"])
        st = cls(np.zeros(k), np.zeros(k), np.zeros(k))
        if spec["type"] == "Contextual":
            d = spec["context"]["dimension"]
            st.gram, st.xu = np.zeros((k, d, d)), np.zeros((k, d))
        return st

    def add(self, arm: int, reward: float, u: float, x: np.ndarray | None) -> None:
        self.n[arm] += 1.0
        self.s[arm] += reward
        self.ss[arm] += reward * reward
        if self.gram is not None and self.xu is not None and x is not None:
            self.gram[arm] += np.outer(x, x)
            self.xu[arm] += u * x

    @property
    def total(self) -> int:
        return int(self.n.sum())

    def to_data(self) -> dict[str, Any]:
        k = len(self.n)
        out: dict[str, Any] = {
            "k": k,
            "n": _enc(self.n),
            "s": _enc(self.s),
            "ss": _enc(self.ss),
            "total": self.total,
        }
        if self.gram is not None and self.xu is not None:
            out |= {"d": self.gram.shape[1], "gram": _enc(self.gram), "xu": _enc(self.xu)}
        return out

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LearnerState:
        k = int(data["k"])
        st = cls(_dec(data["n"], (k,)), _dec(data["s"], (k,)), _dec(data["ss"], (k,)))
        if "gram" in data:
            d = int(data["d"])
            st.gram, st.xu = _dec(data["gram"], (k, d, d)), _dec(data["xu"], (k, d))
        return st
