"""Verifying a large audit trail: N records over S project shards in SQLite, then `verify` timed.

The trail is written straight into a fresh database (bulk INSERTs of correctly chained rows, the same
hashes `append` computes, via `chain.row_hash`) so that building a million records takes seconds,
then one digest is sealed over every shard head and the whole trail is verified: every record's
hash and link, every shard head, the digest chain and its signature.

usage: python tests/benchmarks/audit_verify.py [--records 1000000] [--shards 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from optiloop.audit.chain import GENESIS_HASH, canonical_json, row_hash
from optiloop.audit.digest import seal
from optiloop.audit.shards import ord_of
from optiloop.audit.signing import Ed25519FileSigner
from optiloop.store.sqlite import SqliteStore


def build(store: SqliteStore, records: int, shards: int) -> None:
    conn = store.db.conn()
    heads = {f"p/proj{s}": (0, GENESIS_HASH) for s in range(shards)}
    names = list(heads)
    batch: list[tuple] = []

    def flush() -> None:
        conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        batch.clear()

    conn.execute("BEGIN")
    for i in range(records):
        shard = names[i % shards]
        seq, prev = heads[shard]
        seq += 1
        hh, mm, ss = (i // 3_600_000) % 24, (i // 60_000) % 60, (i // 1000) % 60
        at = f"2026-01-01T{hh:02d}:{mm:02d}:{ss:02d}.{i % 1000:03d}Z"
        rid, pid = f"aud_{i:032x}", shard[2:]
        details = canonical_json({"run": i, "status": "pass", "cost_cents": 1.5, "buckets": [i % 7, i % 11]})
        h = row_hash(prev, seq, rid, at, "ingester", "runs.ingested", pid, f"run_{i}", details)
        batch.append((shard, seq, rid, at, "ingester", "runs.ingested", pid, f"run_{i}", details, prev, h,
                      ord_of(shard, seq, at)))  # fmt: skip
        heads[shard] = (seq, h)
        if len(batch) >= 50_000:
            flush()
    flush()
    conn.executemany("INSERT INTO audit_heads VALUES (?, ?, ?)", [(s, q, h) for s, (q, h) in heads.items()])
    conn.execute("COMMIT")


def main() -> dict[str, object]:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--shards", type=int, default=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "audit.db")
        t0 = time.perf_counter()
        build(store, args.records, args.shards)
        built = time.perf_counter() - t0
        signer = Ed25519FileSigner()
        seal(store.audit, signer)
        t0 = time.perf_counter()
        v = store.audit.verify(signer)
        took = time.perf_counter() - t0
        store.close()
    return {
        "records": args.records,
        "shards": args.shards,
        "build_s": round(built, 1),
        "verify_s": round(took, 1),
        "records_per_s": round(args.records / took),
        "result": v.as_dict(),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
