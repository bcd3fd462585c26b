"""Sufficient statistics of an online experiment: what its learner and its results need, nothing else.

Per variant: rewards counted (n), their sum and sum of squares (raw rewards, so results report what
was measured). Contextual experiments add per variant the Gram matrix sum(x x^T) and sum(u x), with u
the utility (the reward turned so that more is better). Every field is a sum, so the state after a
set of rewards does not depend on their order: `rebuild` from the logged rewards equals the state the
incremental updates reached (to the last bit of float addition order). Arrays are stored as base64 of
little-endian float64: exact, and ~half the size of JSON numbers in the checkpoint document.

Beside the learner's sums, what the results need (also sums, so also order-free and rebuilt exactly):
per named observation (a `rewards` component, or a trace-joined `cost`/`latency_ms`) each arm's n,
sum and sum of squares, for the guardrails; a log-spaced latency histogram per arm for p95; the
CUPED sums over rewards that carried a pre-period covariate; and per UTC day each arm's n and sum.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATE = "decision_state"
# The checkpoint is one document (DynamoDB: 400 KB): with the Gram matrices at their bound (16,384
# floats) these keep the rest under ~16,000 floats even at 100 variants.
MAX_OBSERVATIONS = 8  # named observations tracked per experiment; more are ignored
SERIES_FLOATS = 4_000  # the per-day series keeps its latest SERIES_FLOATS / (2 K) days
# latency histogram: bin i holds [LAT_LO * LAT_RATIO^i, LAT_LO * LAT_RATIO^(i+1)) ms, 1 ms .. 10 min
LAT_LO, LAT_BINS = 1.0, 80
LAT_RATIO = (600_000.0 / LAT_LO) ** (1.0 / LAT_BINS)
COV_FIELDS = ("n", "sy", "syy", "sx", "sxx", "sxy")


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
    observed: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (3, K) n, sum, sum sq
    latency: np.ndarray | None = None  # (K, LAT_BINS) counts of latency_ms
    cov: np.ndarray | None = None  # (6, K) CUPED sums (COV_FIELDS)
    days: dict[str, np.ndarray] = field(default_factory=dict)  # "YYYY-MM-DD" -> (2, K) n, sum
    # Bandits with `drift`: per arm the epoch (restarts so far), the current epoch's n, sum, sum sq
    # (what the learner reads), and the Page-Hinkley detector's six numbers on the utility stream
    epoch: np.ndarray | None = None  # (K,)
    cur: np.ndarray | None = None  # (3, K)
    detector: np.ndarray | None = None  # (K, 6)
    # Canary: the stage reached and each arm's rewards within it
    stage: int | None = None
    stage_n: np.ndarray | None = None  # (K,)

    @classmethod
    def empty(cls, spec: dict[str, Any]) -> LearnerState:
        k = len(spec["variants"])
        st = cls(np.zeros(k), np.zeros(k), np.zeros(k))
        if spec["type"] == "Contextual":
            d = spec["context"]["dimension"]
            st.gram, st.xu = np.zeros((k, d, d)), np.zeros((k, d))
        if spec["type"] == "Canary":
            st.stage, st.stage_n = 0, np.zeros(k)
        if spec.get("drift"):
            st.epoch, st.cur, st.detector = np.zeros(k), np.zeros((3, k)), np.zeros((k, 6))
        return st

    def learner(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n, sum, sum of squares as the learner sees them: since each arm's last drift restart."""
        if self.cur is not None:
            return self.cur[0], self.cur[1], self.cur[2]
        return self.n, self.s, self.ss

    def add(
        self,
        arm: int,
        reward: float,
        u: float,
        x: np.ndarray | None,
        *,
        day: str | None = None,
        observations: dict[str, float] | None = None,
        covariate: float | None = None,
    ) -> None:
        self.n[arm] += 1.0
        self.s[arm] += reward
        self.ss[arm] += reward * reward
        if self.gram is not None and self.xu is not None and x is not None:
            self.gram[arm] += np.outer(x, x)
            self.xu[arm] += u * x
        k = len(self.n)
        for name, value in (observations or {}).items():
            if name not in self.observed and len(self.observed) >= MAX_OBSERVATIONS:
                continue
            row = self.observed.setdefault(name, np.zeros((3, k)))
            row[:, arm] += (1.0, value, value * value)
            if name == "latency_ms":
                if self.latency is None:
                    self.latency = np.zeros((k, LAT_BINS))
                self.latency[arm, latency_bin(value)] += 1.0
        if covariate is not None:
            if self.cov is None:
                self.cov = np.zeros((len(COV_FIELDS), k))
            self.cov[:, arm] += (
                1.0,
                reward,
                reward * reward,
                covariate,
                covariate * covariate,
                covariate * reward,
            )
        if day is not None:
            self.days.setdefault(day, np.zeros((2, k)))[:, arm] += (1.0, reward)
            # the latest days only; a day once dropped is older than every kept one, so kept days'
            # sums are complete and the kept set does not depend on arrival order
            for old in sorted(self.days)[: max(len(self.days) - max(SERIES_FLOATS // (2 * k), 1), 0)]:
                del self.days[old]

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
        if self.observed:
            out["observed"] = {name: _enc(v) for name, v in self.observed.items()}
        if self.latency is not None:
            out["latency"] = _enc(self.latency)
        if self.cov is not None:
            out["cov"] = _enc(self.cov)
        if self.days:
            out["days"] = {day: _enc(v) for day, v in sorted(self.days.items())}
        if self.stage_n is not None:
            out |= {"stage": int(self.stage or 0), "stage_n": _enc(self.stage_n)}
        if self.epoch is not None and self.cur is not None and self.detector is not None:
            out |= {"epoch": _enc(self.epoch), "cur": _enc(self.cur), "detector": _enc(self.detector)}
        return out

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LearnerState:
        k = int(data["k"])
        st = cls(_dec(data["n"], (k,)), _dec(data["s"], (k,)), _dec(data["ss"], (k,)))
        if "gram" in data:
            d = int(data["d"])
            st.gram, st.xu = _dec(data["gram"], (k, d, d)), _dec(data["xu"], (k, d))
        st.observed = {name: _dec(v, (3, k)) for name, v in (data.get("observed") or {}).items()}
        if data.get("latency"):
            st.latency = _dec(data["latency"], (k, LAT_BINS))
        if data.get("cov"):
            st.cov = _dec(data["cov"], (len(COV_FIELDS), k))
        st.days = {day: _dec(v, (2, k)) for day, v in (data.get("days") or {}).items()}
        if data.get("stage_n"):
            st.stage, st.stage_n = int(data["stage"]), _dec(data["stage_n"], (k,))
        if data.get("epoch"):
            st.epoch, st.cur = _dec(data["epoch"], (k,)), _dec(data["cur"], (3, k))
            st.detector = _dec(data["detector"], (k, 6))
        return st


def latency_bin(ms: float) -> int:
    if ms <= LAT_LO:
        return 0
    return min(int(math.log(ms / LAT_LO) / math.log(LAT_RATIO)), LAT_BINS - 1)


def latency_quantile(counts: np.ndarray, q: float) -> float | None:
    """The q-quantile of one arm's histogram (the bin's geometric middle), None without data."""
    total = float(counts.sum())
    if total <= 0:
        return None
    i = int(np.searchsorted(np.cumsum(counts), q * total))
    return float(LAT_LO * LAT_RATIO ** (min(i, LAT_BINS - 1) + 0.5))
