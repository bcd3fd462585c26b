"""Benchmark: in-process tests:suggest as one project's history grows to 1,000,000 runs.

Runs are bulk-loaded into the store in batches of 10,000 (feasible uniform params of the checkout
service, its real outcomes, new-bucket counts as ingest computes them): going through
`runs:ingest` 2,000 times would measure ingest, not suggest. At each checkpoint (default 10k,
100k, 1M runs) the process first catches up with what was loaded (one timed suggest: the history
is paged in and folded into the state `window` rows at a time), then `--calls` rounds of
suggest(batch 50) -> run -> runs:ingest are made through the real use cases and only the suggests
are timed; p50/p95/max of wall time and of the process's CPU time (what a quiet machine would
show: a loaded one stretches wall time), and its resident memory (VmRSS, and its peak VmHWM).

With --restart, each checkpoint ends with a restart: the process forgets every cached history and
state, and one suggest is timed as a new process would make it (from the blob-store snapshot).

usage: python tests/benchmarks/scale_suggest.py [--checkpoints 10000,100000,1000000] [--batch 50]
       [--calls 40] [--generator hybrid] [--window N] [--restart]   (N: OPTILOOP_HISTORY_WINDOW)
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

BULK = 10_000


def rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB, from /proc (Linux)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) / 1024
    return out.get("VmRSS", float("nan")), out.get("VmHWM", float("nan"))


def bulk_load(loop: Any, n: int, start_test: int, start_run: int, seen: set[int | str], seed: int) -> None:
    """`n` tests and their runs straight into the store, in seq order after what is there."""
    from optiloop.store.records import Run, TestCase
    from optiloop.testopt.sampling.feasible import sample_feasible
    from optiloop.testopt.spaces import space_for
    from optiloop.testopt.sut import CheckoutService

    store, pid = loop.deps.store, loop.project_id
    space = space_for(store, pid)
    rng = np.random.default_rng(seed)
    now = "2026-12-06T00:00:00.000Z"
    done = 0
    while done < n:
        k = min(BULK, n - done)
        U = sample_feasible(space, k, rng, mode="uniform")
        params = space.to_dicts(space.decode(U))
        tests, runs = [], []
        for i, p in enumerate(params):
            seq = start_test + done + i + 1
            tid = f"tst_bulk{seq:09d}"
            tests.append(
                TestCase(
                    tid,
                    pid,
                    seq,
                    p,
                    0.0,
                    "random",
                    "uniform",
                    f"sug_bulk{seq // BULK}",
                    1.0,
                    now,
                    space.version,
                )
            )
            o = CheckoutService.run(p)
            buckets = tuple(o["coverage_delta"]["buckets_hit"])
            new = len(set(buckets) - seen)
            seen.update(buckets)
            runs.append(
                Run(
                    tid,
                    pid,
                    start_run + done + i + 1,
                    o["status"],
                    float(o["duration_ms"]),
                    float(o["cost_cents"]),
                    int(o["failure_severity"]),
                    buckets,
                    new,
                    now,
                    f"bulk{seq}",
                )
            )
        with store.transaction():
            store.tests.add_many(tests)
            store.runs.add_many(runs)
        done += len(tests)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoints", default="10000,100000,1000000")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--generator", default="hybrid")
    ap.add_argument("--window", type=int, default=None)
    ap.add_argument("--restart", action="store_true")
    a = ap.parse_args()
    if a.window is not None:
        os.environ["OPTILOOP_HISTORY_WINDOW"] = str(a.window)
    from optiloop.testopt.history import window_size
    from optiloop.testopt.sut import CheckoutService
    from optiloop.testopt.sut.driver import LocalLoop

    loop = LocalLoop(CheckoutService.schema, name="scale")
    store, pid = loop.deps.store, loop.project_id
    seen: set[int | str] = set()
    runs = 0
    print(
        f"window {window_size()} tests; batch {a.batch}; generator {a.generator}; rss {rss_mb()[0]:.0f} MiB"
    )
    for target in (int(x) for x in a.checkpoints.split(",")):
        t0 = time.perf_counter()
        while runs < target - a.calls * a.batch:
            k = min(100_000, target - a.calls * a.batch - runs)
            tests, runs = store.tests.max_seq(pid), store.runs.max_seq(pid)  # suggests left some pending
            bulk_load(loop, k, tests, runs, seen, seed=runs)
            runs += k
            print(f"  loaded {runs:,} runs ({time.perf_counter() - t0:.0f} s)", flush=True)
        t1 = time.perf_counter()
        loop.suggest(generator=a.generator, batch_size=a.batch, seed=0)  # catch up: page in, fold
        catch_up = time.perf_counter() - t1
        lat, cpu = [], []
        for i in range(a.calls):
            t, c = time.perf_counter(), time.process_time()
            out = loop.suggest(generator=a.generator, batch_size=a.batch, seed=runs + i)
            lat.append(1000 * (time.perf_counter() - t))
            cpu.append(1000 * (time.process_time() - c))
            ids = [t["id"] for t in out["tests"]]
            outcomes = [CheckoutService.run(t["params"]) for t in out["tests"]]
            for o in outcomes:
                seen.update(o["coverage_delta"]["buckets_hit"])
            loop.ingest(ids, outcomes)
        runs = store.runs.max_seq(pid)
        arr, carr = np.array(lat), np.array(cpu)
        rss, peak = rss_mb()
        print(
            f"{a.generator} runs={runs:>9,} batch={a.batch} p50={np.percentile(arr, 50):6.1f}ms "
            f"p95={np.percentile(arr, 95):6.1f}ms max={arr.max():6.1f}ms "
            f"(cpu p50={np.percentile(carr, 50):6.1f}ms p95={np.percentile(carr, 95):6.1f}ms) "
            f"catch-up={catch_up:5.1f}s "
            f"rss={rss:5.0f}MiB peak={peak:5.0f}MiB",
            flush=True,
        )
        if a.restart:
            from optiloop.testopt import history
            from optiloop.testopt.strategies import state

            history._caches.clear()
            state._states.clear()
            t = time.perf_counter()
            loop.suggest(generator=a.generator, batch_size=a.batch, seed=1)
            print(f"  after a restart: first suggest {time.perf_counter() - t:.2f} s", flush=True)


if __name__ == "__main__":
    main()
