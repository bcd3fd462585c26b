"""Folder connectors: one file under the connector's folder, itself under the operator's root.

Confinement is checked twice: lexically (`records.relative_path`: no `..`, no absolute paths) and
after resolving links (the real path must stay under the root), so neither `../../etc/passwd` nor a
symbolic link planted in the folder reaches outside. The size is checked before reading, and the
read stops one byte past the bound in case the file grows meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from optiloop.automl.connectors import limits
from optiloop.automl.connectors.limits import Bounds
from optiloop.automl.connectors.records import relative_path
from optiloop.errors import Conflict, FieldProblem, InvalidInput


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


def resolve(config_path: str, path: str) -> Path:
    root = limits.connector_root()
    if root is None:
        raise Conflict(
            "folder connectors are off on this server: OPTILOOP_CONNECTOR_ROOT is not set",
            details=[{"field": "connector_id", "reason": "folder connectors need OPTILOOP_CONNECTOR_ROOT"}],
        )
    rel = relative_path(path, "path")
    if not rel.parts:
        raise _bad("path", "must name a file in the connector's folder")
    base = (root / relative_path(config_path, "path")).resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(root) or not target.is_relative_to(base):
        raise _bad("path", "leaves the connector's folder (through a link)")
    if not target.is_file():
        raise _bad("path", f"no file {rel.as_posix()!r} in the connector's folder")
    return target


def read(config_path: str, path: str, bounds: Bounds) -> tuple[str, bytes]:
    target = resolve(config_path, path)
    size = target.stat().st_size
    if size > bounds.max_bytes:
        raise _bad("max_bytes", f"the file is {size} bytes; at most {bounds.max_bytes}")
    with target.open("rb") as f:
        data = f.read(bounds.max_bytes + 1)
    if len(data) > bounds.max_bytes:
        raise _bad("max_bytes", f"the file is larger than {bounds.max_bytes} bytes")
    return target.name, data
