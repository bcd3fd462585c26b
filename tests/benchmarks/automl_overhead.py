"""What an AutoML trial costs beyond its fit, and how fast an experiment's leaderboard answers
(issue 10's floors: platform overhead per trial < 100 ms; leaderboard p95 < 250 ms).

    OMP_NUM_THREADS=1 python tests/benchmarks/automl_overhead.py [--trials 40] [--many 300] [--rows 20000]

Everything runs as a user's `optiloop serve` does on its embedded defaults: SQLite and a local folder
(`open_local` in a temporary directory), the app on a real uvicorn server, the experiment's search in
the server's own worker thread (the bounded local pool), driven over HTTP: a CSV ingested through
`POST /v1/datasets/ingest`, `POST /v1/experiments`, `.../run`, polled to its end.

**Per trial.** The search is timed from inside the worker by wrapping, never changing, what it calls:
every model's `fit` and `predict_outputs` (the fit: training the configuration and scoring its
validation folds — the model's own work, on the folds and on the final refit) and the platform's
parts around them — `export` (building the served artifact, loading it back and proving it predicts
what the model does, its cost), `score` (the metrics), `record` (writing the trial, its artifact and
lineage, and the experiment's progress and best). A trial's window runs from the end of the previous
trial's record to the end of its own, so the sampler (Optuna's TPE over every earlier trial), pruning
and the selection rule's running best are in it; overhead = window - fit. The ensemble, built once
at the end from the trials' out-of-fold outputs, is shown apart, as are the once-per-experiment
parts (loading and preparing the table before the first trial; the report after the last).

Three experiments: `breast_cancer` (569 rows, every family, `--trials`), `many` (wine, 178 rows
and so 3 repeated CV draws, logistic regression only, `--many` trials: what a long history costs the
sampler and the store) and `rows` (`--rows` synthetic rows, logistic regression: what scoring and
export cost as the table grows).

**Leaderboard.** `GET /v1/experiments/{id}/leaderboard` over HTTP for the `many` experiment (a few
hundred trials): sampled every 0.25 s while its search runs in the same process (what a user watching
it fill sees, the GIL shared with the search), then `--requests` times once it has completed; then
copies of it scaled to `--scaled` trials, all completed (the ranking's worst case), once finished
(its ranking stored, as a completed run stores it: the first request reads that snapshot) and once
still running with a trial recorded before every request (the ranking kept per process takes in
only what was recorded since: optiloop.automl.board_cache; its first request reads every row).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx
import numpy as np

TOKEN = "bench-admin-token-0123456789"
H = {"Authorization": f"Bearer {TOKEN}"}
MODEL, EXPORT, SCORE, RECORD = "fit", "export", "score", "record"


class Clock:
    """Exclusive wall time per part: a part's time excludes the parts nested in it (the refit's fit
    is `fit`, not `export`). Only the worker thread enters parts."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list[Any]] = []

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        self._stack.append([name, 0.0])
        try:
            yield
        finally:
            _, nested = self._stack.pop()
            dt = time.perf_counter() - t0
            self.totals[name] += dt - nested
            if self._stack:
                self._stack[-1][1] += dt

    def timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **kw: Any) -> Any:
            with self.part(name):
                return fn(*a, **kw)

        return wrapper


