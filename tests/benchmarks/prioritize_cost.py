"""What tests:prioritize costs in process: 100 / 1,000 / 5,000 cases against 2,000 ingested runs.

usage: python tests/benchmarks/prioritize_cost.py
"""

from __future__ import annotations

import time

from optiloop.testopt.prioritize import Case, prioritize
from optiloop.testopt.sut import CheckoutService as Sut
from optiloop.testopt.sut.driver import LocalLoop


def main() -> None:
    loop = LocalLoop(Sut.schema)
    for i in range(50):  # 2,000 runs of history
        out = loop.suggest(batch_size=40, seed=i)
        loop.ingest([t["id"] for t in out["tests"]], [Sut.run(t["params"]) for t in out["tests"]])
    cases: list[Case] = []
    for i in range(40):  # 5,000 cases the history has not run
        out = loop.suggest(batch_size=125, seed=1000 + i)
        cases += [Case(f"c{len(cases) + j}", t["params"], None, 100.0) for j, t in enumerate(out["tests"])]
    for n in (100, 1000, len(cases)):
        t0 = time.perf_counter()
        r = prioritize(loop.deps, loop.project_id, cases[:n])
        print(f"{n:6d} cases: {1000 * (time.perf_counter() - t0):7.1f} ms  ({r['model']})", flush=True)


if __name__ == "__main__":
    main()
