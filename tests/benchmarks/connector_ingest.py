"""Connector ingest cost: one SQL query (SQLite under the connector root) and one CSV file (folder
connector) of the same table, through `POST /v1/datasets/ingest` in process, with the e-mail column's
PII action `report` (a sample) and `hash` (every distinct value); and the pipeline's stages timed
apart (parse, typing, ordinal and leak checks, PII, report and storage format).

The table: `rows` rows of an id, an e-mail (PII in every row, 1 in 50 repeated), a city (31 values),
a size (S/M/L: ordinal), two numbers and a 0/1 target with a leaky copy.

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/connector_ingest.py [rows]
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

TOKEN = "bench-admin-token-0123456789"


def make(root: Path, rows: int) -> None:
    data = [
        (i, f"user{i % (rows // 50 * 49) if rows >= 50 else i}@example.com", f"city{i % 31}", "SML"[i % 3],
         (i * 7919) % 1000 / 10, (i * 104729) % 977 / 7, (i // 3) % 2, ("no", "yes")[(i // 3) % 2])
        for i in range(rows)
    ]  # fmt: skip
    db = sqlite3.connect(root / "t.db")
    db.execute(
        "create table t (id integer, email text, city text, size text, a real, b real, y int, leak text)"
    )
    db.executemany("insert into t values (?,?,?,?,?,?,?,?)", data)
    db.commit()
    db.close()
    lines = ["id,email,city,size,a,b,y,leak"] + [",".join(map(str, r)) for r in data]
    (root / "t.csv").write_text("\n".join(lines) + "\n")


def main(rows: int = 100_000) -> None:
    root = Path(tempfile.mkdtemp(prefix="optiloop-bench-"))
    os.environ["OPTILOOP_CONNECTOR_ROOT"] = str(root)
    os.environ["OPTILOOP_INGEST_MAX_BYTES"] = str(1024**3)
    make(root, rows)
    from optiloop.api.app import create_app
    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.store.factory import open_memory

    store, blobs = open_memory()
    client = TestClient(
        create_app(Deps(store=store, blobs=blobs), Settings(backend="memory", admin_token=TOKEN))
    )
    h = {"Authorization": f"Bearer {TOKEN}"}
    pid = client.post("/v1/projects", headers=h, json={"name": "bench", "description": "d"}).json()["id"]

    def connector(**body: Any) -> str:
        r = client.post("/v1/connectors", headers=h, json={"project_id": pid, "name": "c", **body})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    sql, folder = connector(kind="sql", url="sqlite:///t.db"), connector(kind="folder", path="")
    print(f"{rows} rows x 8 columns; CSV {(root / 't.csv').stat().st_size / 1e6:.1f} MB")
    for label, source in (("sql query", {"connector_id": sql, "query": "select * from t"}),
                          ("csv file", {"connector_id": folder, "path": "t.csv"})):  # fmt: skip
        for pii in ("report", "hash"):
            policy = {"action": "report", "columns": {"email": pii}}
            body = {"project_id": pid, "name": "b", "target": "y", "pii": policy, **source}
            t0 = time.perf_counter()
            r = client.post("/v1/datasets/ingest", headers=h, json=body)
            dt = time.perf_counter() - t0
            assert r.status_code == 201, r.text[:500]
            leaks = [x["column"] for x in r.json()["report"]["leaks"]]
            print(f"  {label:9s} email={pii:6s} {dt:6.2f} s  ({rows / dt:,.0f} rows/s)  leaks={leaks}")
    stages(root / "t.csv")


def stages(csv: Path) -> None:
    """The pipeline's stages on the CSV, each timed on its own."""
    from optiloop.automl import infer, leakage, ordinal, parse, pii_columns

    data = csv.read_bytes()
    t = time.perf_counter()
    raw = parse.parse("t.csv", data)
    marks = [("parse", time.perf_counter() - t)]
    t = time.perf_counter()
    table = infer.infer_table(raw)
    marks.append(("types", time.perf_counter() - t))
    t = time.perf_counter()
    ordinal.apply(table, {})
    leakage.find_leaks(table, "y")
    marks.append(("ordinal+leaks", time.perf_counter() - t))
    t = time.perf_counter()
    pii_columns.scan_and_apply(table, pii_columns.validate({"columns": {"email": "hash"}}), b"k" * 32)
    marks.append(("pii hash", time.perf_counter() - t))
    t = time.perf_counter()
    infer.quality_report(table)
    table.to_bytes()
    marks.append(("report+npz", time.perf_counter() - t))
    print("  stages (csv): " + ", ".join(f"{k} {v:.2f} s" for k, v in marks))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
