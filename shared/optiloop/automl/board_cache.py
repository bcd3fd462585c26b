"""An experiment's ranking, kept per process and brought up to date on each leaderboard request.

Why: ranking is the leaderboard's cost — every completed trial's row read, paired against the best
and sorted (optiloop.automl.trial_rows, optiloop.automl.ranking) — and at the API's largest budget,
10,000 completed trials, doing it afresh per request took 292 ms p50 / 427 ms p95 over HTTP for a
running experiment (issue 10's floor: p95 < 250 ms; tests/benchmarks/automl_overhead.py). A kept
`Board` reads only the rows recorded since the request before and takes them in incrementally.

That is sound because rows are recorded in trial-number order, which is their listing order: the
local search records its trials one at a time as they finish, in number order; the AWS fan-out's
Record writes a batch sorted by number and batches run one after another (a retried Record skips
what it wrote and goes on upward); a resumed run numbers on from the highest recorded trial; the
ensemble takes the next number. So every row not yet read sorts after the last one read. Rows are
never rewritten or deleted while the experiment exists.

A few experiments are kept (the most recently read), so memory stays bounded (about 10 MB for
10,000 rows); each process (server, Lambda container) keeps its own, and one that has not seen an
experiment reads it whole once — unless it has completed: then its ranking was stored as a snapshot
(optiloop.automl.experiments.snapshot_ranking: the first 1,000 trial ids, the front, the selection),
which is read as one blob and kept here too (it never changes).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from optiloop import gcpause
from optiloop.automl import trial_rows
from optiloop.automl.ranking import Board, per_draw, selection_rule
from optiloop.deps import Deps

KEEP = 4  # experiments
KEEP_SNAPSHOTS = 16  # ~40 KB each at 1,000 trial ids

Read = Callable[[str | None], tuple[list[dict[str, Any]], str | None]]


@dataclass
class _Kept:
    board: Board
    after: str | None = None  # the sort of the last row read
    lock: threading.Lock = field(default_factory=threading.Lock)


_lock = threading.Lock()
# keyed by the store object itself (not its id(), which a later store may reuse): at most KEEP stores
# stay referenced from here; and by how it ranks and what it reads (rows, or documents for an
# experiment stored before rows existed), so a Board never mixes two
_kept: OrderedDict[tuple[object, ...], _Kept] = OrderedDict()
_snapshots: OrderedDict[tuple[object, str], dict[str, Any]] = OrderedDict()


def snapshot(deps: Deps, key: str) -> dict[str, Any] | None:
    """A completed experiment's stored ranking (None when the blob is missing), kept once read."""
    kept_key = (deps.blobs, key)
    with _lock:
        hit = _snapshots.get(kept_key)
        if hit is not None:
            _snapshots.move_to_end(kept_key)
            return hit
    raw = deps.blobs.get(key)
    if raw is None:
        return None
    snap: dict[str, Any] = json.loads(raw)
    with _lock:
        _snapshots[kept_key] = snap
        while len(_snapshots) > KEEP_SNAPSHOTS:
            _snapshots.popitem(last=False)
    return snap


def write_snapshot(deps: Deps, key: str, snap: dict[str, Any]) -> None:
    deps.blobs.put(key, json.dumps(snap, separators=(",", ":")).encode())


@contextmanager
def board(deps: Deps, exp: dict[str, Any], read: Read) -> Iterator[Board]:
    """The experiment's Board with every trial recorded so far, held for the caller's reads (one
    request at a time per experiment). `read(after)`: the ranking views of the trials recorded past
    the sort `after` (None: all) and the last one's sort (None when there are none)."""
    key = (deps.store, exp["id"], exp["metric"], exp["direction"], selection_rule(exp), per_draw(exp),
           bool(exp.get(trial_rows.ROWS_FLAG)))  # fmt: skip
    with _lock:
        kept = _kept.get(key)
        if kept is None:
            kept = _kept[key] = _Kept(Board(exp))
        _kept.move_to_end(key)
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    with kept.lock:
        with gcpause.paused():  # up to 10,000 rows' acyclic objects on a first read (optiloop.gcpause)
            trials, last = read(kept.after)
            kept.board.add(trials)
        if last is not None:
            kept.after = last
        yield kept.board
