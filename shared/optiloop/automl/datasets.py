"""Tabular datasets: a table read (an upload, or a connector's file or query), typed, checked,
profiled, PII-masked and stored, with its spec and a content fingerprint.

Everything is checked before anything is written: the project, the connector, the file (format,
ragged rows, names, sizes), the declared expectations (a failed `error` one is a 422) and the PII
policy. Then the table goes to blobs and one transaction writes the document and its audit record;
if that transaction fails the blobs are deleted again, so a refused or failed ingest leaves nothing
behind. Tables are immutable: a new upload, or a refresh (`refresh_of`), is a new dataset that names
the one it refreshes (`previous_id`) and is checked against the same spec
(optiloop.automl.ingest_spec).

The pipeline, in order: parse -> types (optiloop.automl.infer) -> ordinal levels -> expectations (on
the data as read) -> leaky columns against `target` -> PII scan and masking -> quality report -> store.

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
from optiloop.automl import expectations, infer, ingest_spec, leakage, ordinal, parse, pii_columns
from optiloop.automl.connectors import limits  # checks the connector settings at start
from optiloop.automl.table import FORMAT, Table, from_bytes
from optiloop.deletion import gone, is_deleted
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.names import name_problem
from optiloop.projects import get_project
from optiloop.secrets import secrets_of
from optiloop.store.records import Doc

KIND = "table_dataset"
MAX_INLINE_REPORT = 100_000  # bytes of JSON; a wider report lives in its own blob (DynamoDB: 400 KB)


def table_key(project_id: str, dataset_id: str) -> str:
    return f"datasets/{project_id}/{dataset_id}/table.npz"


def report_key(project_id: str, dataset_id: str) -> str:
    return f"datasets/{project_id}/{dataset_id}/report.json"


def _name(name: str) -> str:
    """The dataset's name, held to the rules of every name (`optiloop.names`): a multipart form's
    field never passes through the JSON request models that check them elsewhere."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(FieldProblem("name", "must be 1..200 characters"))
    problem = name_problem(name)
    if problem is not None:
        raise InvalidInput(FieldProblem("name", problem))
    return name


def _renamed(e: InvalidInput, field: str) -> InvalidInput:
    """A parse refusal about `file`, re-pointed at the request field the file came from."""
    return InvalidInput(
        [FieldProblem(field if p.field == "file" else p.field, p.reason, p.hint) for p in e.problems]
    )


def _previous(deps: Deps, who: Principal, dataset_id: str) -> dict[str, Any]:
    doc = deps.store.docs.require(KIND, dataset_id, field="refresh_of", what="tabular dataset")
    authorize(who, Action.MODEL_WRITE, doc.data["project_id"])
    if is_deleted(doc):  # a deleted dataset's spec is gone with it
        raise gone("tabular dataset", dataset_id, "refresh_of", doc.data["deleted_at"])
    if not doc.data.get("spec"):
        raise InvalidInput(FieldProblem("refresh_of", "this dataset was ingested before specs were kept"))
    return doc.data


