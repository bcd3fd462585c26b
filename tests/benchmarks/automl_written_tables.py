"""The same table written two ways, through a running `optiloop serve`: plainly (UTF-8, commas,
plain numbers, ISO dates) and as people export it (a European spreadsheet's semicolons, decimal
commas and day-first dates in Windows-1252; US currency and 12-hour times; UCI's `?` and `-` for an
empty cell; a word in a numeric column; month names; a label on one row). Each table's target
depends on the columns such a file spells unusually, so a column the platform cannot read shows as
a worse held-out score, not only as a line in `excluded`.

Per table and way of writing: ingest (multipart upload), an experiment with a fixed trial budget
(reproducible: no clock), register the winner, deploy to staging, and predict the held-out rows
sent exactly as they sat in that file (strings for the exported file). Printed side by side: the
held-out score of each, the columns left out, and the types ingest gave. The goal is "as exported"
equal to "plain" on every table.

usage (a server running, its key exported; run by path):
    OPTILOOP_URL=http://127.0.0.1:8080 OPTILOOP_API_KEY=... OMP_NUM_THREADS=1 \\
        .venv/bin/python tests/benchmarks/automl_written_tables.py [--tables eu,us] [--trials 8]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import numpy as np

Row = dict[str, Any]  # one row's true values: floats, datetimes, strings, and the target


@dataclass(frozen=True)
class Written:
    """How one file writes a table: the separator, the encoding and each column's spelling."""

    sep: str
    encoding: str
    cell: Callable[[str, Any], str]  # (column, value) -> the cell's text


def _plain(_col: str, v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    return str(v)


PLAIN = Written(",", "utf-8", _plain)


def _eu_number(v: float, decimals: int = 2) -> str:
    s = f"{v:,.{decimals}f}"
    return s.replace(",", " ").replace(".", ",").replace(" ", ".")


# ---------------------------------------------------------------- the tables


def _eu(rng: random.Random, n: int) -> tuple[list[Row], Written, str]:
    rows = []
    start = datetime(2023, 1, 1)
    for _ in range(n):
        day = start + timedelta(days=rng.randrange(365))
        # rounded as the exported file writes them, so both files hold the same values
        umsatz, rabatt = round(rng.uniform(100, 5000), 2), round(rng.uniform(0, 30), 1)
        region = rng.choice(["Nord", "Süd", "Ost", "West"])
        logit = (
            (umsatz - 2500) / 600
            - (rabatt - 15) / 5
            + (1.5 if day.month in (11, 12) else 0)
            + rng.gauss(0, 1)
        )
        rows.append({"Datum": day, "Umsatz": umsatz, "Rabatt": rabatt, "Region": region,
                     "Kündigt": "ja" if logit > 0 else "nein"})  # fmt: skip

    def cell(col: str, v: Any) -> str:
        if col == "Datum":
            return v.strftime("%d.%m.%Y")
        if col == "Umsatz":
            return _eu_number(v) + " €"
        if col == "Rabatt":
            return _eu_number(v, 1) + " %"
        return str(v)

    return rows, Written(";", "cp1252", cell), "Kündigt"


def _us(rng: random.Random, n: int) -> tuple[list[Row], Written, str]:
    rows = []
    start = datetime(2024, 1, 1)
    for _ in range(n):
        at = start + timedelta(minutes=rng.randrange(60 * 24 * 90))
        price, share = round(rng.uniform(10, 20000), 2), round(rng.uniform(0, 100), 1)
        value = 0.01 * price + 3 * share + (40 if 9 <= at.hour < 17 else 0) + rng.gauss(0, 10)
        rows.append({"ordered": at, "price": price, "share": share, "value": value})

    def cell(col: str, v: Any) -> str:
        if col == "ordered":
            return f"{v.month}/{v.day}/{v.year} {v.strftime('%I:%M %p').lstrip('0')}"
        if col == "price":
            return f"${v:,.2f}"
        if col == "share":
            return f"{v:.1f}%"
        return _plain(col, v)

    return rows, Written(",", "utf-8", cell), "value"


def _uci(rng: random.Random, n: int) -> tuple[list[Row], Written, str]:
    rows = []
    for _ in range(n):
        a, b, c = rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1)
        y = int(a + b - c + rng.gauss(0, 0.7) > 0)
        rows.append({"a": None if rng.random() < 0.1 else a, "b": None if rng.random() < 0.1 else b,
                     "c": c, "class": y})  # fmt: skip
    marks = ["?", "-"]

    def cell(col: str, v: Any) -> str:
        return rng.choice(marks) if v is None else _plain(col, v)

    return rows, Written(",", "utf-8", cell), "class"


