"""`optiloop automl ingest|create|run|status|leaderboard|resume|cancel`: AutoML from a shell, over the SDK.

Like the loop commands, these drive a running server (`--url`, $OPTILOOP_URL; `--api-key`,
$OPTILOOP_API_KEY, else $OPTILOOP_ADMIN_TOKEN). `run` and `resume` follow the experiment until it
ends: a progress bar of trials on stderr (tqdm when the `cli` extra is installed, else a line per
change), then the leaderboard as a table on stdout — so `optiloop automl run ... > board.txt` keeps
only the table. `--no-wait` returns at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # building the parser imports no HTTP client
    from optiloop.client import OptiLoop

FINAL = ("completed", "failed", "cancelled")
POLL_S = 1.0
METRIC_COLUMNS = 3  # the objective first, then this many more of the trial's metrics


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], server_args: Any) -> None:
    a = sub.add_parser("automl", help="tables, experiments and leaderboards on a running server")
    s = a.add_subparsers(dest="automl_command", required=True, metavar="ACTION")
    i = s.add_parser("ingest", help="upload a table (CSV, JSON Lines, Parquet) and print the dataset")
    i.add_argument("project_id")
    i.add_argument("file")
    i.add_argument("--name", default=None, help="default: the file's name")
    c = s.add_parser("create", help="create an experiment (the seed's body) and print it")
    c.add_argument("--project", required=True, dest="project_id")
    c.add_argument("--dataset", required=True, dest="dataset_id")
    c.add_argument("--target", required=True)
    c.add_argument(
        "--task-type", default="classification", choices=["classification", "regression", "forecasting"]
    )
    c.add_argument(
        "--objective",
        default=None,
        help="default: auc (classification), rmse (regression), mase (forecasting)",
    )
    c.add_argument("--time-column", default=None, help="forecasting: the column that orders the rows")
    c.add_argument("--horizon", type=int, default=None, help="forecasting: steps ahead")
    c.add_argument("--season-length", type=int, default=None, help="forecasting: the seasonal period")
    c.add_argument("--series-id", default=None, help="forecasting: the column telling several series apart")
    c.add_argument("--trials", type=int, default=None)
    c.add_argument("--budget-s", type=float, default=None, help="wall-clock seconds for the search")
    c.add_argument(
        "--budget-cpu-s", type=float, default=None, help="CPU-seconds the trials may spend (load-independent)"
    )
    c.add_argument("--folds", type=int, default=None)
    c.add_argument("--seed", type=int, default=None)
    c.add_argument("--models", default=None, help="comma-separated families (default: all)")
    c.add_argument("--config", default=None, help="a JSON file with the whole `config` object")
    r = s.add_parser("run", help="run an experiment, show its trials as they come, then the leaderboard")
    rs = s.add_parser("resume", help="resume a cancelled, failed or interrupted experiment")
    for p in (r, rs):
        p.add_argument("experiment_id")
        p.add_argument("--no-wait", action="store_true", help="return once queued")
        p.add_argument("--limit", type=int, default=10, help="leaderboard rows to show")
    st = s.add_parser("status", help="an experiment's status, progress and best trial (JSON)")
    st.add_argument("experiment_id")
    lb = s.add_parser("leaderboard", help="completed trials, best first, as a table (or --json)")
    lb.add_argument("experiment_id")
    lb.add_argument("--limit", type=int, default=20)
    lb.add_argument("--json", action="store_true")
    ca = s.add_parser("cancel", help="ask a queued or running experiment to stop")
    ca.add_argument("experiment_id")
    for p in (i, c, r, rs, st, lb, ca):
        server_args(p)


def run(client: OptiLoop, args: argparse.Namespace) -> int:
    cmd = args.automl_command
    if cmd == "ingest":
        path = Path(args.file)
        _print(
            client.tables.ingest(
                args.project_id, args.name or path.name, path.read_bytes(), filename=path.name
            )
        )
        return 0
    if cmd == "create":
        _print(client.experiments.create(**_create_body(args)))
        return 0
    if cmd in ("run", "resume"):
        started = (client.experiments.run if cmd == "run" else client.experiments.resume)(args.experiment_id)
        if args.no_wait:
            _print(started)
            return 0
        exp = follow(client, args.experiment_id)
        print(table(client.experiments.leaderboard(args.experiment_id, limit=args.limit)))
        if exp["status"] != "completed":
            print(f"optiloop: experiment {exp['status']}: {exp.get('error') or ''}".rstrip(), file=sys.stderr)
            return 1
        return 0
    if cmd == "status":
        exp = client.experiments.get(args.experiment_id)
        keys = ("experiment_id", "status", "metric", "direction", "progress", "best", "error", "warm_start")
        _print({k: exp.get(k) for k in keys})
        return 0
    if cmd == "leaderboard":
        board = client.experiments.leaderboard(args.experiment_id, limit=args.limit)
        if args.json:
            _print(board)
        else:
            print(table(board))
        return 0
    _print(client.experiments.cancel(args.experiment_id))
    return 0


def _create_body(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
        if not isinstance(config, dict):
            raise ValueError(f"{args.config}: the config must be a JSON object")
    if args.trials is not None:
        config.setdefault("hpo", {})["trials"] = args.trials
    if args.folds is not None or args.seed is not None:
        cv = config.setdefault("cv", {})
        if args.folds is not None:
            cv["folds"] = args.folds
        if args.seed is not None:
            cv["seed"] = args.seed
    if args.budget_s is not None:
        config["budget_s"] = args.budget_s
    if args.budget_cpu_s is not None:
        config["budget_cpu_s"] = args.budget_cpu_s
    if args.models:
        config["models"] = [m.strip() for m in args.models.split(",") if m.strip()]
    for key in ("time_column", "horizon", "season_length", "series_id"):
        if getattr(args, key, None) is not None:
            config[key] = getattr(args, key)
    default = {"classification": "auc", "forecasting": "mase"}.get(args.task_type, "rmse")
    return {
        "project_id": args.project_id,
        "task_type": args.task_type,
        "objective": args.objective or default,
        "dataset_id": args.dataset_id,
        "target": args.target,
        "config": config or None,
    }


def follow(client: OptiLoop, experiment_id: str, poll_s: float = POLL_S) -> dict[str, Any]:
    """Poll until the experiment ends, showing trials done of the budget on stderr."""
    bar = _bar()
    shown = -1
    while True:
        exp = client.experiments.get(experiment_id)
        progress = exp.get("progress") or {}
        done, total = int(progress.get("trials_done") or 0), int(progress.get("trials_total") or 0)
        if done != shown:
            best = exp.get("best") or {}
            score = (best.get("metrics") or {}).get(exp.get("metric", ""))
            note = f"best {best.get('model')} {exp.get('metric')}={score:.4g}" if score is not None else ""
            bar(done, total, note)
            shown = done
        if exp["status"] in FINAL:
            bar(done, total, None)
            return dict(exp)
        time.sleep(poll_s)


def _bar() -> Any:
    """tqdm when installed (the `cli` extra), else a plain line per change."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the cli and dev extras

        def plain(done: int, total: int, note: str | None) -> None:
            if note is not None:
                print(f"trials {done}/{total} {note}", file=sys.stderr, flush=True)

        return plain
    state: dict[str, Any] = {"bar": None}

    def update(done: int, total: int, note: str | None) -> None:
        if state["bar"] is None:
            state["bar"] = tqdm(total=total or None, unit="trial", file=sys.stderr, leave=True)
        bar = state["bar"]
        if note is None:
            bar.close()
            return
        bar.update(done - bar.n)
        bar.set_postfix_str(note)

    return update


def table(board: dict[str, Any]) -> str:
    """The leaderboard as aligned text: rank, trial, model, the objective and a few more metrics."""
    trials = board.get("trials") or []
    metric = board.get("metric", "")
    if not trials:
        return f"no completed trial yet (status {board.get('status')})"
    others = [k for k in trials[0]["metrics"] if k != metric and "." not in k and not k.endswith("_std")]
    cols = [metric, *others[:METRIC_COLUMNS]]
    head = ["rank", "trial", "model", *cols]
    rows = [
        [str(t.get("rank", k + 1)), t["trial_id"], t["model"], *(_fmt(t["metrics"].get(c)) for c in cols)]
        for k, t in enumerate(trials)
    ]
    widths = [max(len(r[j]) for r in [head, *rows]) for j in range(len(head))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]
    reason = (board.get("selection") or {}).get("reason")
    if reason:  # why the first row wins (config.selection: it need not have the best mean)
        lines += ["", f"winner: {reason}"]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2))
