"""The cyclic garbage collector paused around a bulk read that builds only acyclic objects.

Why: ranking an experiment of 10,000 completed trials builds about 100,000 dicts, lists and tuples
from JSON, and each burst of allocations sets off collections that walk the process's whole heap
(the app, its models, numpy): a third of the request (309 ms median with the collector, 210 ms
without, in process; tests/benchmarks/automl_overhead.py). What such a read builds is acyclic and
freed by reference counting, so nothing waits on the collector, which runs again when the block
ends. Concurrent users share one count: the collector restarts when the last one leaves, and only
if it was running when the first came.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
