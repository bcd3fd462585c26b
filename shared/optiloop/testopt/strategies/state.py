"""What a project has learned, kept incrementally per space version.

Everything here is derived from the history alone (never from the request), so the same history
gives the same state, whether the process is warm or was just started. Surrogates fold runs in
fixed chunks aligned to ingestion order and recompute only the unaligned tail per call: a cold
process then builds bit-identical sufficient statistics to a warm one, which keeps suggestions
reproducible for a seed, while the per-call cost stays O(chunk), not O(history).

Memory and per-call work are bounded too (`strategies/compaction.py`): the rows (coordinates,
embeddings) of the newest `window` tests are kept, plus a fixed-size sample of older ones and the
tests that hit rare buckets; everything else the learning needs over the whole history is a
sufficient statistic (bucket counts, pairwise coverage, the surrogates' posteriors, operator credit,
the history's no-repeat filter). While a project's tests fit in the window nothing is dropped and
behaviour is exactly that of keeping everything.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from optiloop.store.records import Run
from optiloop.testopt.bloom import ScalableBloom
from optiloop.testopt.coverage.bins import Binner, PairCoverage
from optiloop.testopt.diversity.distance import Embedding
from optiloop.testopt.history import History, window_size
from optiloop.testopt.sampling.sobol import MAX_DIM, FeasibleStream
from optiloop.testopt.space import Space
from optiloop.testopt.strategies import compaction
from optiloop.testopt.surrogate.ensemble import Committee
from optiloop.testopt.surrogate.port import Surrogate, SurrogateFactory
from optiloop.testopt.surrogate.rff import RFFSurrogate

CHUNK = 32
REWARD_WINDOW = 1000  # runs of credit kept for the operator bandit (it discounts older ones)
TARGETS = ("cov", "fail", "cost")


def point_key(u: np.ndarray) -> bytes:
    """Identity of a snapped point: equal params give equal snapped coordinates, bit for bit."""
    return np.round(u, 12).tobytes()


NOVEL_FAILURES = 2  # failures per severity level that earn a bonus; later ones are the same bug again
# New buckets per unit of severity of a new failure mode. The bandit reads credit as Poisson counts,
# so one failure worth 2 x severity (up to 10) looked like ten independent finds: the arm that hit
# it took most of the batch for a half-life while finding little (on one flag-interaction system
# `boundary` ran 120 tests at 0.08 new buckets each, the Sobol' stream 0.13). Half the severity
# keeps a failure worth more than a typical new bucket (issue 8: on the tuning systems the pooled
# gap +1.3 and +0.8 points on two disjoint subsets, neutral on the third, first critical failure
# unchanged; docs/benchmarks.md).
FAILURE_CREDIT = 0.5


def run_reward(r: Run, novel: bool) -> float:
    """What a test earned its operator: new behaviour, plus severity for a new failure mode.
    A failure earns its severity only while few failures of that severity are known: buckets
    alone cannot tell two bugs apart, and an operator that keeps hitting one corner bug (each
    run also touching some new bucket) must not be paid for it again and again."""
    return float(r.new_buckets) + (FAILURE_CREDIT * r.failure_severity if novel else 0.0)


def run_targets(r: Run, novel: bool) -> tuple[float, float, float]:
    """Surrogate targets. Failure is severity-weighted; a repeat of a known failure mode counts a
    quarter, so predicted failure points at where failures are likely and not yet exhausted."""
    fail = min(r.failure_severity, 5) / 5.0 if r.status == "fail" else 0.0
    if fail and not novel:
        fail *= 0.25
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
    op_counts: Counter[str] = field(default_factory=Counter)  # tests per operator
    stream_seed: int = 0  # the project's QMC stream (see sampling/sobol.py)
    stream: FeasibleStream | None = field(init=False, default=None)
    n_tests: int = 0
    n_runs: int = 0
    n_folded: int = 0
    # operator credit in run order: which operator made the test, what its run earned
    reward_ops: list[str] = field(default_factory=list)
    reward_vals: list[float] = field(default_factory=list)
    fail_counts: Counter[int] = field(default_factory=Counter)  # failures seen per severity
    corpus: list[int] = field(default_factory=list)  # rows whose run found something new
    keys: set[bytes] = field(default_factory=set)
    feasible: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # per test, current space
    feasible_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # buckets of each corpus row as dense indices, flattened, for vectorised rarity
    bucket_ids: dict[int | str, int] = field(default_factory=dict)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    corpus_flat: list[int] = field(default_factory=list)
    corpus_ends: list[int] = field(default_factory=list)
    corpus_fail: list[float] = field(
        default_factory=list
    )  # snapped coords of every test: exact-duplicate check
    # bounded memory (strategies/compaction.py): rows are renumbered when old ones are dropped
    window: int = field(default_factory=window_size)
    row_of: dict[str, int] = field(default_factory=dict)  # test id -> row, for retained rows
    pos: list[int] = field(default_factory=list)  # per row: the test's absolute position in the history
    ran: list[bool] = field(default_factory=list)  # per row: has its run been folded in?
    side: dict[str, tuple[str, np.ndarray, np.ndarray]] = field(default_factory=dict)  # dropped, no run yet
    cutoff: int = 0  # tests before this position have left the window
    complete: bool = True  # every earlier test's key is in `keys` (else also ask `seen`)
    seen: ScalableBloom = field(default_factory=ScalableBloom)  # point keys of every test synced
    late: bool = False  # started on a compacted history: older tests only in the history's filter
    n_fit: int = 0  # runs with features (those whose test is at hand), folded or buffered
    fit_X: list[np.ndarray] = field(default_factory=list)  # features and targets of runs not yet folded
    fit_Y: list[tuple[float, float, float]] = field(default_factory=list)
    make_surrogate: SurrogateFactory = field(default=lambda dim: RFFSurrogate(dim, seed=0))
    base: dict[str, Surrogate] = field(init=False)
    _tail: tuple[int, dict[str, Surrogate]] | None = None
    committee: Committee = field(init=False)  # small bootstrap models for active learning
    _committee_tail: tuple[int, Committee] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.binner = Binner(self.space)
        self.pairs = PairCoverage(self.binner)
        self.emb = Embedding(self.space)
        self.U = np.empty((0, self.space.dim))
        self.E = self.emb(self.U)
        D = self.E.shape[1]
        # one factory, one seed: the in-process models share features (see predict_shared)
        self.base = {t: self.make_surrogate(D) for t in TARGETS}
        self.committee = Committee(D)
        if self.space.dim <= MAX_DIM:
            self.stream = FeasibleStream(self.space, self.stream_seed)

    def sync(self, h: History) -> None:
        if self.n_tests < h.tests.base or self.n_runs < h.run_order.base:
            if self.n_tests or self.n_runs:  # state_for replaces a state the history left behind
                raise RuntimeError("the history was compacted past this state; get it from state_for")
            compaction.start_late(self, h)  # a fresh state on a history restored from its snapshot
        new_tests = h.tests[self.n_tests :]
        if new_tests:
            U = self.space.encode_dicts([t.params for t in new_tests])
            self.pairs.add(self.binner.bins(U))
            fresh = [point_key(u) for u in U]
            self.keys.update(fresh)
            self.seen.add(fresh)
            # earlier tests anchor repairs and mutations only if the current space still admits them
            self.feasible = np.concatenate([self.feasible, self.space.feasible(self.space.decode(U))])
            self.feasible_rows = np.flatnonzero(self.feasible)
            self.U = np.vstack([self.U, U])
            self.E = np.vstack([self.E, self.emb(U)])
            first = len(self.ids)
            self.row_of.update((t.id, first + i) for i, t in enumerate(new_tests))
            self.pos.extend(range(self.n_tests, self.n_tests + len(new_tests)))
            self.ran.extend([False] * len(new_tests))
            self.ids.extend(t.id for t in new_tests)
            self.ops.extend(t.operator for t in new_tests)
            self.op_counts.update(t.operator for t in new_tests)
            self.n_tests = len(h.tests)
        for tid in h.run_order[self.n_runs :]:
            r = h.runs[tid]
            novel = (
                r.status == "fail"
                and r.new_buckets > 0
                and self.fail_counts[r.failure_severity] < NOVEL_FAILURES
            )
            if r.status == "fail":
                self.fail_counts[r.failure_severity] += 1
            dense = [self.bucket_ids.setdefault(b, len(self.bucket_ids)) for b in set(r.buckets)]
            if len(self.bucket_ids) > len(self.counts):
                self.counts = np.concatenate(
                    [self.counts, np.zeros(max(len(self.bucket_ids) - len(self.counts), len(self.counts)))]
                )
            np.add.at(self.counts, dense, 1.0)
            row = self.row_of.get(tid)
            if row is not None:
                self.ran[row] = True
                e, op = self.E[row], self.ops[row]
            else:  # a late run of a test that left the window (kept as a row if it found something)
                got = compaction.revive(self, tid, keep_row=r.new_buckets > 0)
                if got is None:
                    continue
                row, e, op = got
            self.fit_X.append(e)
            self.fit_Y.append(run_targets(r, novel))
            self.n_fit += 1
            self.reward_ops.append(op)
            self.reward_vals.append(run_reward(r, novel))
            if len(self.reward_vals) > 2 * REWARD_WINDOW:  # amortised trim
                del self.reward_ops[:-REWARD_WINDOW], self.reward_vals[:-REWARD_WINDOW]
            if r.new_buckets > 0 and row >= 0:
                self.corpus.append(row)
                self.corpus_flat.extend(dense)
                self.corpus_ends.append(len(self.corpus_flat))
                self.corpus_fail.append(0.5 * r.failure_severity if novel else 0.0)
        self.n_runs = len(h.run_order)
        aligned = (self.n_fit // CHUNK) * CHUNK
        if aligned > self.n_folded:
            X, Y = self._xy(h, self.n_folded, aligned)
            for i, t in enumerate(TARGETS):
                self.base[t].partial_fit(X, Y[:, i])
            self.committee.fold(X, Y)
            del self.fit_X[: aligned - self.n_folded], self.fit_Y[: aligned - self.n_folded]
            self.n_folded = aligned
        compaction.compact(self)

    def _xy(self, h: History, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Features and targets of the fitted runs start..stop (start >= n_folded: the unfolded buffer)."""
        a, b = start - self.n_folded, min(stop, self.n_fit) - self.n_folded
        Y = np.array(self.fit_Y[a:b], dtype=float).reshape(-1, len(TARGETS))
        X = np.array(self.fit_X[a:b], dtype=float).reshape(len(Y), self.E.shape[1])
        return X, Y

    def rewards(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Operators and rewards of the newest `last` credited runs, oldest first."""
        return np.asarray(self.reward_ops[-last:], dtype=object), np.asarray(self.reward_vals[-last:])

    def surrogates(self, h: History) -> dict[str, Surrogate]:
        """Base models plus the unaligned tail of runs (copies: the base stays chunk-aligned)."""
        if self.n_folded == self.n_fit:
            return self.base
        if self._tail is None or self._tail[0] != self.n_runs:
            X, Y = self._xy(h, self.n_folded, self.n_runs)
            self._tail = (
                self.n_runs,
                {t: self.base[t].copy().partial_fit(X, Y[:, i]) for i, t in enumerate(TARGETS)},
            )
        return self._tail[1]

    def committee_now(self, h: History) -> Committee:
        """The committee with the unaligned tail of runs folded in (into a copy, as `surrogates`
        does: the base stays chunk-aligned), made once per number of runs."""
        if self._committee_tail is None or self._committee_tail[0] != self.n_runs:
            X, Y = self._xy(h, self.n_folded, self.n_runs)
            c = self.committee.copy().fold(X, Y) if len(X) else self.committee
            self._committee_tail = (self.n_runs, c)
        return self._committee_tail[1]

    def rarity(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and energies of the newest `last` corpus members: the sum over their buckets of
        1/count (rare-edge fuzzers' energy), plus a bonus for failures. Vectorised over the corpus."""
        k = len(self.corpus)
        first = max(0, k - last)
        if not k:
            return np.empty(0, dtype=np.int64), np.empty(0)
        start = self.corpus_ends[first - 1] if first else 0
        flat = np.asarray(self.corpus_flat[start:], dtype=np.int64)
        ends = np.asarray(self.corpus_ends[first:], dtype=np.int64) - start
        inv = 1.0 / self.counts[flat] if len(flat) else np.zeros(0)
        csum = np.concatenate([[0.0], np.cumsum(inv)])
        begins = np.concatenate([[0], ends[:-1]])
        energy = csum[ends] - csum[begins] + np.asarray(self.corpus_fail[first:])
        return np.asarray(self.corpus[first:], dtype=np.int64), energy


def stream_seed(space: Space) -> int:
    """One QMC sequence per space version, the same in every process: a project's reference tests
    are then a function of its space and history alone (two projects with one space share it)."""
    return int.from_bytes(hashlib.sha256(f"sobol|{space.version}".encode()).digest()[:8], "big")


_lock = threading.Lock()
_states: OrderedDict[tuple[int, str, str], ProjectState] = OrderedDict()


def state_for(store_key: int, project_id: str, space: Space, h: History, sync: bool = True) -> ProjectState:
    """The project's state for this space version, synced with `h` unless `sync` is False (the
    caller then syncs it under `st.lock`, page by page as it refreshes the history)."""
    key = (store_key, project_id, space.version)
    with _lock:
        st = _states.pop(key, None)
        if st is None or st.n_tests > len(h.tests) or st.n_runs > len(h.run_order):
            st = ProjectState(space, stream_seed=stream_seed(space), window=h.window)
        if st.n_tests < h.tests.base or st.n_runs < h.run_order.base:  # the history moved on without it
            st = ProjectState(space, stream_seed=stream_seed(space), window=h.window)
            compaction.start_late(st, h)
        _states[key] = st
        while len(_states) > 64:
            _states.popitem(last=False)
    if sync:
        with st.lock:
            st.sync(h)
    return st