def ingest(
    deps: Deps,
    who: Principal,
    project_id: str,
    name: str,
    filename: str,
    data: bytes,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An upload: `form` holds the optional spec fields (target, expectations, pii, ordinal as JSON
    text) or `refresh_of`, a dataset whose spec to apply again."""
    form = form or {}
    previous: dict[str, Any] | None = None
    if form.get("refresh_of", "").strip():
        previous = _previous(deps, who, form["refresh_of"].strip())
        if previous["spec"]["source"]["kind"] != "upload":
            raise InvalidInput(
                FieldProblem("refresh_of", "was read from a connector: refresh it with a JSON body")
            )
        if any(form.get(f, "").strip() for f in ingest_spec.SPEC_FIELDS):
            raise InvalidInput(FieldProblem("refresh_of", "a refresh applies the stored spec; send no other"))
        project_id = previous["project_id"]
        spec = previous["spec"]
    else:
        spec = {"source": {"kind": "upload"}, **ingest_spec.from_form(form)}
    authorize(who, Action.MODEL_WRITE, project_id)
    get_project(deps, project_id)
    name = _name(name or (previous or {}).get("name", ""))
    raw = parse.parse(filename, data)
    source = {
        "kind": "upload",
        "filename": filename[:200],
        **parse.describe(filename, data),
        "bytes": len(data),
        "sha256": "sha256:" + hashlib.sha256(data).hexdigest(),
    }
    return _build(deps, who, project_id, name, raw, source, spec, previous)


def ingest_from_connector(deps: Deps, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A connector's file (`path`) or query (`query` / `table`), read within `max_rows`, `max_bytes`
    and `timeout_s`; or `refresh_of`, which reads again what that dataset's spec names."""
    from optiloop.automl.connectors import read, records

    previous: dict[str, Any] | None = None
    if body.get("refresh_of"):
        previous = _previous(deps, who, str(body["refresh_of"]))
        if previous["spec"]["source"]["kind"] != "connector":
            raise InvalidInput(
                FieldProblem("refresh_of", "was uploaded: refresh it with a multipart upload and refresh_of")
            )
        extra = set(body) - {"refresh_of", "name", "project_id"}
        if extra:
            raise InvalidInput(
                FieldProblem("refresh_of", f"a refresh applies the stored spec; remove {sorted(extra)}")
            )
        spec = previous["spec"]
        project_id = previous["project_id"]
        name = _name(str(body.get("name") or previous["name"]))
    else:
        for f in ("project_id", "name", "connector_id"):
            if not body.get(f):
                raise InvalidInput(FieldProblem(f, "is required"))
        project_id = str(body["project_id"])
        name = _name(str(body["name"]))
        chosen = {k: body[k] for k in ("path", "query", "table") if body.get(k) is not None}
        if len(chosen) != 1:
            raise InvalidInput(FieldProblem("path", "send exactly one of path (files), query or table (SQL)"))
        b = limits.bounds(body.get("max_rows"), body.get("max_bytes"), body.get("timeout_s"))
        spec = {
            "source": {"kind": "connector", "connector_id": str(body["connector_id"]), **chosen},
            **ingest_spec.validate(body),
            "limits": {"max_rows": b.max_rows, "max_bytes": b.max_bytes, "timeout_s": b.timeout_s},
        }
    authorize(who, Action.MODEL_WRITE, project_id)
    get_project(deps, project_id)
    src = spec["source"]
    connector = records.load(deps, who, src["connector_id"], Action.MODEL_WRITE).data
    if connector["project_id"] != project_id:
        raise InvalidInput(FieldProblem("connector_id", "belongs to another project"))
    lim = spec["limits"]
    bounds = limits.bounds(lim["max_rows"], lim["max_bytes"], lim["timeout_s"])
    fetched = read.fetch(deps, connector, src, bounds)
    source: dict[str, Any] = {
        "kind": "connector",
        "connector_id": connector["id"],
        "connector_kind": connector["kind"],
        **{k: src[k] for k in ("path", "query", "table") if k in src},
    }
    if fetched.columns is not None:
        raw = fetched.columns
        try:
            parse.check_columns(raw, bounds.max_rows)
        except InvalidInput as e:
            raise _renamed(e, "query" if "query" in src else "table") from None
        source["format"] = "sql"
    else:
        assert fetched.data is not None and fetched.filename is not None
        try:
            raw = parse.parse(fetched.filename, fetched.data)
            parse.check_columns(raw, bounds.max_rows)
        except InvalidInput as e:
            raise _renamed(e, "path") from None
        source.update(
            **parse.describe(fetched.filename, fetched.data),
            bytes=len(fetched.data),
            sha256="sha256:" + hashlib.sha256(fetched.data).hexdigest(),
        )
    return _build(deps, who, project_id, name, raw, source, spec, previous)


def _build(
    deps: Deps,
    who: Principal,
    project_id: str,
    name: str,
    raw: dict[str, list[Any]],
    source: dict[str, Any],
    spec: dict[str, Any],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    table = infer.infer_table(raw, comma_hint=source.get("delimiter") == ";")
    read_notes = infer.non_finite_warnings(raw) + infer.stray_warnings(raw, table)
    del raw
    ordinals = ordinal.apply(table, spec["ordinal"])
    target = spec.get("target")
    if target is not None and table.column(target) is None:
        names = ", ".join(table.names[:20])
        raise InvalidInput(FieldProblem("target", f"no column {target!r} in the data (columns: {names})"))
    checked = expectations.check(table, spec["expectations"])
    leaks = leakage.find_leaks(table, target) if target else []
    pii = pii_columns.scan_and_apply(
        table, spec["pii"], lambda: pii_columns.hash_key_of(secrets_of(deps), project_id)
    )
    if not table.columns:
        raise InvalidInput(FieldProblem("pii", "dropping the columns with PII leaves no column"))
    report = infer.quality_report(table)
    report.update(expectations=checked, leaks=leaks, pii=pii, ordinal=ordinals, target=target)
    report["warnings"].extend(w for w in read_notes if table.column(w["column"]) is not None)
    report["warnings"].extend({"column": x["column"], "kind": "leaky", "reason": x["reason"]} for x in leaks)
    report["warnings"].extend(
        {"column": x["column"], "kind": "expectation_failed", "reason": f"{x['expect']}: {x['reason']}"}
        for x in checked
        if not x["passed"]
    )
    report["warnings"].extend(
        {
            "column": x["column"],
            "kind": "pii",
            "reason": f"{x['cells']} cells with {', '.join(x['kinds'])}; {x['action']}",
        }
        for x in pii["columns"]
        if x["cells"]
    )
    return _store(deps, who, project_id, name, table, report, source, spec, previous)


def schema_of(table: Table) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "type": c.type,
            **({"levels": list(c.levels)} if c.levels is not None else {}),
            **({"format": c.format} if c.format else {}),
        }
        for c in table.columns
    ]


def _store(
    deps: Deps,
    who: Principal,
    project_id: str,
    name: str,
    table: Table,
    report: dict[str, Any],
    source: dict[str, Any],
    spec: dict[str, Any],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    dataset_id = deps.ids("ds")
    key, rkey = table_key(project_id, dataset_id), report_key(project_id, dataset_id)
    report_json = json.dumps(report, separators=(",", ":")).encode()
    doc: dict[str, Any] = {
        "id": dataset_id,
        "kind": "table",
        "project_id": project_id,
        "name": name,
        "format": FORMAT,
        "source": source,
        "spec": spec,
        "previous_id": previous["id"] if previous else None,
        "rows": table.n_rows,
        "schema": schema_of(table),
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
                {
                    "name": name,
                    "rows": table.n_rows,
                    "fingerprint": doc["fingerprint"],
                    "source": {k: v for k, v in source.items() if k in ("kind", "connector_id", "format")},
                    "previous_id": doc["previous_id"],
                    "pii_actions": {x["column"]: x["action"] for x in report["pii"]["columns"] if x["cells"]},
                },
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
    if is_deleted(doc):  # soft-deleted (optiloop.automl.delete): reads answer 404 naming the deletion
        raise gone("tabular dataset", dataset_id, field, doc.data["deleted_at"])
    return _out(deps, doc.data)


def load_table(deps: Deps, dataset: dict[str, Any]) -> Table:
    data = deps.blobs.get(dataset["table_key"])
    if data is None:
        raise InvalidInput(FieldProblem("dataset_id", f"the table {dataset['table_key']!r} is missing"))
    return from_bytes(data)
