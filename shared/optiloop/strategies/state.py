"""What a project has learned, kept incrementally per space version.

Everything here is derived from the history alone (never from the request), so the same history
gives the same state, whether the process is warm or was just started. Surrogates fold runs in
fixed chunks aligned to ingestion order and recompute only the unaligned tail per call: a cold
process then builds bit-identical sufficient statistics to a warm one, which keeps suggestions
reproducible for a seed, while the per-call cost stays O(chunk), not O(history).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from optiloop.coverage.bins import Binner, PairCoverage
from optiloop.diversity.distance import Embedding
from optiloop.space import Space
from optiloop.store.records import Run
from optiloop.surrogate.rff import RFFSurrogate
from optiloop.testopt.history import History

CHUNK = 32
REWARD_WINDOW = 200
TARGETS = ("cov", "fail", "cost")


def point_key(u: np.ndarray) -> bytes:
    """Identity of a snapped point: equal params give equal snapped coordinates, bit for bit."""
    return np.round(u, 12).tobytes()


def run_reward(r: Run) -> float:
    """What a test earned its operator: new behaviour, and failures weighted by severity."""
    return float(r.new_buckets) + (2.0 * r.failure_severity if r.status == "fail" else 0.0)


def run_targets(r: Run) -> tuple[float, float, float]:
    fail = min(r.failure_severity, 5) / 5.0 if r.status == "fail" else 0.0
    return float(np.log1p(r.new_buckets)), fail, float(np.log1p(max(r.cost_cents, 0.0)))


@dataclass
class ProjectState:
    space: Space
    binner: Binner = field(init=False)
    pairs: PairCoverage = field(init=False)
    emb: Embedding = field(init=False)
    U: np.ndarray = field(init=False)  # snapped unit coords of every suggested test
    E: np.ndarray = field(init=False)  # their embeddings (for distances and surrogates)
    ids: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    n_tests: int = 0
    n_runs: int = 0
    n_folded: int = 0
    bucket_count: Counter = field(default_factory=Counter)
    op_rewards: dict[str, list[float]] = field(default_factory=dict)
    corpus: list[int] = field(default_factory=list)  # rows whose run found something new or failed
    keys: set[bytes] = field(default_factory=set)  # snapped coords of every test: exact-duplicate check
    base: dict[str, RFFSurrogate] = field(init=False)
    _tail: tuple[int, dict[str, RFFSurrogate]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.binner = Binner(self.space)
        self.pairs = PairCoverage(self.binner)
        self.emb = Embedding(self.space)
        self.U = np.empty((0, self.space.dim))
        self.E = self.emb(self.U)
        D = self.E.shape[1]
        self.base = {t: RFFSurrogate(D, seed=0) for t in TARGETS}  # shared features: see predict_shared

    @property
    def runs_total(self) -> int:
        return self.n_runs

    def sync(self, h: History) -> None:
        new_tests = h.tests[self.n_tests:]
        if new_tests:
            U = self.space.encode_dicts([t.params for t in new_tests])
            self.pairs.add(self.binner.bins(U))
            self.keys.update(point_key(u) for u in U)
            self.U = np.vstack([self.U, U])
            self.E = np.vstack([self.E, self.emb(U)])
            self.ids.extend(t.id for t in new_tests)
            self.ops.extend(t.operator for t in new_tests)
            self.n_tests = len(h.tests)
        for tid in h.run_order[self.n_runs:]:
            r = h.runs[tid]
            self.bucket_count.update(set(r.buckets))
            row = h.test_index.get(tid)
            if row is None:
                continue
            rewards = self.op_rewards.setdefault(self.ops[row], [])
            rewards.append(run_reward(r))
            if len(rewards) > REWARD_WINDOW:
                del rewards[0]
            if r.new_buckets > 0 or r.status == "fail":
                self.corpus.append(row)
        self.n_runs = len(h.run_order)
        aligned = (self.n_runs // CHUNK) * CHUNK
        if aligned > self.n_folded:
            X, Y = self._xy(h, self.n_folded, aligned)
            for i, t in enumerate(TARGETS):
                self.base[t].partial_fit(X, Y[:, i])
            self.n_folded = aligned

    def _xy(self, h: History, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        tids = h.run_order[start:stop]
        rows = [h.test_index[t] for t in tids]
        Y = np.array([run_targets(h.runs[t]) for t in tids]).reshape(-1, len(TARGETS))
        return self.E[rows], Y

    def surrogates(self, h: History) -> dict[str, RFFSurrogate]:
        """Base models plus the unaligned tail of runs (copies: the base stays chunk-aligned)."""
        if self.n_folded == self.n_runs:
            return self.base
        if self._tail is None or self._tail[0] != self.n_runs:
            X, Y = self._xy(h, self.n_folded, self.n_runs)
            self._tail = (self.n_runs, {t: self.base[t].copy().partial_fit(X, Y[:, i])
                                        for i, t in enumerate(TARGETS)})
        return self._tail[1]

    def rarity(self, h: History, rows: list[int]) -> np.ndarray:
        """Energy of corpus members: sum over their buckets of 1/count, as rare-edge fuzzers do."""
        out = np.empty(len(rows))
        for k, row in enumerate(rows):
            r = h.runs.get(self.ids[row])
            e = sum(1.0 / self.bucket_count[b] for b in set(r.buckets)) if r and r.buckets else 0.0
            if r is not None and r.status == "fail":
                e += 0.5 * r.failure_severity
            out[k] = e
        return out


_lock = threading.Lock()
_states: OrderedDict[tuple[int, str, str], ProjectState] = OrderedDict()


def state_for(store_key: int, project_id: str, space: Space, h: History) -> ProjectState:
    key = (store_key, project_id, space.version)
    with _lock:
        st = _states.pop(key, None)
        if st is None or st.n_tests > len(h.tests) or st.n_runs > len(h.run_order):
            st = ProjectState(space)
        _states[key] = st
        while len(_states) > 64:
            _states.popitem(last=False)
    st.sync(h)
    return st
