"""`optiloop demo`: the loop against a simulated system, side by side with random generation.

It drives the same use cases the HTTP API calls, on a throwaway local store, so what a newcomer
sees is the platform itself: suggest -> run -> ingest -> learn, and the coverage it buys.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optiloop.deps import Deps
from optiloop.store.factory import open_local
from optiloop.testopt.sut import SUTS
from optiloop.testopt.sut.driver import LocalLoop


def _loop(
    deps: Deps, sut: Any, generator: str, n_tests: int, batch: int, seed: int, tick: Callable[[int], object]
) -> dict[str, Any]:
    loop = LocalLoop(sut.schema, name=f"demo-{generator}", deps=deps)
    seen: set[int] = set()
    curve, first_fail, n = [], None, 0
    while n < n_tests:
        out = loop.suggest(generator=generator, batch_size=min(batch, n_tests - n), seed=seed)
        outcomes = [sut.run(t["params"]) for t in out["tests"]]
        for o in outcomes:
            n += 1
            seen |= set(o["coverage_delta"]["buckets_hit"])
            curve.append(len(seen))
            if o["failure_severity"] >= 3 and first_fail is None:
                first_fail = n
        loop.ingest([t["id"] for t in out["tests"]], outcomes)
        tick(len(outcomes))
        if not out["tests"]:
            break
    return {"curve": curve, "first_severe": first_fail}


def run(args: argparse.Namespace) -> int:
    sut = SUTS.get(args.sut)
    if sut is None:
        print(f"unknown --sut {args.sut!r}; choose one of {sorted(SUTS)}")
        return 2
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="optiloop-demo-"))
    store, blobs = open_local(data_dir)
    deps = Deps(store=store, blobs=blobs)
    try:
        from tqdm import tqdm

        bar = tqdm(total=2 * args.tests, desc="suggest -> run -> ingest", unit="test")
        tick, close = bar.update, bar.close
    except ImportError:  # the cli extra is optional: fall back to a plain counter
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            print(f"\r{done[0]}/{2 * args.tests} tests", end="", flush=True)

        def close() -> None:
            print()

    results = {g: _loop(deps, sut, g, args.tests, args.batch, args.seed, tick) for g in ("hybrid", "random")}
    close()
    store.close()
    print(f"\n{sut.name}: {args.tests} tests, batch {args.batch}, seed {args.seed}")
    print(f"{'generator':10s} {'buckets@100':>12s} {'buckets@end':>12s} {'first sev>=3':>13s}")
    for g, r in results.items():
        c = r["curve"]
        at100 = c[min(99, len(c) - 1)] if c else 0
        print(f"{g:10s} {at100:12d} {c[-1] if c else 0:12d} {r['first_severe'] or '-':>13}")
    _plot(results, sut.name, Path(args.out))
    print(f"plot written to {args.out}")
    return 0


def _plot(results: dict[str, dict[str, Any]], title: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for g, r in results.items():
        line = ax.plot(
            range(1, len(r["curve"]) + 1),
            r["curve"],
            label=f"OptiLoop {g}" if g != "random" else "random generation",
        )[0]
        if r["first_severe"]:
            ax.axvline(r["first_severe"], color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("tests run")
    ax.set_ylabel("unique coverage buckets")
    ax.set_title(f"{title}: coverage over tests (dotted: first severity>=3 failure)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
