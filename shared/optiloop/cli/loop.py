"""`optiloop projects|constraints|suggest|ingest|coverage|export`: the loop from a shell, over the SDK.

These talk to a running server (`optiloop serve`, or a deployment), so they read what a client
needs: the URL (`--url`, $OPTILOOP_URL, default the address `serve` listens on) and a key
(`--api-key`, $OPTILOOP_API_KEY, else $OPTILOOP_ADMIN_TOKEN: the variable `serve` takes its first
admin key from, so one exported variable serves both). The data dir is the server's business.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO

from optiloop.client import OptiLoop
from optiloop.client.request import JSON

INGEST_CHUNK = 1000  # the API's limit of runs per request

RUN_COLUMNS = ("status", "failure_severity", "duration_ms", "cost_cents", "new_buckets", "ingested_at")
TEST_COLUMNS = (
    "id",
    "seq",
    "status",
    "generator",
    "operator",
    "score",
    "predicted_cost",
    "suggestion_id",
    "space_version",
    "created_at",
)


def client_for(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> OptiLoop:
    env = os.environ if env is None else env
    key = args.api_key or env.get("OPTILOOP_API_KEY") or env.get("OPTILOOP_ADMIN_TOKEN") or None
    return OptiLoop(args.url, key, env=env)


def run(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        command = args.command
        if command == "automl":
            from optiloop.cli import automl

            return automl.run(client, args)
        if command == "projects":
            return _projects(client, args)
        if command == "constraints":
            return _constraints(client, args)
        if command == "suggest":
            return _suggest(client, args)
        if command == "ingest":
            return _ingest(client, args)
        if command == "coverage":
            return _coverage(client, args)
        return _export(client, args)


def _print(value: Any, out: TextIO | None = None) -> None:
    print(json.dumps(value, indent=2, sort_keys=False), file=out or sys.stdout)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def _projects(client: OptiLoop, args: argparse.Namespace) -> int:
    if args.projects_command == "create":
        _print(client.projects.create(args.name, args.description, budget_cents=args.budget_cents))
    elif args.projects_command == "get":
        _print(client.projects.get(args.project_id))
    elif args.json:
        for p in client.projects.iter():
            print(json.dumps(p))
    else:
        projects = list(client.projects.iter())
        if not projects:
            print("no projects")
            return 0
        print(f"{'ID':<24} {'NAME':<30} {'BUDGET':>10} {'CREATED':<25} CREATED_BY")
        for p in projects:
            budget = "-" if p.get("budget_cents") is None else f"{p['budget_cents']:g}"
            print(f"{p['id']:<24} {p['name']:<30} {budget:>10} {p['created_at']:<25} {p['created_by']}")
    return 0


def _constraints(client: OptiLoop, args: argparse.Namespace) -> int:
    if args.constraints_command == "list":
        _print(client.constraints.list(args.project_id))
        return 0
    doc = json.loads(_read(args.file))
    if not isinstance(doc, dict):
        raise ValueError(f"{args.file}: expected a JSON object (a space or a constraint)")
    whole = "json_schema" in doc
    schema = doc["json_schema"] if whole else doc
    out = client.constraints.add(
        args.project_id,
        schema,
        name=args.name or (doc.get("name") if whole else None) or "base",
        type=args.type or (doc.get("type") if whole else None) or "hard",
        weight=args.weight if args.weight is not None else (doc.get("weight") if whole else None),
    )
    _print(out)
    return 0


def _suggest(client: OptiLoop, args: argparse.Namespace) -> int:
    out = client.tests.suggest(
        args.project_id,
        batch_size=args.batch_size,
        generator=args.generator,
        seed=args.seed,
        budget_cents=args.budget_cents,
    )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            _print(out, f)
        print(f"{len(out.get('tests', []))} tests written to {args.out}", file=sys.stderr)
    else:
        _print(out)
    return 0


def parse_runs(text: str, source: str = "runs") -> list[JSON]:
    """Runs from JSON (a list, or {"runs": [...]}) or JSON Lines; names the line of a bad one."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError:
        doc = None  # not one JSON document: JSON Lines
    else:
        if isinstance(doc, dict) and isinstance(doc.get("runs"), list):
            doc = doc["runs"]
        if isinstance(doc, dict):
            doc = [doc]  # a JSON Lines file of one run
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise ValueError(f'{source}: expected a list of runs, {{"runs": [...]}} or JSON Lines')
        return doc
    runs: list[JSON] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{source}, line {n}: not JSON ({e.msg})") from None
        if not isinstance(item, dict):
            raise ValueError(f"{source}, line {n}: a run is a JSON object")
        runs.append(item)
    return runs


def _chunks(items: Sequence[JSON], size: int) -> Iterator[Sequence[JSON]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ingest(client: OptiLoop, args: argparse.Namespace) -> int:
    runs = parse_runs(_read(args.file), args.file)
    if not runs:
        print(f"optiloop: no runs in {args.file}", file=sys.stderr)
        return 1
    total: JSON = {"accepted": 0, "duplicates": 0, "new_buckets": 0, "total_buckets": 0, "rejected": []}
    for offset, chunk in enumerate(_chunks(runs, INGEST_CHUNK)):
        out = client.runs.ingest(args.project_id, chunk)
        for k in ("accepted", "duplicates", "new_buckets"):
            total[k] += int(out.get(k, 0))
        total["total_buckets"] = out.get("total_buckets", total["total_buckets"])
        for r in out.get("rejected", []):  # indices of the whole file, not of the chunk
            total["rejected"].append({**r, "index": r.get("index", 0) + offset * INGEST_CHUNK})
    _print(total)
    return 1 if total["rejected"] else 0


def _coverage(client: OptiLoop, args: argparse.Namespace) -> int:
    if args.csv:
        sys.stdout.write(client.coverage.csv(args.project_id))
    else:
        _print(client.coverage.get(args.project_id))
    return 0


def export_rows(tests: Iterable[JSON]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the export: the test's fields, one column per param, the run's outcome."""
    rows: list[dict[str, Any]] = []
    params: set[str] = set()
    for t in tests:
        row: dict[str, Any] = {c: t.get(c) for c in TEST_COLUMNS}
        for name, value in (t.get("params") or {}).items():
            params.add(name)
            row[f"param.{name}"] = json.dumps(value) if isinstance(value, (dict, list)) else value
        run = t.get("run") or {}
        for c in RUN_COLUMNS:
            row[f"run.{c}"] = run.get(c)
        rows.append(row)
    columns = [*TEST_COLUMNS, *(f"param.{p}" for p in sorted(params)), *(f"run.{c}" for c in RUN_COLUMNS)]
    return columns, rows


def _export(client: OptiLoop, args: argparse.Namespace) -> int:
    columns, rows = export_rows(client.tests.iter(args.project_id, page_size=1000))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
        print(f"{len(rows)} tests written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(buf.getvalue())
    return 0
