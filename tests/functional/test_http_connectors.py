"""Connectors and connector ingest over HTTP: folder, SQLite, S3 (moto); expectations, leaky columns,
ordinal levels and PII masking on ingest; and each bad input refused by field with nothing written."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

SECRET = "s3cr3t-Pa55word-never-echoed"
# `leak` restates `flag`; no other column predicts it (risk and age vary within each class)
ROWS = [
    (f"user{i % 7}@example.com", ("low", "medium", "high")[i % 3], 20 + (i * 7) % 23, (i // 2) % 2,
     ("no", "yes")[(i // 2) % 2])
    for i in range(60)
]  # fmt: skip


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "root" / "data"
    data.mkdir(parents=True)
    lines = ["email,risk,age,flag,leak"] + [",".join(map(str, r)) for r in ROWS]
    (data / "people.csv").write_text("\n".join(lines) + "\n")
    (data / "people.jsonl").write_text("\n".join(json.dumps({"a": i, "b": f"x{i % 3}"}) for i in range(30)))
    (tmp_path / "outside.csv").write_text("a,b\n1,2\n")
    (data / "link.csv").symlink_to(tmp_path / "outside.csv")
    db = sqlite3.connect(data / "shop.db")
    db.execute("create table people (email text, risk text, age integer, flag integer, leak text)")
    db.executemany("insert into people values (?, ?, ?, ?, ?)", ROWS)
    db.commit()
    db.close()
    monkeypatch.setenv("OPTILOOP_CONNECTOR_ROOT", str(tmp_path / "root"))
    return tmp_path / "root"


def connector(api: Any, pid: str, **body: Any) -> Any:
    return api.client.post("/v1/connectors", headers=api.admin, json={"project_id": pid, "name": "c", **body})


def ingest(api: Any, **body: Any) -> Any:
    return api.client.post("/v1/datasets/ingest", headers=api.admin, json=body)


def test_folder_connector_ingest_with_spec_and_refresh(api: Any, root: Path) -> None:
    pid = api.project()
    r = connector(api, pid, kind="folder", path="data")
    assert r.status_code == 201, r.text
    con = r.json()
    assert con["config"] == {"path": "data"} and con["credentials"] is None
    spec = {
        "target": "flag",
        "expectations": [
            {"expect": "column_exists", "column": "email"},
            {"expect": "range", "column": "age", "min": 0, "max": 120, "severity": "error"},
            {"expect": "allowed_values", "column": "risk", "values": ["low", "high"]},
        ],
        "pii": {"action": "hash", "columns": {"leak": "report"}},
    }
    r = ingest(api, project_id=pid, name="people", connector_id=con["id"], path="people.csv", **spec)
    assert r.status_code == 201, r.text
    ds = r.json()
    schema = {c["name"]: c for c in ds["schema"]}
    assert schema["risk"]["type"] == "ordinal" and schema["risk"]["levels"] == ["low", "medium", "high"]
    report = ds["report"]
    assert [e["passed"] for e in report["expectations"]] == [True, True, False]
    assert {x["column"] for x in report["leaks"]} == {"leak"}
    pii = {x["column"]: x for x in report["pii"]["columns"]}
    assert pii["email"]["kinds"] == {"email": 60} and pii["email"]["action"] == "hash"
    assert ds["spec"]["source"] == {"kind": "connector", "connector_id": con["id"], "path": "people.csv"}
    # the stored table holds hashes, stable for the same address, never the address
    from optiloop.automl.datasets import load_table

    table = load_table(api.deps, ds)
    emails = table.column("email").values.tolist()
    assert all(e.startswith("[EMAIL:") for e in emails) and emails[0] == emails[7] != emails[1]
    # a refresh re-reads with the stored spec: a new dataset naming the old one
    r = ingest(api, refresh_of=ds["id"])
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["previous_id"] == ds["id"] and again["fingerprint"] == ds["fingerprint"]
    assert api.client.get(f"/v1/datasets/{again['id']}", headers=api.admin).json()["kind"] == "table"


def test_an_error_expectation_refuses_the_ingest_and_writes_nothing(api: Any, root: Path) -> None:
    pid = api.project()
    con = connector(api, pid, kind="folder", path="data").json()
    before = api.audit_count()
    r = ingest(
        api,
        project_id=pid,
        name="p",
        connector_id=con["id"],
        path="people.csv",
        expectations=[{"expect": "range", "column": "age", "max": 40, "severity": "error"}],
    )
    assert r.status_code == 422 and api.error_fields(r) == ["expectations[0]"]
    assert "span [20, 42]" in r.json()["error"]["details"][0]["reason"]
    assert api.audit_count() == before and api.deps.blobs.list("datasets/") == []


def test_folder_paths_cannot_leave_the_root(api: Any, root: Path) -> None:
    pid = api.project()
    assert api.error_fields(connector(api, pid, kind="folder", path="../..")) == ["path"]
    assert api.error_fields(connector(api, pid, kind="folder", path="/etc")) == ["path"]
    con = connector(api, pid, kind="folder", path="data").json()
    for bad in ("../../outside.csv", "/etc/passwd", "link.csv", "missing.csv", "..\\x.csv"):
        r = ingest(api, project_id=pid, name="p", connector_id=con["id"], path=bad)
        assert r.status_code == 422 and api.error_fields(r) == ["path"], (bad, r.text)


def test_folder_connectors_are_off_without_a_root(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTILOOP_CONNECTOR_ROOT", raising=False)
    r = connector(api, api.project(), kind="folder", path="data")
    assert r.status_code == 409 and api.error_fields(r) == ["kind"]


def test_sqlite_connector_reads_a_query_read_only(api: Any, root: Path, caplog: Any) -> None:
    pid = api.project()
    caplog.set_level(logging.DEBUG)
    r = connector(api, pid, kind="sql", url="sqlite:///data/shop.db")
    assert r.status_code == 201, r.text
    con = r.json()
    assert con["config"]["dialect"] == "sqlite" and con["config"]["read_only"] == "driver"
    q = "select email, risk, age from people where age > 25 order by age"
    r = ingest(api, project_id=pid, name="q", connector_id=con["id"], query=q, pii={"action": "mask"})
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["rows"] == sum(1 for r in ROWS if r[2] > 25) and ds["source"]["format"] == "sql"
    from optiloop.automl.datasets import load_table

    assert set(load_table(api.deps, ds).column("email").values.tolist()) == {"[EMAIL]"}
    r = ingest(api, project_id=pid, name="t", connector_id=con["id"], table="people")
    assert r.status_code == 201 and r.json()["rows"] == 60
    for bad, field in (
        ("delete from people", "query"),
        ("select 1; drop table people", "query"),
        ("select * into t2 from people", "query"),
        ("with x as (delete from people returning *) select * from x", "query"),
        ("select * from nope", "query"),
    ):
        r = ingest(api, project_id=pid, name="q", connector_id=con["id"], query=bad)
        assert r.status_code == 422 and api.error_fields(r) == [field], (bad, r.text)
    r = ingest(
        api, project_id=pid, name="q", connector_id=con["id"], query="select * from people", max_rows=5
    )
    assert r.status_code == 422 and api.error_fields(r) == ["max_rows"]
    assert sqlite3.connect(root / "data" / "shop.db").execute("select count(*) from people").fetchone() == (
        60,
    )


def test_sqlite_files_must_live_under_the_root(api: Any, root: Path, tmp_path: Path) -> None:
    pid = api.project()
    outside = tmp_path / "other.db"
    sqlite3.connect(outside).close()
    for url in (
        f"sqlite:///{outside}",
        "sqlite:///../other.db",
        "sqlite://",
        "sqlite:///data/shop.db?mode=rw",
    ):
        r = connector(api, pid, kind="sql", url=url)
        assert r.status_code == 422 and api.error_fields(r) == ["url"], (url, r.text)


def test_sql_credentials_are_secret_references_never_echoed(api: Any, root: Path, caplog: Any) -> None:
    pid = api.project()
    caplog.set_level(logging.DEBUG)
    url = f"postgresql+psycopg://bob:{SECRET}@db.invalid:5432/sales"
    r = connector(api, pid, kind="sql", url=url)
    pytest.importorskip("psycopg")
    assert r.status_code == 201, r.text
    con = r.json()
    assert SECRET not in r.text and "***" in con["config"]["url"]
    assert con["credentials"]["fields"] == ["password"] and con["credentials"]["managed"]
    listed = api.client.get("/v1/connectors", headers=api.admin, params={"project_id": pid})
    assert listed.status_code == 200 and SECRET not in listed.text and len(listed.json()["items"]) == 1
    got = api.client.get(f"/v1/connectors/{con['id']}", headers=api.admin)
    assert got.status_code == 200 and SECRET not in got.text
    # the secret store holds it; the document, the audit log and the logs never do
    from optiloop.secrets import secrets_of

    assert secrets_of(api.deps).get(con["credentials"]["ref"]) == {"password": SECRET}
    docs = api.deps.store.docs.get("connector", con["id"])
    assert SECRET not in json.dumps(docs.data)
    assert all(SECRET not in json.dumps(a.details) for a in api.deps.store.audit.list(limit=1000))
    # an unreachable database: a 422 naming the query, still without the password
    r = ingest(api, project_id=pid, name="q", connector_id=con["id"], query="select 1", timeout_s=2)
    assert r.status_code == 422 and api.error_fields(r) == ["query"] and SECRET not in r.text
    assert SECRET not in caplog.text
    r = api.client.delete(f"/v1/connectors/{con['id']}", headers=api.admin)
    assert r.status_code == 204
    from optiloop.secrets.port import SecretMissing

    with pytest.raises(SecretMissing):
        secrets_of(api.deps).get(con["credentials"]["ref"])
    assert api.client.get(f"/v1/connectors/{con['id']}", headers=api.admin).status_code == 404


def test_s3_connector_reads_under_its_prefix(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("OPTILOOP_BUCKET", "platform-bucket")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="tenant-data")
        body = "\n".join(["a,b"] + [f"{i},{i % 2}" for i in range(40)]).encode()
        s3.put_object(Bucket="tenant-data", Key="exports/t.csv", Body=body)
        s3.put_object(Bucket="tenant-data", Key="private/t.csv", Body=body)
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        pid = api.project()
        assert api.error_fields(connector(api, pid, kind="s3", bucket="platform-bucket")) == ["bucket"]
        r = connector(api, pid, kind="s3", bucket="tenant-data", prefix="exports", role_arn=role)
        assert r.status_code == 201, r.text
        con = r.json()
        r = ingest(api, project_id=pid, name="s3", connector_id=con["id"], path="t.csv")
        assert r.status_code == 201, r.text
        assert r.json()["rows"] == 40 and r.json()["source"]["connector_kind"] == "s3"
        for bad, field in (("../private/t.csv", "path"), ("missing.csv", "path")):
            r = ingest(api, project_id=pid, name="s3", connector_id=con["id"], path=bad)
            assert r.status_code == 422 and api.error_fields(r) == [field], r.text
        r = ingest(api, project_id=pid, name="s3", connector_id=con["id"], path="t.csv", max_bytes=10)
        assert r.status_code == 422 and api.error_fields(r) == ["max_bytes"]
        keys = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": SECRET}
        r = connector(api, pid, kind="s3", bucket="tenant-data", prefix="exports", credentials=keys)
        assert r.status_code == 201 and SECRET not in r.text
        r = ingest(api, project_id=pid, name="s3k", connector_id=r.json()["id"], path="t.csv")
        assert r.status_code == 201, r.text


def test_bad_connector_and_ingest_input(api: Any, root: Path) -> None:
    pid = api.project()
    cases = [
        ({"kind": "ftp"}, 422, "body.kind"),
        ({"kind": "s3", "bucket": "Bad_Bucket"}, 422, "bucket"),
        ({"kind": "s3", "bucket": "ok-bucket", "role_arn": "nope"}, 422, "role_arn"),
        ({"kind": "sql", "url": "not a url"}, 422, "url"),
        ({"kind": "sql", "url": "nosuchdialect://h/db"}, 422, "url"),
        ({"kind": "sql", "url": "postgresql://h/db?options=-c%20x"}, 422, "url"),
        (
            {"kind": "sql", "url": "sqlite:///data/shop.db", "secret_ref": "env:OPTILOOP_ADMIN_TOKEN"},
            422,
            "secret_ref",
        ),
        ({"kind": "folder", "path": "data", "credentials": {"password": "x"}}, 422, "credentials"),
    ]
    for body, status, field in cases:
        r = connector(api, pid, **body)
        assert r.status_code == status and api.error_fields(r) == [field], (body, r.text)
    r = ingest(api, project_id=pid, name="x", connector_id="con_missing", path="a.csv")
    assert r.status_code == 404 and api.error_fields(r) == ["connector_id"]
    con = connector(api, pid, kind="folder", path="data").json()
    r = ingest(api, project_id=pid, name="x", connector_id=con["id"], query="select 1")
    assert r.status_code == 422 and api.error_fields(r) == ["query"]
    r = ingest(api, project_id=pid, name="x", connector_id=con["id"], path="people.csv", target="nope")
    assert r.status_code == 422 and api.error_fields(r) == ["target"]
    r = ingest(api, project_id=pid, name="x", connector_id=con["id"], path="people.csv", max_rows=0)
    assert r.status_code == 422 and api.error_fields(r) == ["max_rows"]
    levels = {"risk": ["low", "high"]}
    r = ingest(api, project_id=pid, name="x", connector_id=con["id"], path="people.csv", ordinal=levels)
    assert r.status_code == 422 and api.error_fields(r) == ["ordinal.risk"]
    other = api.project(name="other")
    r = ingest(api, project_id=other, name="x", connector_id=con["id"], path="people.csv")
    assert r.status_code == 422 and api.error_fields(r) == ["connector_id"]
    assert api.deps.blobs.list("datasets/") == []


def test_roles(api: Any, root: Path) -> None:
    pid = api.project()
    con = connector(api, pid, kind="folder", path="data").json()
    viewer, contributor = api.key("viewer", pid), api.key("contributor", pid)
    assert api.client.get(f"/v1/connectors/{con['id']}", headers=viewer).status_code == 200
    body = {"project_id": pid, "name": "c", "kind": "folder", "path": "data"}
    assert api.client.post("/v1/connectors", headers=contributor, json=body).status_code == 403
    assert api.client.delete(f"/v1/connectors/{con['id']}", headers=contributor).status_code == 403
    ing = {"project_id": pid, "name": "p", "connector_id": con["id"], "path": "people.jsonl"}
    assert api.client.post("/v1/datasets/ingest", headers=viewer, json=ing).status_code == 403
    r = api.client.post("/v1/datasets/ingest", headers=contributor, json=ing)
    assert r.status_code == 201, r.text


def test_an_upload_declares_a_spec_and_its_refresh_is_checked_against_it(api: Any) -> None:
    pid = api.project()
    good = "\n".join(
        ["id,email,size,y"] + [f"{i},u{i}@example.com,{'SML'[i % 3]},{i % 2}" for i in range(30)]
    )
    form = {
        "project_id": pid,
        "name": "up",
        "target": "y",
        "expectations": json.dumps([{"expect": "not_null", "column": "size", "severity": "error"}]),
        "pii": json.dumps({"action": "mask"}),
        "ordinal": json.dumps({"size": ["S", "M", "L"]}),
    }
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files={"file": ("t.csv", good, "text/csv")}, data=form
    )
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["spec"]["source"] == {"kind": "upload"} and ds["spec"]["target"] == "y"
    assert {c["name"]: c.get("levels") for c in ds["schema"]}["size"] == ["S", "M", "L"]
    pii = {x["column"]: x["action"] for x in ds["report"]["pii"]["columns"]}
    assert pii == {"id": "none", "email": "mask"}
    bad = good.replace(",S,", ",,")
    refresh = {"refresh_of": ds["id"]}
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files={"file": ("t.csv", bad, "text/csv")}, data=refresh
    )
    assert r.status_code == 422 and api.error_fields(r) == ["expectations[0]"], r.text
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files={"file": ("t.csv", good, "text/csv")}, data=refresh
    )
    assert r.status_code == 201 and r.json()["previous_id"] == ds["id"] and r.json()["name"] == "up"
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        files={"file": ("t.csv", good, "text/csv")},
        data={**refresh, "target": "id"},
    )
    assert r.status_code == 422 and api.error_fields(r) == ["refresh_of"]
    r = ingest(api, refresh_of=ds["id"])  # an upload is refreshed by uploading
    assert r.status_code == 422 and api.error_fields(r) == ["refresh_of"]
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        files={"file": ("t.csv", good, "text/csv")},
        data={"project_id": pid, "name": "x", "pii": "{not json"},
    )
    assert r.status_code == 422 and api.error_fields(r) == ["pii"]


def test_a_json_body_that_is_not_json_names_the_body(api: Any) -> None:
    r = api.client.post(
        "/v1/datasets/ingest", headers={**api.admin, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert r.status_code == 422 and api.error_fields(r) == ["body"]


def test_the_sdk_creates_reads_through_and_deletes_connectors(api: Any, client: Any, root: Path) -> None:
    import httpx

    from optiloop.client import InvalidInputError, OptiLoop

    class Via(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            r = client.send(request)
            headers = [(k, v) for k, v in r.headers.multi_items() if k.lower() != "content-encoding"]
            return httpx.Response(r.status_code, headers=headers, content=r.content)

    pid = api.project()
    with OptiLoop("http://testserver", api.ADMIN_TOKEN, transport=Via(), env={}) as sdk:
        con = sdk.connectors.create(
            pid, "shop", "sql", url="sqlite:///data/shop.db", credentials={"password": SECRET}
        )
        assert SECRET not in json.dumps(con) and con["credentials"]["fields"] == ["password"]
        assert [c["id"] for c in sdk.connectors.list(pid)["items"]] == [con["id"]]
        ds = sdk.tables.ingest_from(pid, "people", con["id"], table="people", target="flag")
        assert ds["rows"] == len(ROWS) and ds["report"]["target"] == "flag"
        again = sdk.tables.refresh(ds["id"])
        assert again["previous_id"] == ds["id"] and again["fingerprint"] == ds["fingerprint"]
        with pytest.raises(InvalidInputError) as e:
            sdk.tables.ingest_from(pid, "bad", con["id"], query="drop table people")
        assert e.value.fields == ["query"]
        sdk.connectors.delete(con["id"])
        assert sdk.connectors.list(pid)["items"] == []


def test_a_deleted_dataset_cannot_be_refreshed(api: Any, root: Path) -> None:
    pid = api.project()
    con = connector(api, pid, kind="folder", path="data").json()
    ds = ingest(api, project_id=pid, name="p", connector_id=con["id"], path="people.jsonl").json()
    assert api.client.delete(f"/v1/datasets/{ds['id']}", headers=api.admin).status_code == 204
    r = ingest(api, refresh_of=ds["id"])
    assert r.status_code == 404 and api.error_fields(r) == ["refresh_of"]
