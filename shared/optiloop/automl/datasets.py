"""Tabular datasets: an upload parsed, typed, profiled and stored, with a content fingerprint.

Everything is checked before anything is written: the project, the file (format, ragged rows,
names, sizes) and the inference. Then the table goes to blobs and one transaction writes the
document and its audit record; if that transaction fails the blob is deleted again, so a refused or
failed ingest leaves nothing behind. Tables are immutable: a new upload is a new dataset.

Golden sets (the prompt side, `optiloop.prompts.datasets`) share the `/v1/datasets` resource; a
table's document has kind `table_dataset` and answers with `"kind": "table"`, and
`GET /v1/datasets/{id}` dispatches on which kind holds the id.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.automl import infer, parse
from optiloop.automl.table import FORMAT, Table, from_bytes
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.store.records import Doc

KIND = "table_dataset"
MAX_INLINE_REPORT = 100_000  # bytes of JSON; a wider report lives in its own blob (DynamoDB: 400 KB)


def table_key(project_id: str, dataset_id: str) -> str:
    return f"datasets/{project_id}/{dataset_id}/table.npz"


def report_key(project_id: str, dataset_id: str) -> str:
    return f"datasets/{project_id}/{dataset_id}/report.json"


def ingest(
    deps: Deps, who: Principal, project_id: str, name: str, filename: str, data: bytes
) -> dict[str, Any]:
    """Parse, type and profile an upload, then store it; the dataset's document."""
    authorize(who, Action.MODEL_WRITE, project_id)
    get_project(deps, project_id)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(FieldProblem("name", "must be 1..200 characters"))
    fmt = parse.detect_format(filename, data)
    table = infer.infer_table(parse.parse(filename, data))
    report = infer.quality_report(table)
    dataset_id = deps.ids("ds")
    key, rkey = table_key(project_id, dataset_id), report_key(project_id, dataset_id)
    report_json = json.dumps(report, separators=(",", ":")).encode()
    doc: dict[str, Any] = {
        "id": dataset_id,
        "kind": "table",
        "project_id": project_id,
        "name": name,
        "format": FORMAT,
        "source": {
            "filename": filename[:200],
            "format": fmt,
            "bytes": len(data),
            "sha256": "sha256:" + hashlib.sha256(data).hexdigest(),
        },
        "rows": table.n_rows,
        "schema": [{"name": c.name, "type": c.type} for c in table.columns],
        "fingerprint": table.fingerprint(),
        "table_key": key,
        "report_key": rkey,
        "report": report if len(report_json) <= MAX_INLINE_REPORT else None,
        "created_at": deps.clock(),
        "created_by": who.name,
    }
    deps.blobs.put(key, table.to_bytes())
    deps.blobs.put(rkey, report_json)
    try:
        with deps.store.transaction():
            deps.store.docs.create(Doc(kind=KIND, id=dataset_id, scope=project_id, sort=dataset_id, data=doc))
            record(
                deps,
                who,
                "dataset.ingested",
                project_id,
                dataset_id,
                {"name": name, "rows": table.n_rows, "fingerprint": doc["fingerprint"]},
            )
    except BaseException:
        for k in (key, rkey):
            with contextlib.suppress(Exception):
                deps.blobs.delete(k)
        raise
    return _out(deps, doc)


def _out(deps: Deps, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if out.get("report") is None:
        raw = deps.blobs.get(out["report_key"])
        out["report"] = json.loads(raw) if raw else None
    return out


def find(deps: Deps, dataset_id: str) -> Doc | None:
    return deps.store.docs.get(KIND, dataset_id)


def get_table_dataset(
    deps: Deps,
    who: Principal,
    dataset_id: str,
    *,
    field: str = "dataset_id",
    action: Action = Action.MODEL_READ,
) -> dict[str, Any]:
    doc = deps.store.docs.require(KIND, dataset_id, field=field, what="tabular dataset")
    authorize(who, action, doc.data["project_id"])
    return _out(deps, doc.data)


def load_table(deps: Deps, dataset: dict[str, Any]) -> Table:
    data = deps.blobs.get(dataset["table_key"])
    if data is None:
        raise InvalidInput(FieldProblem("dataset_id", f"the table {dataset['table_key']!r} is missing"))
    return from_bytes(data)
