"""The cold tier of a project's history: its sufficient statistics as one object in the blob store.

A process that meets a project for the first time would otherwise page the whole history in to
rebuild what `History` keeps over all of it (buckets ever hit, spend, operators of compacted tests,
the no-repeat filter): minutes at 1M runs, past any Lambda or API Gateway timeout. With a snapshot
it reads one object (a few MB at 1M tests) and the newest `window` rows, then pages only the tail
written since the snapshot.

Crash safety: the snapshot is one `put` (atomic on S3; a temp file and a rename on the local blob
store), a cache of what the store holds and never the only copy of anything. It carries a digest
of its bytes and the seqs it is complete through; a reader ignores (and logs) one that is torn,
corrupt, of another format or project, or ahead of the store (restored from a backup), and pages
the history in as if there were none. Writers race harmlessly: every snapshot is consistent on its
own, the last one written wins. A failed write is logged and never fails the request.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np

from optiloop.store.ports import BlobStore, Store
from optiloop.testopt.bloom import ScalableBloom
from optiloop.testopt.history import History
from optiloop.testopt.window import Window

log = logging.getLogger("optiloop.history")

FORMAT = 1
MAGIC = b"OPTILOOP-HISTORY-SNAPSHOT\n"
_DIGEST = 32


def key(project_id: str) -> str:
    return f"testopt/history/{project_id}/snapshot.npz"


@dataclass(frozen=True)
class Snapshot:
    project_id: str
    tests_seq: int
    runs_seq: int
    n_tests: int  # tests through tests_seq (absolute positions of the history)
    n_runs: int
    cost_cents: float
    op_counts: dict[str, int]  # operators of every test through tests_seq
    buckets: set[int | str]
    seen: ScalableBloom


def encode(h: History) -> bytes:
    ops = h.dropped_ops + Counter(t.operator for t in h.tests)
    header = {
        "format": FORMAT,
        "project_id": h.project_id,
        "tests_seq": h.tests_seq,
        "runs_seq": h.runs_seq,
        "n_tests": len(h.tests),
        "n_runs": len(h.run_order),
        "cost_cents": h.cost_cents,
        "op_counts": dict(sorted(ops.items())),
        "int_buckets": sorted(b for b in h.buckets_seen if isinstance(b, int)),
        "str_buckets": sorted(b for b in h.buckets_seen if isinstance(b, str)),
    }
    arrays = h.seen.to_arrays()
    arrays["header"] = np.frombuffer(json.dumps(header, separators=(",", ":")).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    body = buf.getvalue()
    return MAGIC + hashlib.sha256(body).digest() + body


def decode(data: bytes, project_id: str) -> Snapshot:
    """The snapshot in `data`, or ValueError saying why it cannot be trusted."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _DIGEST:
        raise ValueError("not a history snapshot (or cut short)")
    digest, body = data[len(MAGIC) : len(MAGIC) + _DIGEST], data[len(MAGIC) + _DIGEST :]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError("digest mismatch: torn or corrupt")
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(arrays.pop("header").tobytes())
        if header.get("format") != FORMAT:
            raise ValueError(f"format {header.get('format')!r}, this release reads {FORMAT}")
        if header.get("project_id") != project_id:
            raise ValueError("written for another project")
        return Snapshot(
            project_id=project_id,
            tests_seq=int(header["tests_seq"]),
            runs_seq=int(header["runs_seq"]),
            n_tests=int(header["n_tests"]),
            n_runs=int(header["n_runs"]),
            cost_cents=float(header["cost_cents"]),
            op_counts={str(k): int(v) for k, v in header["op_counts"].items()},
            buckets={int(b) for b in header["int_buckets"]} | {str(b) for b in header["str_buckets"]},
            seen=ScalableBloom.from_arrays(arrays),
        )
    except (KeyError, TypeError, OSError, json.JSONDecodeError, ValueError) as e:
        raise ValueError(f"unreadable: {e}") from None


def save(blobs: BlobStore, h: History) -> bool:
    """Write the snapshot of `h`; False (logged) if the blob store refused."""
    try:
        blobs.put(key(h.project_id), encode(h))
    except Exception as e:  # a cache: the request goes on without it
        log.warning("history snapshot of project %s not written: %s", h.project_id, e)
        return False
    return True


def load(blobs: BlobStore, project_id: str) -> Snapshot | None:
    try:
        data = blobs.get(key(project_id))
    except Exception as e:
        log.warning("history snapshot of project %s not read: %s", project_id, e)
        return None
    if data is None:
        return None
    try:
        return decode(data, project_id)
    except ValueError as e:
        log.warning("history snapshot of project %s ignored: %s", project_id, e)
        return None


def restore(h: History, snap: Snapshot, store: Store) -> None:
    """Make the empty history `h` what it was when `snap` was taken: the aggregates from the
    snapshot, the newest `window` tests and runs through its seqs from the store."""
    pid = h.project_id
    tests = store.tests.list_since(pid, max(snap.tests_seq - h.window, 0), until_seq=snap.tests_seq)
    runs = store.runs.list_since(pid, max(snap.runs_seq - h.window, 0), until_seq=snap.runs_seq)
    h.tests, h.run_order = Window(tests), Window(r.test_id for r in runs)
    h.tests.base = snap.n_tests - len(tests)
    h.run_order.base = snap.n_runs - len(runs)
    h.test_index = {t.id: h.tests.base + i for i, t in enumerate(tests)}
    h.runs = {r.test_id: r for r in runs}
    older = [t.id for t in tests if t.id not in h.runs]  # retained tests whose run is older than the runs
    if older:
        found = store.runs.get_many(pid, older)
        h.runs.update((t, r) for t, r in found.items() if r.seq <= snap.runs_seq)
    h.buckets_seen = set(snap.buckets)
    h.cost_cents = snap.cost_cents
    h.seen = snap.seen
    h.dropped_ops = Counter(snap.op_counts) - Counter(t.operator for t in tests)
    h.tests_seq, h.runs_seq = snap.tests_seq, snap.runs_seq
    h.snapshot_at = snap.n_tests