class Recorder:
    """One row per trial: its window, and each part's share of it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.trials: list[dict[str, Any]] = []
        self.marks: dict[str, float] = {}
        self._last = 0.0
        self._seen: dict[str, float] = {}

    def start_search(self) -> None:
        self._last = self.marks["search_start"] = time.perf_counter()
        self._seen = dict(self.clock.totals)

    def trial_done(self, family: str, status: str) -> None:
        now = time.perf_counter()
        parts = {k: v - self._seen.get(k, 0.0) for k, v in self.clock.totals.items()}
        self.trials.append({"family": family, "status": status, "window": now - self._last, **parts})
        self._last, self._seen = now, dict(self.clock.totals)


def instrument(rec: Recorder) -> None:
    """Wrap the search's model calls and the platform's parts (in the worker's modules, as they are
    looked up at call time)."""
    from optiloop.automl import run
    from optiloop.automl.search import metrics as mx
    from optiloop.automl.search import portfolio, runner

    clock = rec.clock

    def timed_build(build: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(params: dict[str, Any], ctx: Any) -> Any:
            model = build(params, ctx)
            model.fit = clock.timed(MODEL, model.fit)
            model.predict_outputs = clock.timed(MODEL, model.predict_outputs)
            return model

        return wrapper

    for name, fam in list(portfolio.FAMILIES.items()):
        portfolio.FAMILIES[name] = replace(fam, build=timed_build(fam.build))
    runner._refit_and_export = clock.timed(EXPORT, runner._refit_and_export)
    mx.compute = clock.timed(SCORE, mx.compute)
    search = runner.search

    def timed_search(*a: Any, on_trial: Callable[[Any], None] | None = None, **kw: Any) -> Any:
        def on(r: Any) -> None:
            with clock.part(RECORD):
                if on_trial is not None:
                    on_trial(r)
            rec.trial_done(r.family, r.status)

        rec.start_search()
        try:
            return search(*a, on_trial=on, **kw)
        finally:
            rec.marks["search_end"] = time.perf_counter()

    runner.search = timed_search
    execute = run.execute

    def timed_execute(*a: Any, **kw: Any) -> Any:
        rec.marks["execute_start"] = time.perf_counter()
        try:
            return execute(*a, **kw)
        finally:
            rec.marks["execute_end"] = time.perf_counter()

    run.execute = timed_execute


def serve(deps: Any, settings: Any) -> str:
    import uvicorn

    from optiloop.api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(deps, settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def to_csv(names: list[str], x: np.ndarray, y: np.ndarray) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*names, "target"])
    for row, label in zip(x, y, strict=True):
        w.writerow([*(f"{v:.6g}" for v in row), f"c{label}"])
    return buf.getvalue().encode()


def tables(rows: int) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_breast_cancer, load_wine, make_classification

    bc, wine = load_breast_cancer(), load_wine()
    xs, ys = make_classification(n_samples=rows, n_features=20, n_informative=8, random_state=0)
    return {
        "breast_cancer": ([f"f{i}" for i in range(bc.data.shape[1])], bc.data, bc.target),
        "many": ([f"f{i}" for i in range(wine.data.shape[1])], wine.data, wine.target),
        "rows": ([f"f{i}" for i in range(xs.shape[1])], xs, ys),
    }


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_experiment(
    c: httpx.Client,
    rec: Recorder,
    pid: str,
    name: str,
    table: tuple[list[str], np.ndarray, np.ndarray],
    trials: int,
    models: list[str] | None,
    watch: str | None = None,
) -> tuple[str, list[float]]:
    """Ingest, create, run to the end; the experiment's id and, when `watch`, the leaderboard's
    latencies (ms) sampled while the search ran."""
    names, x, y = table
    ds = c.post(
        "/v1/datasets/ingest",
        files={"file": (f"{name}.csv", to_csv(names, x, y), "text/csv")},
        data={"project_id": pid, "name": name},
    )
    assert ds.status_code == 201, ds.text
    config: dict[str, Any] = {"cv": {"folds": 5, "seed": 0}, "hpo": {"trials": trials, "seed": 0}}
    if models:
        config["models"] = models
    body = {"project_id": pid, "task_type": "classification", "objective": "logloss",
            "dataset_id": ds.json()["id"], "target": "target", "config": config}  # fmt: skip
    r = c.post("/v1/experiments", json=body)
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    rec.trials.clear()
    assert c.post(f"/v1/experiments/{exp_id}/run").status_code == 202
    during: list[float] = []
    while True:
        status = c.get(f"/v1/experiments/{exp_id}").json()["status"]
        if status in ("completed", "failed", "cancelled"):
            break
        if watch:
            t0 = time.perf_counter()
            assert c.get(f"/v1/experiments/{exp_id}/leaderboard").status_code == 200
            during.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.25)
    assert status == "completed", c.get(f"/v1/experiments/{exp_id}").json().get("error")
    while "execute_end" not in rec.marks or rec.marks["execute_end"] < rec.marks["execute_start"]:
        time.sleep(0.01)  # the worker returns just after the status it wrote
    return exp_id, during


def board_latency(
    c: httpx.Client, exp_id: str, requests: int, what: str, arrive: Callable[[], None] | None = None
) -> list[float]:
    """The first GET of the leaderboard (the whole ranking read, then kept: optiloop.automl.board_cache),
    4 more to warm up, then `requests` timed, `arrive()` (a trial recorded, untimed) before each
    request after the first; latencies in ms, printed."""
    t0 = time.perf_counter()
    c.get(f"/v1/experiments/{exp_id}/leaderboard").raise_for_status()
    first = (time.perf_counter() - t0) * 1000
    for _ in range(4):
        if arrive is not None:
            arrive()
        c.get(f"/v1/experiments/{exp_id}/leaderboard").raise_for_status()
    lat = []
    for _ in range(requests):
        if arrive is not None:
            arrive()
        t0 = time.perf_counter()
        r = c.get(f"/v1/experiments/{exp_id}/leaderboard")
        lat.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
    body = r.json()
    from optiloop.automl import board_cache

    cold = []  # as a process that has not read it: the kept rankings dropped (the server is in-process)
    for _ in range(5):
        board_cache._kept.clear()
        board_cache._snapshots.clear()
        t0 = time.perf_counter()
        c.get(f"/v1/experiments/{exp_id}/leaderboard").raise_for_status()
        cold.append((time.perf_counter() - t0) * 1000)
    listed, kb = len(body["trials"]), len(r.content) / 1024
    print(f"leaderboard of {what} ({body['status']}), {listed} listed ({kb:.0f} KB), over HTTP:")
    print(f"  first {first:.1f} ms; then n={len(lat)}: p50 {pct(lat, 50):.1f}  p95 {pct(lat, 95):.1f}  "
          f"p99 {pct(lat, 99):.1f} ms")  # fmt: skip
    print(f"  cold again (nothing kept, x5): median {statistics.median(cold):.1f} ms")
    return lat


def scaled_copy(
    deps: Any, exp_id: str, n: int, status: str, later: int = 0
) -> tuple[str, Callable[[], None]]:
    """A copy of a finished experiment with `n` trials, every one completed (the worst case for the
    ranking: nothing pruned): its real completed trial documents (and rows) repeated in order,
    renumbered, with their scores spread by a seeded factor in [0.9, 1.1] so the ranking has work
    to do — what the leaderboard reads for an experiment as long as the API allows (10,000 trials).
    The last `later` are not written at once: each call of the function returned records the next,
    in its own transaction, as the worker records a trial."""
    from optiloop.automl import experiments, trial_rows
    from optiloop.store.records import Doc

    store = deps.store
    exp = store.docs.get(experiments.KIND, exp_id)
    copy_id = f"{exp_id}_x{n}_{status}"
    data = {k: v for k, v in exp.data.items() if k != experiments.SNAPSHOT_FIELD} | {
        "id": copy_id,
        "status": status,
    }
    store.docs.create(replace(exp, id=copy_id, data=data, rev=0))
    trials = [d.data for d in store.docs.list(experiments.TRIAL, exp_id, limit=10_000)]
    real = [t for t in trials if t["status"] == "completed"]  # the worst case: no trial pruned
    rng = np.random.default_rng(0)
    made = iter(range(n))

    def record() -> None:
        k = next(made)
        t, f = real[k % len(real)], float(rng.uniform(0.9, 1.1))
        trial_id = f"trial_{copy_id}_{k}"
        metrics = {m: (v * f if isinstance(v, float) else v) for m, v in t["metrics"].items()}
        folds = [v * f if isinstance(v, float) else v for v in t.get("fold_scores") or []]
        row = {**t, "trial_id": trial_id, "id": trial_id, "experiment_id": copy_id, "number": k,
               "metrics": metrics, "fold_scores": folds}  # fmt: skip
        with store.transaction():
            store.docs.create(
                Doc(kind=experiments.TRIAL, id=trial_id, scope=copy_id, sort=f"{k:06d}", data=row)
            )
            trial_rows.put(deps, row, exp.data["metric"])  # as the worker records a trial

    with store.transaction():
        for _ in range(n - later):
            record()
    if status == "completed":  # as a finished run leaves it: its ranking stored (snapshot_ranking)
        experiments.update(
            deps, copy_id, **{experiments.SNAPSHOT_FIELD: experiments.snapshot_ranking(deps, data)}
        )
    return copy_id, record


def best_so_far(n: int) -> None:
    """The local run asks for its best trial after every trial: in process, at `n` completed
    synthetic trials (five folds, three families), ranking every trial afresh (what it did) beside
    adding the new trial to the run's board (optiloop.automl.ranking.Board, what it does)."""
    import random

    from optiloop.automl import ranking

    exp = {
        "metric": "logloss",
        "direction": "minimize",
        "config": {"cv": {"folds": 5}, "selection": "one_se"},
    }
    rng = random.Random(0)
    trials = []
    for k in range(n):
        folds = [0.05 * rng.uniform(0.9, 1.1) for _ in range(5)]
        family = rng.choice(["linear", "xgboost", "mlp"])
        cost = {"latency_ms_p95": rng.uniform(0.05, 0.2)}
        metrics = {"logloss": sum(folds) / 5}
        trials.append({"trial_id": f"t{k}", "number": k, "status": "completed", "model": "m",
                       "family": family, "metrics": metrics, "cost": cost, "fold_scores": folds})  # fmt: skip
    last = 100
    board = ranking.Board(exp).add(trials[: n - last])
    afresh, added = [], []
    for k in range(n - last, n):
        t0 = time.perf_counter()
        board.add([trials[k]]).ranked(1)
        added.append((time.perf_counter() - t0) * 1000)
        if k % 10 == 0:
            t0 = time.perf_counter()
            ranking.ranked(exp, trials[: k + 1])
            afresh.append((time.perf_counter() - t0) * 1000)
    print(f"best so far after each trial, in process, at {n} completed trials: ranking all afresh p50 "
          f"{pct(afresh, 50):.1f} ms; adding the trial to the run's board p50 {pct(added, 50):.2f}  "
          f"p95 {pct(added, 95):.2f} ms")  # fmt: skip


