"""Selection rules replayed over the probe's dumps (tests/benchmarks/automl_selection_probe.py --dump):
for each table, each rule's pick per outer fold and the mean held-out score over the folds ± SE, beside
the `logreg` baseline (the same search restricted to the linear family).

`--first N` (or `fold:N,...`) keeps each search's first N trials only — what a shorter budget would
have run (the trials are sequential and seeded, so a search of N trials is the first N of a longer
one), without the ensemble (it is built from the whole search). That is how the issue's 60 s picks are
replayed at a trial budget: penguins' searches ran 22, 155, 25, 56 and 81 trials.

Rules: `one_se` and `best_mean` (optiloop.automl.selection, on the search's folds); `fresh_finalists`:
the one-SE rule on a fresh draw of the inner folds among each family's best, its best prior
configuration and the ensemble (evaluated for issue #10, not shipped: docs/benchmarks.md);
`fresh_all`: the same among every candidate.

usage: python tests/benchmarks/automl_selection_rules.py DUMP.json ... [--first 22 | --first 0:22,2:25]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from optiloop.automl.selection import Candidate, choose

Doc = dict[str, Any]


def candidates(rows: list[Doc], key: str) -> list[Candidate]:
    """Larger-better candidates scored by `key` ("folds": the search's, "fresh": the fresh draw's)."""
    out = []
    for r in rows:
        f = tuple(-v if v is not None else math.nan for v in r[key])
        out.append(Candidate(r["number"], r["family"], float(np.nanmean(f)), f, True, r["prior"]))
    return out


def finalists(rows: list[Doc]) -> list[Doc]:
    """Each family's best by the search's mean and its best prior configuration."""
    keep: dict[int, Doc] = {}
    for prior_only in (False, True):
        seen: set[str] = set()
        for r in sorted(rows, key=lambda r: (r["inner"], r["number"])):
            if r["family"] not in seen and (r["prior"] or not prior_only):
                seen.add(r["family"])
                keep[r["number"]] = r
    return list(keep.values())


def _pick(rows: list[Doc], key: str, rule: str, k: int) -> int:
    got = choose(candidates(rows, key), rule, k)
    assert got is not None
    return got.winner


RULES: dict[str, Callable[[Doc], int]] = {
    "one_se": lambda d: _pick(d["rows"], "folds", "one_se", d["k"]),
    "best_mean": lambda d: _pick(d["rows"], "folds", "best_mean", d["k"]),
    "fresh_finalists": lambda d: _pick(finalists(d["rows"]), "fresh", "one_se", d["k"]),
    "fresh_all": lambda d: _pick(d["rows"], "fresh", "one_se", d["k"]),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--first", default=None, help="N, or fold:N,... (the first N trials of each search)")
    args = ap.parse_args()
    first: dict[int, int] = {}
    if args.first and ":" in args.first:
        first = {int(a): int(b) for a, b in (p.split(":") for p in args.first.split(","))}
    by_table: dict[str, list[Doc]] = defaultdict(list)
    for path in args.dumps:
        with open(path) as f:
            d = json.load(f)
        n = first.get(d["fold"]) if first else (int(args.first) if args.first else None)
        if n:
            d["rows"] = [r for r in d["rows"] if r["number"] < n and r["family"] != "ensemble"]
        by_table[d["dataset"]].append(d)
    for table, docs in by_table.items():
        docs.sort(key=lambda d: d["fold"])
        lr = np.array([d["logreg"] for d in docs])
        print(f"{table}: outer folds {[d['fold'] for d in docs]}; logreg {lr.mean():.4f} ± {_se(lr):.4f}")
        for name, rule in RULES.items():
            held, picks = [], []
            for d in docs:
                w = rule(d)
                r = next(r for r in d["rows"] if r["number"] == w)
                held.append(r["held"])
                picks.append(f"{r['family']}#{w} {r['held']:.4f}")
            v = np.array(held)
            print(f"  {name:16} {v.mean():.4f} ± {_se(v):.4f}   {'; '.join(picks)}")


def _se(v: np.ndarray) -> float:
    return float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


if __name__ == "__main__":
    main()
