"""The generated systems-under-test as a suite module for the shared harness.

    OPTILOOP_SUTS_SPLIT=tune|heldout|all   which systems (default tune)
    OPTILOOP_SUTS_COUNT=N                  only the first N of them (default all of the split)

    python ../shared/bench/testopt_bench.py --suite tests/benchmarks/suts_generated.py \
        --strategies random,sobol

Each SUT keeps a call counter for its flaky failures, so a harness run is reproducible as a
whole (the same strategies in the same order), not strategy by strategy; the in-process
generalisation benchmark (generalisation.py) regenerates a system per run instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    import optiloop  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from optiloop.testopt.sut.procedural import GeneratedSystem, suite

_count = os.environ.get("OPTILOOP_SUTS_COUNT")
SUTS: list[GeneratedSystem] = suite(
    os.environ.get("OPTILOOP_SUTS_SPLIT", "tune"), int(_count) if _count else None
)
FAIL: set[int] = set().union(*(s.fail_buckets for s in SUTS))
