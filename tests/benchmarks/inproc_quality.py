"""Suggestion quality in process: the shared harness's loop and baselines, the core called directly.

The official numbers come from ../shared/bench/testopt_bench.py against `optiloop serve` (HTTP);
this driver runs the same loop without HTTP so strategy work can iterate in seconds.

usage: python tests/benchmarks/inproc_quality.py [--strategies random,sobol,core] [--generator hybrid]
       [--seeds 3] [--budget 500] [--suts image-resizer,...] [--suite path/to/suts.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT.parent / "shared" / "bench" / "testopt_bench.py"


def load_harness():
    spec = importlib.util.spec_from_file_location("testopt_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


class CoreStrategy:
    """The platform's use cases on an in-memory store: the same path the HTTP handlers take."""

    def __init__(self, sut, seed, generator="hybrid"):
        from optiloop.testopt.sut.driver import LocalLoop

        self.loop = LocalLoop(sut.schema, name=sut.name)
        self.seed, self.generator, self.ids, self.latencies = seed, generator, [], []

    def ask(self, n):
        t0 = time.perf_counter()
        out = self.loop.suggest(generator=self.generator, batch_size=n, seed=self.seed)
        self.latencies.append(time.perf_counter() - t0)
        self.ids = [t["id"] for t in out["tests"]]
        return [t["params"] for t in out["tests"]]

    def tell(self, params, outcomes):
        self.loop.ingest(self.ids, outcomes)


def make_strategy(hb, name, sut, seed, generator):
    if name == "random":
        return hb.RandomStrategy(sut, seed)
    if name == "sobol":
        return hb.SobolStrategy(sut, seed)
    if name == "tpe":
        return hb.TPEStrategy(sut, seed)
    return CoreStrategy(sut, seed, generator)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default=str(BENCH.parent / "suts_public.py"))
    ap.add_argument("--strategies", default="random,sobol,core")
    ap.add_argument("--generator", default="hybrid")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--suts", default="")
    a = ap.parse_args()
    hb = load_harness()
    suts, hb.FAIL = hb.load_suite(a.suite)
    suts = [s for s in suts if not a.suts or s.name in a.suts.split(",")]
    for sut in suts:
        for name in a.strategies.split(","):
            rows, lat = [], []
            t0 = time.perf_counter()
            for seed in range(a.seeds):
                st = make_strategy(hb, name, sut, seed, a.generator)
                rows.append(hb.run_one(sut, st, a.budget, a.batch))
                lat += getattr(st, "latencies", [])
            curve = {k: statistics.mean(r["curve"].get(k, 0) for r in rows) for k in rows[0]["curve"]}
            msg = (
                f"{sut.name:18s} {name:6s} buckets={statistics.mean(r['buckets'] for r in rows):6.1f} "
                f"curve={curve} first_crit={statistics.median(r['first_critical'] for r in rows):5} "
                f"kinds={statistics.mean(r['fail_kinds'] for r in rows):.1f} "
                f"dup={statistics.mean(r['dup_rate'] for r in rows):.3f} "
                f"infeas={sum(r['infeasible'] for r in rows)} wall={time.perf_counter() - t0:.1f}s"
            )
            if lat:
                lat.sort()
                msg += f" p95={1000 * lat[int(0.95 * (len(lat) - 1))]:.1f}ms"
            print(msg, flush=True)


if __name__ == "__main__":
    sys.exit(main())
