"""Generalisation benchmark: the engine against random and Sobol on generated systems-under-test.

Eight hand-written SUTs are too few to tell a general improvement from fitting them, so this
runs `random`, `sobol` (the shared harness's baselines) and `core` (the platform's suggest and
ingest use cases in process, as inproc_quality.py) on the procedurally generated systems of
`optiloop.testopt.sut.procedural`, tuning set or held-out set, and reports distributions over
systems rather than a mean that one system can carry.

usage: python tests/benchmarks/generalisation.py [--split tune|heldout] [--count N] [--offset N] [--seeds 5]
       [--budget 500] [--batch 20] [--generator hybrid] [--strategies random,sobol,core]
       [--families grid-regime,...] [--suite-public] [--jobs 2] [--json out.json] [--refresh]

One task is one system x strategy x seed, run in a worker process with a freshly generated system.
Baseline results (random, sobol) and each system's ceiling are cached in
tests/benchmarks/.cache/generalisation.json, keyed by system, a hash of the generator's source
(or the public suite's file) and of the harness, so rerunning after an engine change only runs
`core`. The ceiling of a system is every bucket hit by ~50k feasible points from the platform's
samplers (uniform, mixed, boundary, pushed onto constraint edges) united with every bucket any
strategy run found.

Report per set (tune / heldout / public):
  core / best   buckets@budget of core / max(random, sobol): min, p10, median, systems < 0.97
  core / random the same against random alone, and at 100 tests (median, pooled)
  gap closed    (Σcore − Σrandom) / (Σceiling − Σrandom), pooled over systems
  first crit    tests until the first failure of severity >= 3 (budget + 1 if none), core/random
                as a geometric mean over systems where either strategy found one
  headroom      random@budget / ceiling (min, p10, median, p90)
  worst 10 systems by core / best, with their family; medians per family
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one BLAS thread per worker: --jobs processes share the cores

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
try:
    import optiloop  # noqa: F401
except ImportError:  # pragma: no cover - a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "shared"))

import inproc_quality  # noqa: E402
import numpy as np  # noqa: E402

from optiloop.testopt.sut import procedural  # noqa: E402

BENCH_DIR = ROOT.parent / "shared" / "bench"
PUBLIC = [BENCH_DIR / "suts_public.py", HERE / "suts_extra.py"]
CACHE = HERE / ".cache" / "generalisation.json"
CACHED_STRATEGIES = ("random", "sobol")
CEILING_ROUNDS = {"uniform": 4, "mixed": 3, "boundary": 3}  # x 4000 points (+ 2000 pushed per round)


# ------------------------------------------------------------------ systems
def _load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"suite_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.hexdigest()[:16]


def generator_hash() -> str:
    """Changes whenever any source file of the generator changes (invalidates cached results)."""
    pkg = Path(procedural.__file__).parent
    return _digest(f.name.encode() + f.read_bytes() for f in sorted(pkg.glob("*.py")))


def harness_hash() -> str:
    return _digest([(BENCH_DIR / "testopt_bench.py").read_bytes()])


def system_ref(ref: tuple[str, str]) -> tuple[Any, set[int], str]:
    """(sut, its failure buckets, family) for a reference ('gen', seed) or (suite path, name)."""
    kind, key = ref
    if kind == "gen":
        g = procedural.generate(int(key))
        return g, set(g.fail_buckets), g.family
    mod = _load_module(Path(kind))
    sut = next(s for s in mod.SUTS if s.name == key)
    return sut, set(mod.FAIL), "public"


class Recorder:
    """Wraps a SUT to keep every bucket its runs report (for the ceiling)."""

    def __init__(self, sut: Any) -> None:
        self.sut, self.name, self.schema = sut, sut.name, sut.schema
        self.seen: set[int] = set()

    def feasible(self, p: dict[str, Any]) -> bool:
        return self.sut.feasible(p)

    def run(self, p: dict[str, Any]) -> dict[str, Any]:
        out = self.sut.run(p)
        self.seen.update(out["coverage_delta"]["buckets_hit"])
        return out


# ------------------------------------------------------------------ tasks (in workers)
_HB: Any = None


def _harness() -> Any:
    global _HB
    if _HB is None:
        _HB = inproc_quality.load_harness()
    return _HB


def run_task(task: tuple[Any, ...]) -> dict[str, Any]:
    ref, strategy, seed, budget, batch, generator = task
    sut, fail, _ = system_ref(ref)
    t0 = time.perf_counter()
    if strategy == "ceiling":
        seen = ceiling_buckets(sut)
        return {"task": list(task), "seen": sorted(seen), "wall_s": time.perf_counter() - t0}
    hb = _harness()
    hb.FAIL = fail
    rec = Recorder(sut)
    st = inproc_quality.make_strategy(hb, strategy, rec, seed, generator)
    r = hb.run_one(rec, st, budget, batch)
    r["seen"] = sorted(rec.seen)
    r["wall_s"] = time.perf_counter() - t0
    r["task"] = list(task)
    return r


def ceiling_buckets(sut: Any) -> set[int]:
    """Every bucket hit by heavy feasible sampling with the platform's samplers (as full_coverage.py)."""
    from optiloop.testopt.sampling.feasible import push_to_edges, sample_feasible
    from optiloop.testopt.space.schema import ConstraintDoc, build_space

    space = build_space([ConstraintDoc("space", "hard", 0.0, sut.schema)])
    rng = np.random.default_rng(12345)
    seen: set[int] = set()
    for mode, rounds in CEILING_ROUNDS.items():
        for _ in range(rounds):
            U = sample_feasible(space, 4000, rng, mode=mode)  # type: ignore[arg-type]
            if mode != "uniform":
                U = np.vstack([U, push_to_edges(space, U[:2000], rng, 2)])
            for p in space.to_dicts(space.decode(U)):
                seen.update(sut.run(p)["coverage_delta"]["buckets_hit"])
    return seen


