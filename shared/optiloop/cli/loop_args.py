"""Arguments of the commands that drive a running server through the SDK: projects, constraints,
suggest, ingest, coverage, export. Kept apart from their code so that building the parser imports
no HTTP client."""

from __future__ import annotations

import argparse

LOOP_COMMANDS = ("projects", "constraints", "suggest", "ingest", "coverage", "export")


def _server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", default=None, help="the API (default: $OPTILOOP_URL or http://127.0.0.1:8080)")
    p.add_argument(
        "--api-key",
        default=None,
        help="default: $OPTILOOP_API_KEY, else $OPTILOOP_ADMIN_TOKEN (the key `serve` was started with)",
    )


def add_loop_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pr = sub.add_parser("projects", help="create, list and show projects on a running server")
    prs = pr.add_subparsers(dest="projects_command", required=True, metavar="ACTION")
    pc = prs.add_parser("create", help="create a project and print it")
    pc.add_argument("name")
    pc.add_argument("--description", default="")
    pc.add_argument("--budget-cents", type=float, default=None)
    pl = prs.add_parser("list", help="every project the key may see")
    pl.add_argument("--json", action="store_true", help="one JSON object a line instead of a table")
    pg = prs.add_parser("get", help="one project")
    pg.add_argument("project_id")
    for sp in (pc, pl, pg):
        _server_args(sp)

    co = sub.add_parser("constraints", help="add a project's parameter space from JSON, list it")
    cos = co.add_subparsers(dest="constraints_command", required=True, metavar="ACTION")
    ca = cos.add_parser("add", help="add constraints from a JSON file ('-': stdin)")
    ca.add_argument("project_id")
    ca.add_argument(
        "file",
        help='the space ({"params": ..., "relations": [...]}) or a whole constraint '
        '({"name", "type", "weight", "json_schema"})',
    )
    ca.add_argument("--name", default=None, help="default: the file's name field, else 'base'")
    ca.add_argument("--type", choices=["hard", "soft"], default=None)
    ca.add_argument("--weight", type=float, default=None, help="soft constraints: how much a violation costs")
    cl = cos.add_parser("list", help="the project's constraints as JSON")
    cl.add_argument("project_id")
    for sp in (ca, cl):
        _server_args(sp)

    s = sub.add_parser("suggest", help="suggest a batch of tests and print it as JSON")
    s.add_argument("project_id")
    s.add_argument("--batch-size", type=int, default=20)
    s.add_argument(
        "--generator", default=None, help="random, qmc, coverage, bo, hybrid (default) or a plug-in"
    )
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--budget-cents", type=float, default=None)
    s.add_argument("--out", default=None, help="write the JSON here instead of stdout")
    _server_args(s)

    i = sub.add_parser("ingest", help="report runs from a JSON or JSON Lines file ('-': stdin)")
    i.add_argument("project_id")
    i.add_argument("file", help='a JSON list of runs, {"runs": [...]}, or JSON Lines (one run a line)')
    _server_args(i)

    c = sub.add_parser("coverage", help="the project's coverage report (JSON, or --csv)")
    c.add_argument("project_id")
    c.add_argument("--csv", action="store_true")
    _server_args(c)

    e = sub.add_parser("export", help="every test and its run as CSV (params as param.<name> columns)")
    e.add_argument("project_id")
    e.add_argument("--out", default=None, help="a file (default: stdout)")
    _server_args(e)
