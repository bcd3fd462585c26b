"""The measured REST flow on real mixed tables, scored on a held-out split.

For each table (tests/benchmarks/rtables.py): a seeded 80/20 split; the training rows uploaded as a CSV
(`POST /v1/datasets/ingest`, multipart), an experiment with a trial budget, run to completion, the
leaderboard's winner registered, deployed to staging and asked for the held-out rows through
`POST /v1/inference/{id}:predict` with `{"instances": [...]}` as a user sends them: the raw columns
as JSON numbers, strings and nulls (`--as-strings`: every value a string, as a CSV reader gives them,
empty for missing), the target and nothing else left out, and on a share of rows (`--perturb`) one
categorical value replaced by one training never saw and one value set to null.

Scored from the answers alone: binary AUC and logloss of `score` (the positive class's probability),
multiclass logloss and accuracy of `probabilities`, regression RMSE of `value` — next to the baseline
that knows nothing (the training prior / the training mean).

usage: OMP_NUM_THREADS=1 python tests/benchmarks/automl_rest_tables.py \
    [--tables credit_data,mlc_churn,ames,penguins] [--trials 12] [--folds 3] [--as-strings] [--perturb 0.1]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from fastapi.testclient import TestClient
from rtables import RTable, load, to_csv

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

TOKEN = "bench-admin-token-0123456789"
H = {"Authorization": f"Bearer {TOKEN}"}
UNSEEN = "a value training never saw"


def split(t: RTable, seed: int = 0, test: float = 0.2) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    order = list(range(len(t.rows)))
    random.Random(seed).shuffle(order)
    k = int(len(order) * test)
    return [t.rows[i] for i in order[k:]], [t.rows[i] for i in order[:k]]


def instances(
    t: RTable,
    rows: list[dict[str, Any]],
    types: dict[str, str],
    *,
    as_strings: bool,
    perturb: float,
    seed: int = 1,
) -> list[dict[str, Any]]:
    """The held-out rows as instances; an unseen value goes to a categorical column only (a boolean
    or a number that cannot be read is a 422 by design)."""
    rng = random.Random(seed)
    feats = [c for c in t.columns if c != t.target]
    strings = [c for c in feats if types.get(c) in ("categorical", "ordinal")]
    out = []
    for r in rows:
        inst = {c: r[c] for c in feats}
        if rng.random() < perturb and strings:
            inst[rng.choice(strings)] = UNSEEN
        if rng.random() < perturb:
            inst[rng.choice(feats)] = None
        if as_strings:
            inst = {c: "" if v is None else str(v) for c, v in inst.items()}
        out.append(inst)
    return out


def ok(r: Any, code: int, what: str) -> dict[str, Any]:
    if r.status_code != code:
        raise SystemExit(f"{what}: HTTP {r.status_code} {r.text[:2000]}")
    body: dict[str, Any] = r.json()
    return body


def wait(c: TestClient, exp_id: str, timeout: float) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = ok(c.get(f"/v1/experiments/{exp_id}", headers=H), 200, "experiment")
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.5)
    raise SystemExit(f"experiment {exp_id} did not finish in {timeout:.0f} s")


def score(
    t: RTable,
    classes: list[Any],
    train: list[dict[str, Any]],
    test: list[dict[str, Any]],
    preds: list[dict[str, Any]],
) -> dict[str, float]:
    truth = [r[t.target] for r in test]
    if t.task_type == "regression":
        y = np.array(truth, dtype=float)
        v = np.array([p["value"] for p in preds], dtype=float)
        mean = float(np.mean([r[t.target] for r in train]))
        return {
            "rmse": float(np.sqrt(np.mean((v - y) ** 2))),
            "rmse_mean": float(np.sqrt(np.mean((mean - y) ** 2))),
        }
    from sklearn.metrics import roc_auc_score

    def key(v: Any) -> str:  # a yes/no column is served as the booleans it was typed as
        s = str(v).strip().lower()
        return {"yes": "true", "no": "false", "t": "true", "f": "false"}.get(s, s)

    names = [key(c) for c in classes]
    y = np.array([names.index(key(v)) for v in truth])
    prior = np.bincount([names.index(key(r[t.target])) for r in train], minlength=len(names)) / len(train)
    if len(classes) == 2:
        p1 = np.clip(np.array([p["score"] for p in preds]), 1e-6, 1 - 1e-6)
        p = np.column_stack([1 - p1, p1])
        auc = float(roc_auc_score(y, p1))
    else:
        p = np.array([[p["probabilities"][str(c)] for c in classes] for p in preds]).clip(1e-6, 1)
        p = p / p.sum(axis=1, keepdims=True)
        auc = float("nan")
    ll = float(-np.mean(np.log(p[np.arange(y.size), y])))
    ll_prior = float(-np.mean(np.log(prior[y])))
    acc = float(np.mean([key(pr["label"]) == key(v) for pr, v in zip(preds, truth, strict=True)]))
    return {
        "auc": auc,
        "logloss": ll,
        "logloss_prior": ll_prior,
        "accuracy": acc,
        "accuracy_majority": float(np.mean(y == int(np.argmax(prior)))),
    }


def run_one(c: TestClient, t: RTable, args: argparse.Namespace) -> dict[str, Any]:
    train, test = split(t)
    t0 = time.perf_counter()
    pid = ok(
        c.post("/v1/projects", headers=H, json={"name": t.name, "description": "bench"}), 201, "project"
    )["id"]
    ds = ok(
        c.post(
            "/v1/datasets/ingest",
            headers=H,
            files={"file": (f"{t.name}.csv", to_csv(t.columns, train), "text/csv")},
            data={"project_id": pid, "name": t.name},
        ),
        201,
        "ingest",
    )
    types = {col["name"]: col["type"] for col in ds["schema"]}
    body = {
        "project_id": pid,
        "task_type": t.task_type,
        "dataset_id": ds["id"],
        "target": t.target,
        "objective": "rmse" if t.task_type == "regression" else "logloss",
        "config": {
            "cv": {"type": "kfold", "folds": args.folds, "seed": 0},
            "hpo": {"sampler": "tpe", "trials": args.trials, "early_stopping": "ASHA"},
            "budget_s": args.budget_s,
        },
    }
    exp = ok(c.post("/v1/experiments", headers=H, json=body), 201, "experiment")
    ok(c.post(f"/v1/experiments/{exp['experiment_id']}/run", headers=H), 202, "run")
    done = wait(c, exp["experiment_id"], args.budget_s * 3 + 600)
    if done["status"] != "completed":
        raise SystemExit(f"{t.name}: experiment {done['status']}: {done.get('error')}")
    board = ok(c.get(f"/v1/experiments/{exp['experiment_id']}/leaderboard", headers=H), 200, "leaderboard")
    best = board["trials"][0]
    model = ok(c.post("/v1/models", headers=H, json={"project_id": pid, "name": t.name}), 201, "model")
    version = ok(
        c.post(f"/v1/models/{model['id']}/versions", headers=H, json={"trial_id": best["trial_id"]}),
        201,
        "register",
    )
    dep = ok(
        c.post(
            "/v1/deployments", headers=H, json={"model_version_id": version["id"], "environment": "staging"}
        ),
        201,
        "deploy",
    )
    inst = instances(t, test, types, as_strings=args.as_strings, perturb=args.perturb)
    preds: list[dict[str, Any]] = []
    for k in range(0, len(inst), 200):  # 200 ames rows are ~0.5 MB, under the default 1 MiB body
        answer = ok(
            c.post(f"/v1/inference/{dep['id']}:predict", headers=H, json={"instances": inst[k : k + 200]}),
            200,
            "predict",
        )
        preds += answer["predictions"]
    classes = list((version.get("signature") or {}).get("classes", []))
    m = score(t, classes, train, test, preds)
    return {
        "table": t.name,
        "rows": len(train),
        "held_out": len(test),
        "winner": best["model"],
        "excluded": done.get("excluded"),
        "types": types,
        "seconds": time.perf_counter() - t0,
        **m,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", default="credit_data,mlc_churn,ames,penguins")
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--budget-s", type=float, default=600.0)
    ap.add_argument("--as-strings", action="store_true")
    ap.add_argument("--perturb", type=float, default=0.1)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    store, blobs = open_memory()
    settings = Settings(backend="memory", admin_token=TOKEN)  # the default limits a user's server has
    with TestClient(create_app(Deps(store=store, blobs=blobs), settings)) as c:
        for name in args.tables.split(","):
            r = run_one(c, load(name), args)
            if args.verbose:
                print(r["types"], r["excluded"])
            cells = " ".join(
                f"{k}={v:.4f}" for k, v in r.items() if isinstance(v, float) and not math.isnan(v)
            )
            print(
                f"{r['table']:12} rows={r['rows']} held_out={r['held_out']} winner={r['winner']} {cells}",
                flush=True,
            )


if __name__ == "__main__":
    main()
