"""Does the RL policy earn its keep? buckets@N with and without it, on shared systems-under-test.

For each system and seed, four projects run the same first `--history` tests with `hybrid`
(batches of 20, the same seed: identical histories). One RL policy is then trained on that history
(training_jobs/rl_policy's main(), in process, default hyperparameters) and registered in two of
them; all four continue to `--budget` tests:

    hybrid      hybrid, no policy registered (today's engine)
    hybrid+rl   hybrid with the policy: an `rl` arm that must earn its share
    qmc         the continuation a Sobol' sampler would make
    rl          generator "rl" alone

and the distinct coverage buckets hit by `--budget` tests are reported (mean over seeds), with
the `rl` arm's share of hybrid+rl's later tests, the training time (wall, and CPU
seconds: the first system's include importing torch), and the policy's own
held-out return ratio (its moves' reward over random moves').

usage: OMP_NUM_THREADS=1 python tests/benchmarks/rl_policy.py [--seeds 3] [--history 200] [--budget 500]
       [--suts checkout-service,gen-0003,gen-0011]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: rl_policies

import rl_policies

from optiloop.testopt.sut import CheckoutService
from optiloop.testopt.sut.driver import LocalLoop
from optiloop.testopt.sut.procedural import generate

ARMS = ("hybrid", "hybrid+rl", "qmc", "rl")


def make_sut(name: str) -> Any:
    return CheckoutService() if name == CheckoutService.name else generate(int(name.split("-")[1]))


class Run:
    def __init__(self, sut_name: str, seed: int) -> None:
        self.sut = make_sut(sut_name)
        self.loop = LocalLoop(self.sut.schema, name=sut_name)
        self.seed, self.n, self.buckets = seed, 0, set()
        self.ops: list[str] = []

    def step(self, generator: str, k: int) -> None:
        out = self.loop.suggest(generator=generator, batch_size=k, seed=self.seed)
        outcomes = [self.sut.run(t["params"]) for t in out["tests"]]
        for o in outcomes:
            self.buckets |= set(o["coverage_delta"]["buckets_hit"])
        self.loop.ingest([t["id"] for t in out["tests"]], outcomes)
        tests = self.loop.deps.store.tests.get_many(self.loop.project_id, [t["id"] for t in out["tests"]])
        self.ops += [tests[t["id"]].operator for t in out["tests"]]
        self.n += len(out["tests"])

    def run_to(self, generator: str, n: int, batch: int = 20) -> None:
        while self.n < n:
            before = self.n
            self.step(generator, min(batch, n - self.n))
            if self.n == before:
                break


def one(sut_name: str, seed: int, history: int, budget: int) -> dict[str, Any]:
    runs = {arm: Run(sut_name, seed) for arm in ARMS}
    for r in runs.values():
        r.run_to("hybrid", history)
    t0, c0 = time.perf_counter(), time.process_time()
    data = rl_policies.train_artifact(
        runs["rl"].loop.deps, runs["rl"].loop.project_id, hp={"seed": str(seed)}
    )
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    info = {}
    for arm in ("hybrid+rl", "rl"):
        info = rl_policies.register(runs[arm].loop.deps, runs[arm].loop.project_id, data)
    doc = runs["rl"].loop.deps.store.docs.get("model_version", info["model_version_id"])
    ratio = float(doc.data["metrics"]["return_ratio"]) if doc else float("nan")
    out: dict[str, Any] = {"train_s": train_s, "train_cpu": train_cpu, "return_ratio": ratio}
    for arm, r in runs.items():
        r.run_to({"hybrid+rl": "hybrid"}.get(arm, arm), budget)
        out[arm] = len(r.buckets)
    later = runs["hybrid+rl"].ops[history:]
    out["rl_share"] = later.count("rl") / max(len(later), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--history", type=int, default=200)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--suts", default="checkout-service,gen-0003,gen-0011")
    a = ap.parse_args()
    print(f"buckets@{a.budget} after {a.history} hybrid tests; mean over {a.seeds} seeds")
    print(f"{'system':18s} " + " ".join(f"{x:>10s}" for x in ARMS) + "   rl share  ret.ratio  train s (cpu)")
    for name in a.suts.split(","):
        rows = [one(name, s, a.history, a.budget) for s in range(a.seeds)]
        mean = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
        print(
            f"{name:18s} " + " ".join(f"{mean[x]:10.1f}" for x in ARMS)
            + f"   {mean['rl_share']:8.3f}  {mean['return_ratio']:9.2f}  "
            + f"{mean['train_s']:7.1f} ({mean['train_cpu']:.1f})"
            + "   per seed hybrid / hybrid+rl: "
            + " ".join(f"{r['hybrid']}/{r['hybrid+rl']}" for r in rows),
            flush=True,
        )  # fmt: skip


if __name__ == "__main__":
    main()
