"""Coverage of the core package, per sub-package, after `coverage run -m pytest` (make test runs both).

    .venv/bin/python tests/coverage_summary.py [--data-file .coverage] [--worst 10]

Prints one row per top-level sub-package of shared/optiloop (api, store, auth, ...; the modules at
the top level such as config.py together as `(top-level modules)`) and the least-covered files with
their missing lines and partial branches. Percentages count lines and branches together, as
`coverage report` does with branch coverage on, so the rows add up to its total. The floor is not
checked here: `coverage report --format=total` does that, from `fail_under` in pyproject.toml.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import coverage

TOP_LEVEL = "(top-level modules)"


@dataclass
class Tally:
    files: int = 0
    statements: int = 0
    missing: int = 0
    branches: int = 0
    partial: int = 0
    covered_lines: int = 0
    covered_branches: int = 0

    def add(self, s: dict[str, Any]) -> None:
        self.files += 1
        self.statements += s["num_statements"]
        self.missing += s["missing_lines"]
        self.branches += s.get("num_branches", 0)
        self.partial += s.get("num_partial_branches", 0)
        self.covered_lines += s["covered_lines"]
        self.covered_branches += s.get("covered_branches", 0)

    @property
    def percent(self) -> float:
        total = self.statements + self.branches
        return 100.0 if total == 0 else 100.0 * (self.covered_lines + self.covered_branches) / total


def package_of(path: str) -> str:
    """`shared/optiloop/api/app.py` -> `api`; `shared/optiloop/config.py` -> the top-level group."""
    parts = PurePath(path).parts
    if "optiloop" not in parts:
        return TOP_LEVEL
    rest = parts[len(parts) - 1 - parts[::-1].index("optiloop") + 1 :]
    return rest[0] if len(rest) > 1 else TOP_LEVEL


def load(data_file: str | None) -> dict[str, Any]:
    cov = coverage.Coverage() if data_file is None else coverage.Coverage(data_file=data_file)
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-file", default=None, help="coverage data file (default: from the config)")
    ap.add_argument("--worst", type=int, default=10, help="how many least-covered files to list")
    args = ap.parse_args(argv)
    try:
        report = load(args.data_file)
    except coverage.exceptions.NoDataError as exc:
        print(f"coverage_summary: {exc}", file=sys.stderr)
        return 1

    packages: dict[str, Tally] = {}
    total = Tally()
    for path, entry in report["files"].items():
        packages.setdefault(package_of(path), Tally()).add(entry["summary"])
        total.add(entry["summary"])

    print("\ncoverage of optiloop by package (lines and branches)")
    header = f"{'package':<22}{'files':>6}{'stmts':>8}{'miss':>7}{'branch':>8}{'partial':>8}{'cover':>8}"
    print(header)
    print("-" * len(header))
    for name, t in sorted(packages.items(), key=lambda kv: (kv[0] == TOP_LEVEL, kv[0])):
        print(
            f"{name:<22}{t.files:>6}{t.statements:>8}{t.missing:>7}{t.branches:>8}{t.partial:>8}"
            f"{t.percent:>7.1f}%"
        )
    print("-" * len(header))
    print(
        f"{'total':<22}{total.files:>6}{total.statements:>8}{total.missing:>7}{total.branches:>8}"
        f"{total.partial:>8}{total.percent:>7.1f}%"
    )

    worst = sorted(
        (
            (e["summary"]["percent_covered"], -e["summary"]["missing_lines"], path, e["summary"])
            for path, e in report["files"].items()
            if e["summary"]["missing_lines"] or e["summary"].get("num_partial_branches")
        ),
    )[: args.worst]
    if worst:
        print(f"\nthe {len(worst)} least-covered files")
        print(f"{'cover':>7}{'missing':>9}{'partial':>9}  file")
        for pct, _, path, s in worst:
            print(f"{pct:>6.1f}%{s['missing_lines']:>9}{s.get('num_partial_branches', 0):>9}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
