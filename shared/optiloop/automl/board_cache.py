"""A finished experiment's ranking, kept per process for the leaderboard's next request.

Why: ranking is the leaderboard's cost — every completed trial's row read and paired against the
best (optiloop.automl.trial_rows, optiloop.automl.selection) — and at the API's largest budget,
10,000 trials all completed, it took 260 ms median, 380 ms p95 over HTTP on a loaded 2-core
machine (issue 10's floor: p95 < 250 ms; tests/benchmarks/automl_overhead.py). A finished
experiment's trials no longer change, and whatever would change them (a resume) first rewrites
the experiment's document: the ranking is kept under the document's revision and is computed again
once that moves. A running experiment is ranked afresh on every request. A few experiments are
kept (the most recently read), so memory stays bounded; each process (server, Lambda container)
keeps its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from optiloop.deps import Deps
from optiloop.store.records import Doc

KEEP = 4  # experiments: a 10,000-trial ranking holds about 10 MB of rows

_lock = threading.Lock()
# keyed by the store object itself (not its id(), which a later store may reuse): at most KEEP stores
# stay referenced from here
_kept: OrderedDict[tuple[object, str, int], Any] = OrderedDict()


def ranking(deps: Deps, doc: Doc, final: bool, compute: Callable[[], Any]) -> Any:
    """`compute()`'s answer for the experiment `doc`, kept while its revision stands if `final`."""
    if not final:
        return compute()
    key = (deps.store, doc.id, doc.rev)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    value = compute()
    with _lock:
        _kept[key] = value
        _kept.move_to_end(key)
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return value