def _strays(rng: random.Random, n: int) -> tuple[list[Row], Written, str]:
    rows = []
    for _ in range(n):
        age, income = rng.uniform(18, 80), rng.uniform(1e4, 1.5e5)
        y = int((age - 45) / 10 + (income - 7e4) / 3e4 + rng.gauss(0, 0.8) > 0)
        rows.append({"age": None if rng.random() < 0.03 else age, "income": income, "bought": y})

    def cell(col: str, v: Any) -> str:
        if v is None:
            return rng.choice(["unknown", "n.k."])
        return _plain(col, v)

    return rows, Written(",", "utf-8", cell), "bought"


def _months(rng: random.Random, n: int) -> tuple[list[Row], Written, str]:
    rows = []
    for _ in range(n):
        month = datetime(rng.randrange(2015, 2024), rng.randrange(1, 13), 1)
        temp = rng.gauss(0, 1)
        demand = 100 + 30 * math.sin(2 * math.pi * month.month / 12) + 5 * temp + rng.gauss(0, 3)
        rows.append({"month": month, "temp": temp, "demand": demand})

    def cell(col: str, v: Any) -> str:
        return v.strftime("%b %Y") if col == "month" else _plain(col, v)

    return rows, Written(",", "utf-8", cell), "demand"


def _rare(rng: random.Random, n: int) -> tuple[list[Row], Written, str]:
    rows = []
    for k in range(n):
        x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
        label = "a" if x1 > 0.5 else ("b" if x2 > 0 else "c")
        rows.append({"x1": x1, "x2": x2, "kind": "typo" if k == 0 else label})
    return rows, Written(",", "utf-8", _plain), "kind"


TABLES: dict[str, Callable[[random.Random, int], tuple[list[Row], Written, str]]] = {
    "eu": _eu, "us": _us, "uci": _uci, "strays": _strays, "months": _months, "rare": _rare,
}  # fmt: skip


# ---------------------------------------------------------------- the flow


def _file(rows: list[Row], w: Written) -> bytes:
    """The CSV as a spreadsheet writes it: a cell holding the separator (`$1,234.50`) quoted."""
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=w.sep, lineterminator="\r\n")
    header = list(rows[0])
    out.writerow(header)
    for r in rows:
        out.writerow([w.cell(c, r[c]) for c in header])
    return buf.getvalue().encode(w.encoding)


def _instance(row: Row, w: Written, target: str) -> dict[str, Any]:
    return {c: w.cell(c, v) for c, v in row.items() if c != target}


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    def call(self, method: str, path: str, want: int, **kw: Any) -> Any:
        r = self.c.request(method, path, **kw)
        if r.status_code != want:
            raise RuntimeError(f"{method} {path}: HTTP {r.status_code} {r.text[:600]}")
        return r.json()


