"""Coverage buckets as runners report them: integers, or strings the way coverage tools name things.

A bucket is an opaque identity of behaviour a run exercised. Instrumented simulators hash
behaviour into integers; real test suites have names: `"checkout.py:42"`, a branch id
`"checkout.py:40->42"`, a feature flag path. Both are accepted and kept as sent (the integer 42 and
the string "42" are two different buckets, as JSON keeps them apart). A coverage.py JSON report
(`coverage json`) is turned into line and branch buckets, so a Python suite reports what it covered
without naming buckets itself.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from numbers import Integral
from typing import Any

Bucket = int | str

MAX_BUCKET = 2**63 - 1
MAX_BUCKET_BYTES = 512
MAX_BUCKETS_PER_RUN = 10_000
# a run is one DynamoDB item (400 KB at most): its buckets, as stored JSON text, stay under this
MAX_BUCKET_TEXT_PER_RUN = 256 * 1024
MAX_COVERAGE_FILES = 5_000


def bucket_problem(b: object) -> str | None:
    """Why `b` is not a bucket, or None when it is one."""
    if isinstance(b, Integral) and not isinstance(b, bool):
        return None if 0 <= int(b) <= MAX_BUCKET else f"integer buckets are 0..{MAX_BUCKET}"
    if isinstance(b, str):
        if not b:
            return "a string bucket must not be empty"
        if len(b.encode("utf-8")) > MAX_BUCKET_BYTES:
            return f"a string bucket is at most {MAX_BUCKET_BYTES} bytes (UTF-8)"
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in b):
            return "a string bucket must not contain control or format characters"
        return None
    return f"buckets are integers 0..{MAX_BUCKET} or strings of at most {MAX_BUCKET_BYTES} bytes"


def text_size(buckets: Iterable[Bucket]) -> int:
    """About how many bytes the buckets take stored as JSON text (an upper bound for ASCII)."""
    return sum(len(b.encode("utf-8")) + 3 if isinstance(b, str) else len(str(b)) + 1 for b in buckets)


def size_problem(buckets: Iterable[Bucket]) -> str | None:
    if text_size(buckets) > MAX_BUCKET_TEXT_PER_RUN:
        return (
            f"the buckets of one run take at most {MAX_BUCKET_TEXT_PER_RUN // 1024} KiB; "
            "report fewer or shorter names (e.g. files instead of lines)"
        )
    return None


def canonical(buckets: Iterable[Bucket]) -> tuple[Bucket, ...]:
    """Distinct buckets in one order (integers, then strings), whatever order the runner sent."""
    ints = sorted({int(b) for b in buckets if not isinstance(b, str)})
    strs = sorted({b for b in buckets if isinstance(b, str)})
    return (*ints, *strs)


def from_coverage_py(report: Mapping[str, Any]) -> list[str]:
    """Line and branch buckets of a coverage.py JSON report: `"path:line"` for each executed line,
    `"path:from->to"` for each executed branch (coverage.py's own arc notation; negative numbers
    are its entry and exit arcs). Raises ValueError naming what is wrong with the report."""
    files = report.get("files") if isinstance(report, Mapping) else None
    if not isinstance(files, Mapping):
        raise ValueError("a coverage.py JSON report has a 'files' object (coverage json's output)")
    if len(files) > MAX_COVERAGE_FILES:
        raise ValueError(f"at most {MAX_COVERAGE_FILES} files")
    out: list[str] = []
    for path, data in files.items():
        if not isinstance(data, Mapping):
            raise ValueError(f"files[{path!r}] must be an object")
        lines = data.get("executed_lines", [])
        branches = data.get("executed_branches", [])
        if not isinstance(lines, list) or not all(_is_int(x) for x in lines):
            raise ValueError(f"files[{path!r}].executed_lines must be a list of line numbers")
        if not isinstance(branches, list) or not all(
            isinstance(a, list) and len(a) == 2 and all(_is_int(x) for x in a) for a in branches
        ):
            raise ValueError(f"files[{path!r}].executed_branches must be a list of [from, to] pairs")
        out.extend(f"{path}:{n}" for n in lines)
        out.extend(f"{path}:{a}->{b}" for a, b in branches)
        if len(out) > MAX_BUCKETS_PER_RUN:
            raise ValueError(f"the report names more than {MAX_BUCKETS_PER_RUN} lines and branches")
    return out


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
