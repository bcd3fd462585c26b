"""Microbenchmark: in-process tests:suggest, batch 50, with 5,000 ingested runs behind it.

The history is built through the real use cases (suggest 500 at a time, run on a simulated SUT,
ingest), then `--calls` suggestions of `--batch` are timed back to back, each leaving its tests
pending, as a busy project would. Prints p50/p95/max per generator.

usage: python tests/benchmarks/micro_suggest.py [--runs 5000] [--batch 50] [--calls 40]
       [--generators hybrid,...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import optiloop  # noqa: F401  (first: pins BLAS threads before numpy loads)
from optiloop.auth.principal import Principal
from optiloop.store.factory import open_memory
from optiloop.store.records import Constraint, Project
from optiloop.sut import CheckoutService
from optiloop.testopt.deps import Deps, new_id, utc_now
from optiloop.testopt.ingest import RunReport, ingest_runs
from optiloop.testopt.suggest import SuggestRequest, suggest

WHO = Principal(name="bench", role="admin", project_id=None, key_id="k")


def build(runs: int, generator: str) -> tuple[Deps, str]:
    store, blobs = open_memory()
    deps = Deps(store=store, blobs=blobs)
    pid = new_id("prj")
    store.projects.add(Project(id=pid, name="micro", description="", created_at=utc_now(), created_by="b"))
    store.constraints.add(
        Constraint(
            id=new_id("con"),
            project_id=pid,
            name="s",
            type="hard",
            weight=0.0,
            json_schema=CheckoutService.schema,
            version=1,
            created_at=utc_now(),
            created_by="b",
        )
    )
    done = 0
    while done < runs:
        out = suggest(
            deps, pid, SuggestRequest(generator="random", batch_size=min(500, runs - done), seed=done), "b"
        )
        reps = []
        for t in out["tests"]:
            o = CheckoutService.run(t["params"])
            reps.append(
                RunReport(
                    test_id=t["id"],
                    status=o["status"],
                    duration_ms=o["duration_ms"],
                    cost_cents=o["cost_cents"],
                    failure_severity=o["failure_severity"],
                    buckets_hit=o["coverage_delta"]["buckets_hit"],
                )
            )
        ingest_runs(deps, WHO, pid, reps)
        done += len(reps)
    return deps, pid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--generators", default="hybrid,coverage,bo,qmc,random")
    a = ap.parse_args()
    t0 = time.perf_counter()
    deps, pid = build(a.runs, "random")
    print(f"history: {a.runs} runs ingested in {time.perf_counter() - t0:.1f}s")
    for g in a.generators.split(","):
        suggest(deps, pid, SuggestRequest(generator=g, batch_size=a.batch, seed=1), "b")  # warm the caches
        lat = []
        for i in range(a.calls):
            t = time.perf_counter()
            suggest(deps, pid, SuggestRequest(generator=g, batch_size=a.batch, seed=i), "b")
            lat.append(1000 * (time.perf_counter() - t))
        lat_arr = np.array(lat)
        print(
            f"{g:9s} batch={a.batch} runs={a.runs} p50={np.percentile(lat_arr, 50):6.1f}ms "
            f"p95={np.percentile(lat_arr, 95):6.1f}ms max={lat_arr.max():6.1f}ms"
        )


if __name__ == "__main__":
    main()
