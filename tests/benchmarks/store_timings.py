"""Timings of the hot SQLite store paths (numbers for docs/benchmarks.md, not a test).

Design targets: list_since of 5,000 rows < 30 ms, max_seq < 1 ms, totals < 10 ms, 1,000 audit
appends < 1 s. Index use itself is asserted deterministically by the query-plan tests in
tests/unit/store/test_sqlite_adapter.py; wall-clock budgets belong here, where a loaded machine
makes a number worse instead of a build red.

usage: python tests/benchmarks/store_timings.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from optiloop.store.records import Project, Run, TestCase
from optiloop.store.sqlite import SqliteStore

N = 5000


def best_ms(fn: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="optiloop-store-timings-"))
    store = SqliteStore(tmp / "db")
    for pid in ("p", "noise"):
        store.projects.add(Project(pid, "n", "d", "t", "u"))
    tests = [
        TestCase(
            f"t{i}",
            "p",
            i,
            {"x": i * 0.1, "y": -3.5, "mode": "fast", "n": i},
            0.5,
            "gp",
            "mutation",
            "sug",
            1.0,
            "2025-01-01T00:00:00.000Z",
            "sv1",
        )
        for i in range(1, N + 1)
    ]
    store.tests.add_many(tests)
    store.tests.add_many(
        [TestCase(f"n{i}", "noise", i, {}, 0, "g", "o", "s", 0, "t", "v") for i in range(1, N + 1)]
    )
    store.runs.add_many(
        [
            Run(
                t.id,
                "p",
                t.seq,
                "fail" if t.seq % 7 == 0 else "pass",
                12.5,
                0.25,
                0,
                (1, 5, t.seq),
                1,
                "t",
                "f",
            )
            for t in tests
        ]
    )

    tests_ms = best_ms(lambda: store.tests.list_since("p"))
    runs_ms = best_ms(lambda: store.runs.list_since("p"))
    max_seq_ms = best_ms(lambda: store.runs.max_seq("p"))
    totals_ms = best_ms(lambda: store.runs.totals("p"))

    t0 = time.perf_counter()
    for i in range(1000):
        store.audit.append(
            principal="u", action="run.ingest", project_id="p", target=f"t{i}", details={"i": i}
        )
    audit_ms = (time.perf_counter() - t0) * 1000
    verify_ms = best_ms(store.audit.verify, repeat=3)
    store.close()

    print(
        f"\nlist_since tests {tests_ms:.1f} ms, runs {runs_ms:.1f} ms (5,000 rows);"
        f" max_seq {max_seq_ms:.3f} ms;"
        f" totals {totals_ms:.2f} ms; 1,000 audit appends {audit_ms:.0f} ms; verify 1,000 {verify_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
