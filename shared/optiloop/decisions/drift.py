"""Change and anomaly detectors for reward, quality, latency and cost streams.

Change detectors (a shift in the stream's mean, the signal that a bandit's memory is stale):

- `Adwin` (Bifet & Gavaldà 2007): keeps a window and drops its older part whenever two sub-windows'
  means differ by more than the Hoeffding-style bound `eps_cut`. Memory is bounded by `max_window`
  and a check runs every `clock` items over every `step`-th split, so each update is O(1) amortised
  (the exact exponential-histogram variant is not needed at these window sizes).
- `PageHinkley`: the cumulative deviation from the running mean minus a tolerance `delta`; fires
  when it climbs `threshold` above its minimum (upward shifts) or below its maximum (downward).
- `Cusum`: two-sided tabular CUSUM on the stream standardised by a reference period's mean and sd
  (the first `warmup` items); fires when either side passes `h` sds.

Point anomaly detectors (one odd value, e.g. a latency spike), each over a rolling window:
`ZScore` (|x - mean| > k sd), `Iqr` (outside [Q1 - k IQR, Q3 + k IQR]) and `Mad` (|x - median| >
k * 1.4826 MAD, robust to the outliers it hunts).

Every detector has `update(x) -> bool` (True when it fires on this item) and `reset()`. They are
plain state machines so a serving process, a replay and a test drive them the same way.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

import numpy as np


class Detector(Protocol):
    def update(self, x: float) -> bool: ...

    def reset(self) -> None: ...


class Adwin:
    """ADWIN over a window of at most `max_window` items (`delta`: the false-alarm confidence)."""

    def __init__(self, delta: float = 0.002, max_window: int = 4000, clock: int = 16, step: int = 8) -> None:
        self.delta, self.max_window, self.clock, self.step = delta, max_window, clock, step
        self.reset()

    def reset(self) -> None:
        self.window: deque[float] = deque()
        self.seen = 0

    @property
    def mean(self) -> float:
        return float(np.mean(self.window)) if self.window else 0.0

    def update(self, x: float) -> bool:
        self.window.append(float(x))
        if len(self.window) > self.max_window:
            self.window.popleft()
        self.seen += 1
        if self.seen % self.clock or len(self.window) < 2 * self.step:
            return False
        return self._shrink()

    def _shrink(self) -> bool:
        fired = False
        while len(self.window) >= 2 * self.step:
            w = np.fromiter(self.window, dtype=float)
            n = len(w)
            cut = self._first_cut(w, n)
            if cut is None:
                break
            for _ in range(cut):
                self.window.popleft()
            fired = True
        return fired

    def _first_cut(self, w: np.ndarray, n: int) -> int | None:
        csum = np.cumsum(w)
        splits = np.arange(self.step, n - self.step + 1, self.step)
        n0 = splits.astype(float)
        n1 = n - n0
        mu0 = csum[splits - 1] / n0
        mu1 = (csum[-1] - csum[splits - 1]) / n1
        var = float(np.var(w))
        m = 1.0 / (1.0 / n0 + 1.0 / n1)
        dprime = self.delta / math.log(max(n, 3))
        eps = np.sqrt(2.0 / m * var * math.log(2.0 / dprime)) + 2.0 / (3.0 * m) * math.log(2.0 / dprime)
        over = np.flatnonzero(np.abs(mu0 - mu1) > eps)
        return int(splits[over[0]]) if over.size else None


class PageHinkley:
    """Page-Hinkley on both sides: `delta` the tolerated drift per item, `threshold` the alarm level."""

    def __init__(self, delta: float = 0.005, threshold: float = 25.0, min_items: int = 30) -> None:
        self.delta, self.threshold, self.min_items = delta, threshold, min_items
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.up = self.up_min = 0.0
        self.down = self.down_max = 0.0

    def to_array(self) -> np.ndarray:
        """Its whole state, six numbers: what a checkpoint stores between rewards."""
        return np.array([self.n, self.mean, self.up, self.up_min, self.down, self.down_max], dtype=float)

    def load(self, a: np.ndarray) -> PageHinkley:
        self.n = int(a[0])
        self.mean, self.up, self.up_min, self.down, self.down_max = (float(v) for v in a[1:6])
        return self

    def update(self, x: float) -> bool:
        self.n += 1
        self.mean += (x - self.mean) / self.n
        self.up += x - self.mean - self.delta
        self.down += x - self.mean + self.delta
        self.up_min = min(self.up_min, self.up)
        self.down_max = max(self.down_max, self.down)
        if self.n < self.min_items:
            return False
        if self.up - self.up_min > self.threshold or self.down_max - self.down > self.threshold:
            self.reset()
            return True
        return False


class Cusum:
    """Two-sided CUSUM in reference sds: slack `k`, alarm `h`, reference from the first `warmup` items."""

    def __init__(self, k: float = 0.5, h: float = 12.0, warmup: int = 50) -> None:
        self.k, self.h, self.warmup = k, h, warmup
        self.reset()

    def reset(self) -> None:
        self.ref: list[float] = []
        self.mu = self.sd = 0.0
        self.hi = self.lo = 0.0

    def update(self, x: float) -> bool:
        if len(self.ref) < self.warmup:
            self.ref.append(x)
            if len(self.ref) == self.warmup:
                self.mu, self.sd = float(np.mean(self.ref)), max(float(np.std(self.ref)), 1e-9)
            return False
        z = (x - self.mu) / self.sd
        self.hi = max(0.0, self.hi + z - self.k)
        self.lo = max(0.0, self.lo - z - self.k)
        if self.hi > self.h or self.lo > self.h:
            self.reset()
            return True
        return False


class _Rolling:
    def __init__(self, window: int, k: float, min_items: int) -> None:
        self.window, self.k, self.min_items = window, k, min_items
        self.reset()

    def reset(self) -> None:
        self.values: deque[float] = deque(maxlen=self.window)

    def update(self, x: float) -> bool:
        """Fires when `x` is anomalous against the window before it (then `x` is not added)."""
        if len(self.values) >= self.min_items and self._odd(np.fromiter(self.values, dtype=float), x):
            return True
        self.values.append(float(x))
        return False

    def _odd(self, w: np.ndarray, x: float) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class ZScore(_Rolling):
    def __init__(self, window: int = 200, k: float = 4.0, min_items: int = 30) -> None:
        super().__init__(window, k, min_items)

    def _odd(self, w: np.ndarray, x: float) -> bool:
        sd = float(np.std(w))
        return sd > 0 and abs(x - float(np.mean(w))) > self.k * sd


class Iqr(_Rolling):
    def __init__(self, window: int = 200, k: float = 3.0, min_items: int = 30) -> None:
        super().__init__(window, k, min_items)

    def _odd(self, w: np.ndarray, x: float) -> bool:
        q1, q3 = np.percentile(w, [25, 75])
        spread = float(q3 - q1)
        return bool(x < q1 - self.k * spread or x > q3 + self.k * spread) and spread > 0


class Mad(_Rolling):
    def __init__(self, window: int = 200, k: float = 5.0, min_items: int = 30) -> None:
        super().__init__(window, k, min_items)

    def _odd(self, w: np.ndarray, x: float) -> bool:
        med = float(np.median(w))
        mad = 1.4826 * float(np.median(np.abs(w - med)))
        return mad > 0 and abs(x - med) > self.k * mad


CHANGE = {"adwin": Adwin, "page_hinkley": PageHinkley, "cusum": Cusum}
ANOMALY = {"zscore": ZScore, "iqr": Iqr, "mad": Mad}
