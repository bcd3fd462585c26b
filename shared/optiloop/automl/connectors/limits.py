"""What an operator configures for connectors, and the bounds of one read.

Read from the environment on each use (cheap, and tests can change it):

- OPTILOOP_CONNECTOR_ROOT: the one folder local `folder` connectors may read under (and SQLite
  files may live under). Unset: folder connectors and SQLite files are refused — a server's disk is
  not the API's to browse, and its own store (the data directory) must stay unreachable.
- OPTILOOP_CONNECTOR_S3_BUCKETS: comma-separated bucket names S3 connectors may name, or `*` for any.
  Unset: `*`. The platform's own bucket (OPTILOOP_BUCKET) is always refused: it holds every project's
  artifacts, and a connector would otherwise read another project's data with the platform's role.
- OPTILOOP_CONNECTOR_SQL_HOSTS: comma-separated database hosts SQL connectors may name, or `*`.
  Unset: `*`.
- OPTILOOP_INGEST_MAX_BYTES (default 64 MiB, at most 1 GiB) and OPTILOOP_INGEST_TIMEOUT_S (default
  20 s, at most 600): the ceiling of one read; a request may ask for less, never more.

A malformed number stops the process at import (`check_env`, run below) with the variable's name,
like every other OPTILOOP_* setting (optiloop.config), rather than surfacing as a 500 on an ingest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from optiloop.automl.parse import MAX_ROWS
from optiloop.config import ConfigError
from optiloop.errors import FieldProblem, InvalidInput

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
HARD_MAX_BYTES = 1024**3
DEFAULT_TIMEOUT_S = 20.0
HARD_TIMEOUT_S = 600.0


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def connector_root() -> Path | None:
    raw = _env("OPTILOOP_CONNECTOR_ROOT")
    return Path(raw).resolve() if raw else None


def _allow_list(name: str) -> frozenset[str] | None:
    """None: any; else the listed names."""
    raw = _env(name)
    if not raw or raw == "*":
        return None
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def allowed_buckets() -> frozenset[str] | None:
    return _allow_list("OPTILOOP_CONNECTOR_S3_BUCKETS")


def platform_bucket() -> str | None:
    return _env("OPTILOOP_BUCKET") or None


def allowed_sql_hosts() -> frozenset[str] | None:
    return _allow_list("OPTILOOP_CONNECTOR_SQL_HOSTS")


def _number(name: str, default: float, high: float) -> float:
    raw = _env(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number between 1 and {high:g}, got {raw!r}") from None
    if not 1.0 <= value <= high:
        raise ConfigError(f"{name} must be a number between 1 and {high:g}, got {raw!r}")
    return value


def check_env() -> None:
    """Refuse malformed connector settings now (see the module docstring)."""
    _number("OPTILOOP_INGEST_MAX_BYTES", DEFAULT_MAX_BYTES, HARD_MAX_BYTES)
    _number("OPTILOOP_INGEST_TIMEOUT_S", DEFAULT_TIMEOUT_S, HARD_TIMEOUT_S)
    root = _env("OPTILOOP_CONNECTOR_ROOT")
    if root and not Path(root).is_dir():
        raise ConfigError(f"OPTILOOP_CONNECTOR_ROOT must name a folder, got {root!r}")


@dataclass(frozen=True)
class Bounds:
    """One read's ceilings: rows, bytes (a file's size, or a result's accumulated values) and time."""

    max_rows: int
    max_bytes: int
    timeout_s: float


def bounds(max_rows: int | None, max_bytes: int | None, timeout_s: float | None) -> Bounds:
    """The request's bounds under the server's ceilings; a 422 naming the field that asks for more."""
    top_bytes = int(_number("OPTILOOP_INGEST_MAX_BYTES", DEFAULT_MAX_BYTES, HARD_MAX_BYTES))
    top_time = _number("OPTILOOP_INGEST_TIMEOUT_S", DEFAULT_TIMEOUT_S, HARD_TIMEOUT_S)
    probs: list[FieldProblem] = []
    if max_rows is not None and not 1 <= max_rows <= MAX_ROWS:
        probs.append(FieldProblem("max_rows", f"must be 1..{MAX_ROWS}"))
    if max_bytes is not None and not 1 <= max_bytes <= top_bytes:
        probs.append(FieldProblem("max_bytes", f"must be 1..{top_bytes} (the server's ceiling)"))
    if timeout_s is not None and not 0.1 <= timeout_s <= top_time:
        probs.append(FieldProblem("timeout_s", f"must be 0.1..{top_time:g} seconds (the server's ceiling)"))
    if probs:
        raise InvalidInput(probs)
    return Bounds(
        max_rows=max_rows or MAX_ROWS,
        max_bytes=max_bytes or top_bytes,
        timeout_s=float(timeout_s or top_time),
    )


check_env()