# ------------------------------------------------------------------ cache
class Cache:
    def __init__(self, path: Path, refresh: bool) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        if path.exists() and not refresh:
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError):
                self.data = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def save(self) -> None:
        """Best effort: a cache that cannot be written (a full disk) costs a rerun, not the run."""
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.data, separators=(",", ":")))
            tmp.replace(self.path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            print(f"cache not saved: {e}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ statistics
def pct(xs: Sequence[float], q: float) -> float:
    return float(np.percentile(xs, q)) if xs else float("nan")


def gmean(xs: Sequence[float]) -> float:
    return math.exp(statistics.fmean(math.log(x) for x in xs)) if xs else float("nan")


def summarise(systems: list[dict[str, Any]], budget: int, strategies: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"systems": len(systems)}
    out["infeasible"] = {st: sum(s[st]["infeasible"] for s in systems) for st in strategies}
    rand = [s["random"]["buckets"] for s in systems]
    ceil = [s["ceiling"] for s in systems]
    head = [r / c for r, c in zip(rand, ceil, strict=True) if c]
    out["headroom_random_over_ceiling"] = {
        "min": min(head, default=float("nan")),
        "p10": pct(head, 10),
        "median": pct(head, 50),
        "p90": pct(head, 90),
        "max": max(head, default=float("nan")),
        "share_in_40_85": sum(0.40 <= h <= 0.85 for h in head) / max(len(head), 1),
    }
    if "sobol" in strategies:
        sob = [s["sobol"]["buckets"] / s["random"]["buckets"] for s in systems]
        out["sobol_over_random_median"] = pct(sob, 50)
    if "core" not in strategies:
        return out
    best = [
        s["core"]["buckets"] / max(s["random"]["buckets"], s.get("sobol", s["random"])["buckets"])
        for s in systems
    ]
    vs_r = [s["core"]["buckets"] / s["random"]["buckets"] for s in systems]
    at100 = [s["core"]["at100"] / s["random"]["at100"] for s in systems if s["random"]["at100"]]
    out["core_over_best"] = {
        "min": min(best),
        "p10": pct(best, 10),
        "median": pct(best, 50),
        "below_0.97": sum(b < 0.97 for b in best),
    }
    out["core_over_random"] = {"min": min(vs_r), "p10": pct(vs_r, 10), "median": pct(vs_r, 50)}
    sc, sr, sx = sum(s["core"]["buckets"] for s in systems), sum(rand), sum(ceil)
    out["gap_closed_pooled"] = (sc - sr) / (sx - sr) if sx > sr else float("nan")
    out["at100_core_over_random"] = {
        "median": pct(at100, 50),
        "pooled": sum(s["core"]["at100"] for s in systems)
        / max(sum(s["random"]["at100"] for s in systems), 1),
    }
    crit = [
        s["core"]["first_critical"] / s["random"]["first_critical"]
        for s in systems
        if min(s["core"]["first_critical"], s["random"]["first_critical"]) <= budget
    ]
    out["first_critical_core_over_random_gmean"] = gmean(crit)
    out["first_critical_systems"] = len(crit)
    worst = sorted(zip(best, systems, strict=True), key=lambda t: t[0])[:10]
    out["worst"] = [
        {
            "system": s["name"],
            "family": s["family"],
            "core_over_best": round(b, 3),
            "core": s["core"]["buckets"],
            "random": s["random"]["buckets"],
            "sobol": s.get("sobol", {}).get("buckets"),
            "ceiling": s["ceiling"],
        }
        for b, s in worst
    ]
    fam: dict[str, list[int]] = {}
    for i, s in enumerate(systems):
        fam.setdefault(s["family"], []).append(i)
    out["families"] = {
        f: {
            "systems": len(ix),
            "core_over_best": pct([best[i] for i in ix], 50),
            "core_over_random": pct([vs_r[i] for i in ix], 50),
            "random_over_ceiling": pct([rand[i] / ceil[i] for i in ix if ceil[i]], 50),
        }
        for f, ix in sorted(fam.items())
    }
    return out


def print_summary(name: str, s: dict[str, Any]) -> None:
    h = s["headroom_random_over_ceiling"]
    print(f"\n== {name}: {s['systems']} systems")
    if any(s["infeasible"].values()):
        print(f"  INFEASIBLE tests suggested (must be 0): {s['infeasible']}")
    print(
        f"  random/ceiling   min {h['min']:.3f}  p10 {h['p10']:.3f}  median {h['median']:.3f}  "
        f"p90 {h['p90']:.3f}  max {h['max']:.3f}  (in 0.40-0.85: {h['share_in_40_85']:.0%})"
    )
    if "sobol_over_random_median" in s:
        print(f"  sobol/random     median {s['sobol_over_random_median']:.3f}")
    if "core_over_best" not in s:
        return
    b, r, a = s["core_over_best"], s["core_over_random"], s["at100_core_over_random"]
    print(
        f"  core/best        min {b['min']:.3f}  p10 {b['p10']:.3f}  median {b['median']:.3f}  "
        f"below 0.97: {b['below_0.97']}"
    )
    print(f"  core/random      min {r['min']:.3f}  p10 {r['p10']:.3f}  median {r['median']:.3f}")
    print(f"  gap closed       {s['gap_closed_pooled']:.3f} (pooled)")
    print(f"  @100 core/random median {a['median']:.3f}  pooled {a['pooled']:.3f}")
    print(
        f"  first critical   core/random gmean {s['first_critical_core_over_random_gmean']:.3f} "
        f"over {s['first_critical_systems']} systems"
    )
    print("  worst:")
    for w in s["worst"]:
        print(
            f"    {w['system']:18s} {w['family']:18s} core/best {w['core_over_best']:.3f}  "
            f"core {w['core']:.1f} random {w['random']:.1f} sobol {w['sobol']} ceiling {w['ceiling']}"
        )
    print("  per family (medians): core/best  core/random  random/ceiling")
    for f, v in s["families"].items():
        print(
            f"    {f:18s} n={v['systems']:3d}  {v['core_over_best']:.3f}  {v['core_over_random']:.3f}  "
            f"{v['random_over_ceiling']:.3f}"
        )


# ------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="tune", choices=["tune", "heldout"])
    ap.add_argument("--count", type=int, default=None, help="only the first N systems of the split")
    ap.add_argument("--offset", type=int, default=0, help="skip the first N systems of the split")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--generator", default="hybrid", help="the core's generator (hybrid, coverage, bo, ...)")
    ap.add_argument("--strategies", default="random,sobol,core")
    ap.add_argument("--families", default="", help="only these families (comma-separated)")
    ap.add_argument("--suite-public", action="store_true", help="also the 8 hand-written SUTs")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every number to this file")
    ap.add_argument("--refresh", action="store_true", help="ignore cached baselines and ceilings")
    a = ap.parse_args(argv)
    strategies = [s for s in a.strategies.split(",") if s]
    if "random" not in strategies:
        strategies.insert(0, "random")  # every ratio is against random

    gen_h, harn_h = generator_hash(), harness_hash()
    fams = set(a.families.split(",")) - {""}
    seeds = [
        s
        for s in range(procedural.N_SEEDS)
        if procedural.split_of(s) == a.split and (not fams or procedural.family_of(s) in fams)
    ]
    seeds = seeds[a.offset :][: a.count]
    refs: list[tuple[str, tuple[str, str], str]] = []  # (set, ref, version hash)
    for s in seeds:
        refs.append((a.split, ("gen", str(s)), gen_h))
    if a.suite_public:
        for path in PUBLIC:
            h = _digest([path.read_bytes()])
            refs += [("public", (str(path), sut.name), h) for sut in _load_module(path).SUTS]
    names = {ref: (f"gen-{int(ref[1]):04d}" if ref[0] == "gen" else ref[1]) for _, ref, _ in refs}
    families = {ref: procedural.family_of(int(ref[1])) if ref[0] == "gen" else "public" for _, ref, _ in refs}

    cache = Cache(CACHE, a.refresh)

    def key(ref: tuple[str, str], h: str, strategy: str, seed: int) -> str:
        if strategy == "ceiling":
            return f"{names[ref]}|{h}|ceiling|{sum(CEILING_ROUNDS.values())}"
        return f"{names[ref]}|{h}|{harn_h}|{strategy}|{seed}|{a.budget}|{a.batch}"

    results: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {ref: {} for _, ref, _ in refs}
    ceilings: dict[tuple[str, str], set[int]] = {}
    todo: list[tuple[Any, ...]] = []
    for _, ref, h in refs:
        c = cache.get(key(ref, h, "ceiling", 0))
        if c is None:
            todo.append((ref, "ceiling", 0, a.budget, a.batch, a.generator))
        else:
            ceilings[ref] = set(c)
        for st in strategies:
            for seed in range(a.seeds):
                r = cache.get(key(ref, h, st, seed)) if st in CACHED_STRATEGIES else None
                if r is None:
                    todo.append((ref, st, seed, a.budget, a.batch, a.generator))
                else:
                    results[ref].setdefault(st, []).append(r)
    hashes = {ref: h for _, ref, h in refs}
    expected = 1 + len(strategies) * a.seeds
    done_count = {ref: (ref in ceilings) + sum(len(v) for v in results[ref].values()) for ref in hashes}
    print(
        f"{len(refs)} systems, {len(todo)} tasks to run ({a.jobs} jobs), "
        f"{len(refs) * expected - len(todo)} cached",
        flush=True,
    )

    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def finish(ref: tuple[str, str]) -> None:
        agg: dict[str, Any] = {"name": names[ref], "family": families[ref]}
        seen = set(ceilings[ref])
        for st in strategies:
            rs = results[ref][st]
            for r in rs:
                seen.update(r["seen"])
            agg[st] = {
                "buckets": statistics.fmean(r["buckets"] for r in rs),
                "at100": statistics.fmean(r["curve"].get("100", r["curve"].get(100, 0)) for r in rs),
                "first_critical": statistics.median(r["first_critical"] for r in rs),
                "fail_kinds": statistics.fmean(r["fail_kinds"] for r in rs),
                "infeasible": sum(r["infeasible"] for r in rs),
            }
        agg["ceiling"] = len(seen)
        rows[ref] = agg
        parts = "  ".join(f"{st} {agg[st]['buckets']:6.1f}" for st in strategies)
        extra = ""
        if "core" in strategies:
            best = max(agg["random"]["buckets"], agg.get("sobol", agg["random"])["buckets"])
            extra = f"  core/best {agg['core']['buckets'] / best:.3f}"
        crit = "  ".join(f"{st[0]}crit {agg[st]['first_critical']:g}" for st in strategies)
        bad = sum(agg[st]["infeasible"] for st in strategies)
        crit += f"  INFEASIBLE {bad}" if bad else ""
        print(
            f"{names[ref]:18s} {families[ref]:18s} {parts}  ceiling {agg['ceiling']:4d}  "
            f"random/ceil {agg['random']['buckets'] / max(agg['ceiling'], 1):.3f}{extra}  {crit}",
            flush=True,
        )

    for ref in hashes:
        if done_count[ref] == expected:
            finish(ref)

    t0 = time.perf_counter()
    if todo:
        pool = mp.get_context("fork").Pool(a.jobs) if a.jobs > 1 else None
        it = pool.imap_unordered(run_task, todo, chunksize=1) if pool else map(run_task, todo)
        try:
            for n, r in enumerate(it, 1):
                ref_l, st, seed = r["task"][0], r["task"][1], r["task"][2]
                ref = (ref_l[0], ref_l[1])
                if st == "ceiling":
                    ceilings[ref] = set(r["seen"])
                    cache.put(key(ref, hashes[ref], st, 0), r["seen"])
                else:
                    slim = {
                        k: r[k]
                        for k in (
                            "buckets",
                            "curve",
                            "first_critical",
                            "fail_kinds",
                            "dup_rate",
                            "infeasible",
                            "seen",
                            "wall_s",
                        )
                    }
                    slim["curve"] = {str(k): v for k, v in slim["curve"].items()}
                    results[ref].setdefault(st, []).append(slim)
                    if st in CACHED_STRATEGIES:
                        cache.put(key(ref, hashes[ref], st, seed), slim)
                done_count[ref] += 1
                if done_count[ref] == expected:
                    finish(ref)
                if n % 50 == 0:
                    cache.save()
        finally:
            cache.save()
            if pool:
                pool.close()
                pool.join()
    print(f"ran {len(todo)} tasks in {time.perf_counter() - t0:.0f}s", flush=True)

    report: dict[str, Any] = {
        "args": vars(a),
        "generator_hash": gen_h,
        "harness_hash": harn_h,
        "sets": {},
        "systems": {names[ref]: rows[ref] for _, ref, _ in refs},
    }
    for set_name in dict.fromkeys(s for s, _, _ in refs):
        sys_rows = [rows[ref] for s, ref, _ in refs if s == set_name]
        summary = summarise(sys_rows, a.budget, strategies)
        report["sets"][set_name] = summary
        print_summary(set_name, summary)
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