def run_one(api: Api, name: str, rows: list[Row], w: Written, target: str, trials: int) -> dict[str, Any]:
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    k = len(rows) // 5
    test = [rows[i] for i in order[:k] if rows[i][target] != "typo"]
    train = [rows[i] for i in order[k:]] + [rows[i] for i in order[:k] if rows[i][target] == "typo"]
    pid = api.call("POST", "/v1/projects", 201, json={"name": f"written-{name}-{random.randrange(10**6)}"})[
        "id"
    ]
    upload = {"file": (f"{name}.csv", _file(train, w), "text/csv")}
    ds = api.call("POST", "/v1/datasets/ingest", 201, files=upload, data={"project_id": pid, "name": name})
    regression = isinstance(rows[0][target], float)
    body = {"project_id": pid, "task_type": "regression" if regression else "classification",
            "objective": "rmse" if regression else "logloss", "dataset_id": ds["id"], "target": target,
            "config": {"cv": {"folds": 3, "seed": 0},
                       "hpo": {"trials": trials, "seed": 0, "warm_start": 0}}}  # fmt: skip
    exp = api.call("POST", "/v1/experiments", 201, json=body)
    eid = exp["experiment_id"]
    api.call("POST", f"/v1/experiments/{eid}/run", 202)
    while (done := api.call("GET", f"/v1/experiments/{eid}", 200))["status"] not in ("completed", "failed"):
        time.sleep(0.5)
    if done["status"] != "completed":
        raise RuntimeError(f"{name}: {done.get('error')}")
    top = api.call("GET", f"/v1/experiments/{eid}/leaderboard", 200)["trials"][0]
    model = api.call("POST", "/v1/models", 201, json={"project_id": pid, "name": f"written-{name}"})
    version = api.call("POST", f"/v1/models/{model['id']}/versions", 201, json={"trial_id": top["trial_id"]})
    dep = api.call(
        "POST", "/v1/deployments", 201, json={"model_version_id": version["id"], "environment": "staging"}
    )
    preds = api.call("POST", f"/v1/inference/{dep['id']}:predict", 200,
                     json={"instances": [_instance(r, w, target) for r in test]})["predictions"]  # fmt: skip
    truth = [r[target] for r in test]
    if regression:
        score = float(np.sqrt(np.mean([(p["value"] - t) ** 2 for p, t in zip(preds, truth, strict=True)])))
    else:
        probs = []
        for p, t in zip(preds, truth, strict=True):
            if "probabilities" in p:
                probs.append(p["probabilities"].get(str(t), 0.0))
            else:  # binary: score is the positive (second) class's probability
                positive = str(t) == str(p["label"]) if p["score"] >= 0.5 else str(t) != str(p["label"])
                probs.append(p["score"] if positive else 1 - p["score"])
        score = float(-np.mean(np.log(np.clip(probs, 1e-15, 1))))
    types = {c["name"]: c["type"] + (f" ({c['format']})" if c.get("format") else "") for c in ds["schema"]}
    return {"score": score, "metric": "rmse" if regression else "logloss", "excluded": done["excluded"],
            "types": types, "warnings": done.get("warnings") or [], "model": top["model"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    api = Api(os.environ.get("OPTILOOP_URL", "http://127.0.0.1:8080"), os.environ["OPTILOOP_API_KEY"])
    out: dict[str, Any] = {}
    print(
        "| table | metric | plain | as exported | left out (as exported) | types ingest gave (as exported) |"
    )
    print("|---|---|---:|---:|---|---|")
    for name in args.tables.split(","):
        rows, written, target = TABLES[name](random.Random(7), args.rows)
        res = {}
        for way, w in (("plain", PLAIN), ("exported", written)):
            try:
                res[way] = run_one(api, f"{name}-{way}", rows, w, target, args.trials)
            except Exception as e:  # a refused upload or a failed run is a result too
                res[way] = {
                    "score": math.nan,
                    "metric": "",
                    "excluded": {},
                    "types": {},
                    "error": str(e)[:300],
                }
        out[name] = res
        exp = res["exported"]
        left = ", ".join(f"{k}: {v}" for k, v in exp["excluded"].items()) or exp.get("error", "—")
        types = ", ".join(f"{k} {v}" for k, v in exp["types"].items() if k != target)
        metric = res["plain"]["metric"] or exp["metric"]
        print(
            f"| {name} | {metric} | {res['plain']['score']:.4f} | {exp['score']:.4f} | {left} | {types} |",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == "__main__":
    main()
