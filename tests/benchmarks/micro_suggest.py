"""Microbenchmark: in-process tests:suggest, batch 50, with 5,000 ingested runs behind it.

The history is built through the real use cases (suggest 500 at a time, run on a simulated SUT,
ingest), then `--calls` suggestions of `--batch` are timed back to back, each leaving its tests
pending, as a busy project would. Prints p50/p95/max per generator, and the calling thread's CPU
time p50/p95 (on a machine shared with other jobs, wall time measures the queue; CPU time does not).
`--pareto` asks each call for the candidate pool's Pareto front (select crowding).

usage: python tests/benchmarks/micro_suggest.py [--runs 5000] [--batch 50] [--calls 40]
       [--generators hybrid,...] [--pareto]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from optiloop.testopt.sut import CheckoutService
from optiloop.testopt.sut.driver import LocalLoop


def build(runs: int) -> LocalLoop:
    """A project with `runs` ingested runs, suggested 500 at a time by the random generator."""
    loop = LocalLoop(CheckoutService.schema, name="micro")
    done = 0
    while done < runs:
        out = loop.suggest(generator="random", batch_size=min(500, runs - done), seed=done)
        loop.ingest([t["id"] for t in out["tests"]], [CheckoutService.run(t["params"]) for t in out["tests"]])
        done += len(out["tests"])
    return loop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--generators", default="hybrid,coverage,bo,qmc,random")
    ap.add_argument("--pareto", action="store_true", help="ask for the Pareto front (select crowding)")
    a = ap.parse_args()
    extra: dict[str, object] = {}
    if a.pareto:
        from optiloop.testopt.strategies.multiobjective import ParetoSpec

        extra["pareto"] = ParetoSpec(select="crowding")
    t0 = time.perf_counter()
    loop = build(a.runs)
    print(f"history: {a.runs} runs ingested in {time.perf_counter() - t0:.1f}s")
    for g in a.generators.split(","):
        loop.suggest(generator=g, batch_size=a.batch, seed=1, **extra)  # warm the caches
        lat, cpu = [], []
        for i in range(a.calls):
            t, c = time.perf_counter(), time.thread_time()
            loop.suggest(generator=g, batch_size=a.batch, seed=i, **extra)
            lat.append(1000 * (time.perf_counter() - t))
            cpu.append(1000 * (time.thread_time() - c))
        lat_arr, cpu_arr = np.array(lat), np.array(cpu)
        print(
            f"{g:9s} batch={a.batch} runs={a.runs} p50={np.percentile(lat_arr, 50):6.1f}ms "
            f"p95={np.percentile(lat_arr, 95):6.1f}ms max={lat_arr.max():6.1f}ms "
            f"cpu p50={np.percentile(cpu_arr, 50):6.1f}ms p95={np.percentile(cpu_arr, 95):6.1f}ms"
        )


if __name__ == "__main__":
    main()
