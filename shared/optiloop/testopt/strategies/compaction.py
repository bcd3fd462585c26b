"""Bounded suggest state: which rows a `ProjectState` keeps once a project outgrows its window.

A row (a test's unit coordinates and embedding) serves three things: anchors for repairs and edge
pushes, distances to "everything tested" (the spread term and k-center), and rare-bucket parents
for mutation and crossover. None needs every test of a 1M-test project, and holding them all made
each call O(history) in time and memory. So the state keeps, in row order:

* the newest `window` tests (compacted in steps of window/2, so a cut costs O(window) amortised
  and the cut points depend only on the number of tests, not on when a process synced);
* an archive of window/4 older tests, a bottom-k sample by a hash of the test id: the same sample
  whichever process built it and in whatever batches, and an unbiased spread over the old space;
* the newest CORPUS_KEEP tests that found new buckets (rarity reads the newest 2,000).

Dropped rows whose run has not arrived wait in a side store (capped at `window`) so a late run is
still credited to its operator and folded into the surrogates. Everything else is a sufficient
statistic kept in full: bucket counts, pairwise bins, the surrogates' posteriors, operator credit,
failure counts; exact repeats of dropped tests are caught by the history's Bloom filter.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optiloop.testopt.history import History
    from optiloop.testopt.strategies.state import ProjectState

ARCHIVE_SHARE = 4  # the archive holds window // ARCHIVE_SHARE old rows
CORPUS_KEEP = 2000  # newest rare-bucket tests kept: all that mutation and crossover read (rarity(2000))


def step(window: int) -> int:
    return max(window // 2, 1)


def cut_for(n_tests: int, window: int) -> int:
    """Tests before this position are out of the window: a function of the count alone."""
    s = step(window)
    return max(((n_tests - window) // s) * s, 0)


def rank(ids: list[str]) -> np.ndarray:
    """A stable pseudo-random rank per test id (the archive keeps the smallest)."""
    raw = b"".join(hashlib.blake2b(i.encode(), digest_size=8).digest() for i in ids)
    return np.frombuffer(raw, dtype="<u8") if ids else np.zeros(0, dtype=np.uint64)


def _trim_corpus(st: ProjectState) -> None:
    extra = len(st.corpus) - CORPUS_KEEP
    if extra <= 0:
        return
    start = st.corpus_ends[extra - 1]
    del st.corpus[:extra], st.corpus_fail[:extra], st.corpus_flat[:start]
    st.corpus_ends = [e - start for e in st.corpus_ends[extra:]]


def compact(st: ProjectState) -> None:
    """Drop the rows that left the window, keeping the archive sample and the corpus."""
    cut = cut_for(st.n_tests, st.window)
    if cut <= st.cutoff:
        return
    st.cutoff = cut
    _trim_corpus(st)
    pos = np.asarray(st.pos, dtype=np.int64)
    old = pos < cut
    in_corpus = np.zeros(len(pos), dtype=bool)
    in_corpus[np.asarray(st.corpus, dtype=np.int64)] = True
    cand = np.flatnonzero(old & ~in_corpus)
    keep = ~old | in_corpus
    if len(cand):
        r = rank([st.ids[i] for i in cand])
        keep[cand[np.argsort(r, kind="stable")[: st.window // ARCHIVE_SHARE]]] = True
    if keep.all():
        return
    for i in np.flatnonzero(~keep):
        if not st.ran[i]:
            st.side[st.ids[i]] = (st.ops[i], st.U[i].copy(), st.E[i].copy())
    while len(st.side) > st.window:  # oldest first: a run this late is credited no more
        del st.side[next(iter(st.side))]
    new_row = np.cumsum(keep) - 1
    st.corpus = [int(new_row[i]) for i in st.corpus]
    st.U, st.E, st.feasible = st.U[keep], st.E[keep], st.feasible[keep]
    st.feasible_rows = np.flatnonzero(st.feasible)
    kept = np.flatnonzero(keep).tolist()
    st.ids = [st.ids[i] for i in kept]
    st.ops = [st.ops[i] for i in kept]
    st.pos = [st.pos[i] for i in kept]
    st.ran = [st.ran[i] for i in kept]
    st.row_of = {t: i for i, t in enumerate(st.ids)}
    from optiloop.testopt.strategies.state import point_key

    st.keys = {point_key(u) for u in st.U}
    st.complete = False


def revive(st: ProjectState, test_id: str, keep_row: bool) -> tuple[int, np.ndarray, str] | None:
    """A run whose test left the window: (row or -1, its features, its operator) from the side
    store, the test back as a row when its run found new buckets (a mutation parent); None when it
    is not at hand (dropped from the side store, or never seen by this state)."""
    got = st.side.pop(test_id, None)
    if got is None:
        return None
    op, u, e = got
    row = -1
    if keep_row:
        row = len(st.ids)
        st.U = np.vstack([st.U, u[None, :]])
        st.E = np.vstack([st.E, e[None, :]])
        st.feasible = np.concatenate([st.feasible, st.space.feasible(st.space.decode(u[None, :]))])
        st.feasible_rows = np.flatnonzero(st.feasible)
        st.ids.append(test_id)
        st.ops.append(op)
        st.pos.append(-1)  # old: kept only while it is in the corpus
        st.ran.append(True)
        st.row_of[test_id] = row
    return row, e, op


def start_late(st: ProjectState, h: History) -> None:
    """A state for a history that has already compacted (a new space version, or a state evicted
    from the cache on a large project): it learns from the retained window only, continues the
    project's QMC stream where the whole history left it, and asks the history's filter for repeats."""
    st.n_tests = h.tests.base
    st.n_runs = h.run_order.base
    st.op_counts = Counter(h.dropped_ops)
    st.cutoff = cut_for(st.n_tests, st.window)
    st.complete = False
    st.late = True


def repeats(st: ProjectState, h: History, C: np.ndarray) -> np.ndarray:
    """Per candidate row: does it (probably) repeat a test whose row the state no longer holds?
    The state's Bloom filter of point keys answers for every test it synced; a state that started
    on a compacted history also asks the history's filter, by canonical params. A false positive
    only drops a new candidate."""
    if not len(C):
        return np.zeros(0, dtype=bool)
    from optiloop.testopt.history import canonical
    from optiloop.testopt.strategies.state import point_key

    out = st.seen.contains([point_key(u) for u in C])
    if st.late:
        params = st.space.to_dicts(st.space.decode(C))
        out |= h.seen.contains([canonical(p).encode() for p in params])
    return out


def embed(st: ProjectState, h: History, test_ids: list[str]) -> np.ndarray:
    """Embeddings of these tests (each retained by `h`): the state's rows where it holds them,
    else encoded from their params, which gives the same numbers (rows are `emb(encode(params))`)."""
    rows = [st.row_of.get(t) for t in test_ids]
    out = np.empty((len(test_ids), st.E.shape[1]))
    held = [i for i, r in enumerate(rows) if r is not None]
    if held:
        out[held] = st.E[[r for r in rows if r is not None]]
    missing = [i for i, r in enumerate(rows) if r is None]
    if missing:
        params = [h.tests[h.test_index[test_ids[i]]].params for i in missing]
        out[missing] = st.emb(st.space.encode_dicts(params))
    return out