def report(name: str, rec: Recorder) -> dict[str, float]:
    ms = 1000.0
    trials = [t for t in rec.trials if t["family"] != "ensemble"]
    ens = [t for t in rec.trials if t["family"] == "ensemble"]
    over = [(t["window"] - t.get(MODEL, 0.0)) * ms for t in trials]
    fit = [t.get(MODEL, 0.0) * ms for t in trials]
    by_status: dict[str, int] = defaultdict(int)
    for t in trials:
        by_status[t["status"]] += 1
    parts = {p: statistics.fmean(t.get(p, 0.0) * ms for t in trials) for p in (EXPORT, SCORE, RECORD)}
    rest = statistics.fmean(over) - sum(parts.values())
    m = rec.marks
    setup = (m["search_start"] - m["execute_start"]) * ms
    finish = (m["execute_end"] - m["search_end"]) * ms
    print(f"{name:14} trials {len(trials):4} ({', '.join(f'{k} {v}' for k, v in sorted(by_status.items()))})")
    print(
        f"{'':14} fit per trial: median {statistics.median(fit):8.1f} ms   "
        f"overhead per trial: median {statistics.median(over):6.1f}  mean {statistics.fmean(over):6.1f}  "
        f"p95 {pct(over, 95):6.1f}  max {max(over):6.1f} ms"
    )
    print(
        f"{'':14} overhead, mean by part: export {parts[EXPORT]:5.1f}  score {parts[SCORE]:5.1f}  "
        f"record {parts[RECORD]:5.1f}  sampler+rest {rest:5.1f} ms"
    )
    fams = sorted({t["family"] for t in trials})
    if len(fams) > 1:
        cells = []
        for f in fams:
            mine = [t for t in trials if t["family"] == f]
            med = statistics.median((t["window"] - t.get(MODEL, 0.0)) * ms for t in mine)
            export = statistics.fmean(t.get(EXPORT, 0.0) * ms for t in mine)
            cells.append(f"{f} {med:.1f} (export {export:.1f})")
        print(f"{'':14} overhead, median by family (mean export): " + "  ".join(cells))
    if len(over) >= 20:
        q = len(over) // 4
        print(
            f"{'':14} overhead by history: first quarter median {statistics.median(over[:q]):6.1f}  "
            f"last quarter median {statistics.median(over[-q:]):6.1f} ms"
        )
    for t in ens:
        print(
            f"{'':14} ensemble (once): {t['window'] * ms:7.1f} ms, of which fit "
            f"{t.get(MODEL, 0.0) * ms:6.1f}, export {t.get(EXPORT, 0.0) * ms:6.1f}"
        )
    print(f"{'':14} once per experiment: before the first trial {setup:.1f} ms, after the last {finish:.1f}")
    return {"p95": pct(over, 95), "median": statistics.median(over)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=40, help="breast_cancer, every family")
    ap.add_argument("--many", type=int, default=300, help="wine, logistic regression: the leaderboard's")
    ap.add_argument("--rows", type=int, default=20_000, help="the synthetic table's rows")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--scaled", type=lambda v: [int(n) for n in v.split(",") if n], default=[1000, 10_000],
                    help="leaderboards of copies of the `many` experiment this long")  # fmt: skip
    args = ap.parse_args()
    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.store.factory import open_local

    clock = Clock()
    rec = Recorder(clock)
    instrument(rec)
    data = tables(args.rows)
    with tempfile.TemporaryDirectory(prefix="optiloop-bench-") as tmp:
        store, blobs = open_local(tmp)
        settings = Settings(backend="local", admin_token=TOKEN, rate_limit_rps=1e6, rate_limit_burst=10**7)
        deps = Deps(store=store, blobs=blobs)
        base = serve(deps, settings)
        with httpx.Client(base_url=base, headers=H, timeout=600) as c:
            pid = c.post("/v1/projects", json={"name": "overhead", "description": ""}).json()["id"]
            print(f"AutoML platform overhead per trial (SQLite + local folder, uvicorn, worker thread), "
                  f"{os.cpu_count()} cores, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")  # fmt: skip
            # the process's first experiment imports xgboost, torch, onnx, ... in its first trial of
            # each family: once per server process, shown apart from the steady state measured next
            run_experiment(c, rec, pid, "cold", data["breast_cancer"], 8, None)
            report("cold start", rec)
            worst = []
            run_experiment(c, rec, pid, "breast_cancer", data["breast_cancer"], args.trials, None)
            worst.append(report("breast_cancer", rec))
            run_experiment(c, rec, pid, "rows", data["rows"], 20, ["logistic_regression"])
            worst.append(report(f"rows={args.rows}", rec))
            many, during = run_experiment(
                c, rec, pid, "many", data["many"], args.many, ["logistic_regression"], watch="leaderboard"
            )
            worst.append(report("many", rec))
            idle = board_latency(c, many, args.requests, f"{args.many} trials")
            print(f"  while its search ran n={len(during)}: p50 {pct(during, 50):.1f}  "
                  f"p95 {pct(during, 95):.1f}  max {max(during, default=float('nan')):.1f} ms")  # fmt: skip
            boards = {f"{args.many} finished": pct(idle, 95), f"{args.many} while searching": pct(during, 95)}
            for n in args.scaled:  # finished, and running with a trial recorded before each request
                for status in ("completed", "running"):
                    later = args.requests + 4 if status == "running" else 0
                    scaled, record = scaled_copy(deps, many, n, status, later)
                    arrive = record if later else None
                    what = f"{n} trials (scaled copy{', one recorded before each request' if later else ''})"
                    lat = board_latency(c, scaled, args.requests, what, arrive)
                    boards[f"{n} {'finished' if status == 'completed' else status}"] = pct(lat, 95)
    best_so_far(max(args.scaled, default=10_000))
    p95 = max(w["p95"] for w in worst)
    over = [f"{k} trials ({v:.0f} ms)" for k, v in boards.items() if not v < 250]
    print(
        f"floors: overhead per trial < 100 ms: worst p95 {p95:.1f} ms, "
        f"{'met' if p95 < 100 else 'NOT met'}; leaderboard p95 < 250 ms: "
        + ("met in every case" if not over else "NOT met for " + ", ".join(over))
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
