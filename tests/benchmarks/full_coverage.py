"""Estimate each SUT's full coverage (all reachable buckets) by heavy feasible sampling.

"Close half the gap between random and full coverage" needs a number for full coverage; the
harness does not give one. This samples ~200k feasible points per SUT (uniform, log-ish/boundary
mixes, and pushes onto constraint edges) and counts every bucket hit: a lower bound that stops
growing long before the end (it prints the count after each mode).

usage: python tests/benchmarks/full_coverage.py [--suite ../shared/bench/suts_public.py] [--rounds 20]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

from optiloop.testopt.sampling.feasible import push_to_edges, sample_feasible
from optiloop.testopt.space.schema import ConstraintDoc, build_space

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "suts_public.py"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default=str(BENCH))
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("suite", a.suite)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    for sut in mod.SUTS:
        space = build_space([ConstraintDoc("space", "hard", 0.0, sut.schema)])
        rng = np.random.default_rng(0)
        seen: set[int] = set()
        counts = []
        for mode in ("uniform", "mixed", "boundary"):
            for _ in range(a.rounds):
                U = sample_feasible(space, 4000, rng, mode=mode)
                if mode != "uniform":
                    U = np.vstack([U, push_to_edges(space, U[:2000], rng, 2)])
                for p in space.to_dicts(space.decode(U)):
                    seen |= set(sut.run(p)["coverage_delta"]["buckets_hit"])
            counts.append(f"{mode}={len(seen)}")
        print(f"{sut.name:20s} full coverage >= {len(seen):5d}   ({', '.join(counts)})", flush=True)


if __name__ == "__main__":
    main()
