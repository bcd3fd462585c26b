"""SQL connectors against a real PostgreSQL (a throwaway cluster started here when the server binaries
and psycopg are installed; skipped otherwise): credentials by reference, the read-only session, a
table the role cannot read, the statement timeout and the row cap."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PASSWORD = "reader-Pw-0d9f8a"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user where we are root."""
    if os.geteuid() != 0:
        return args
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser")
    return [runuser, "-u", "postgres", "--", *args]


@pytest.fixture(scope="module")
def postgres() -> Iterator[int]:
    pytest.importorskip("psycopg")
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    # not under pytest's tmp folder: that is private to root, and the server runs as `postgres`
    base = Path(tempfile.mkdtemp(prefix="optiloop-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        base.chmod(0o700)
    port = _free_port()
    run = lambda args: subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=120)  # noqa: E731
    out = run(
        [initdb, "-N", "-D", str(data), "-U", "admin", "--auth-local=trust", "--auth-host=scram-sha-256"]
    )
    if out.returncode != 0:
        pytest.skip(f"initdb failed: {out.stderr[-300:]}")
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
    out = run([pg_ctl, "-D", str(data), "-o", opts, "-w", "-t", "60", "-l", str(base / "log"), "start"])
    if out.returncode != 0:
        pytest.skip(f"pg_ctl start failed: {out.stderr[-300:]}")
    import psycopg

    try:
        with psycopg.connect(
            host=str(base), port=port, user="admin", dbname="postgres", autocommit=True
        ) as c:
            c.execute(f"create role reader login password '{PASSWORD}'")
            c.execute("create table people (id serial primary key, email text, age int, risk text)")
            c.execute(
                "insert into people (email, age, risk) select 'user' || i || '@example.com', 20 + i % 40, "
                "(array['low','medium','high'])[1 + i % 3] from generate_series(1, 300) i"
            )
            c.execute("create table salaries (person int, amount numeric)")
            c.execute("create sequence ticket")
            c.execute("grant select on people to reader")
            c.execute("grant usage on sequence ticket to reader")
        yield port
    finally:
        run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def _connector(api: Any, pid: str, port: int, **extra: Any) -> dict[str, Any]:
    r = api.client.post(
        "/v1/connectors",
        headers=api.admin,
        json={
            "project_id": pid,
            "name": "pg",
            "kind": "sql",
            "url": f"postgresql+psycopg://reader@127.0.0.1:{port}/postgres",
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _ingest(api: Any, pid: str, con: dict[str, Any], **body: Any) -> Any:
    return api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        json={"project_id": pid, "name": "pg", "connector_id": con["id"], **body},
    )


def test_postgres_reads_with_a_password_kept_as_a_secret(api: Any, postgres: int) -> None:
    pid = api.project()
    con = _connector(api, pid, postgres, credentials={"password": PASSWORD})
    assert con["config"]["read_only"] == "driver" and PASSWORD not in str(con)
    r = _ingest(api, pid, con, query="select email, age, risk from people where age >= 30", target="risk")
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["rows"] == sum(1 for i in range(1, 301) if 20 + i % 40 >= 30)
    types = {c["name"]: c["type"] for c in ds["schema"]}
    assert types == {"email": "id", "age": "numeric", "risk": "ordinal"}
    assert {x["column"] for x in ds["report"]["pii"]["columns"] if x["cells"]} == {"email"}
    r = _ingest(api, pid, con, table="public.people")
    assert r.status_code == 201 and r.json()["rows"] == 300, r.text


def test_postgres_refusals_name_the_field(api: Any, postgres: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = api.project()
    con = _connector(api, pid, postgres, credentials={"password": PASSWORD})
    cases = [
        ({"query": "select * from salaries"}, "query", "permission denied"),
        # passes the statement check; the read-only transaction refuses it
        ({"query": "select nextval('ticket')"}, "query", "read-only transaction"),
        ({"query": "select set_config('default_transaction_read_only', 'off', false), * from people"},
         "query", None),
        ({"query": "update people set age = 0"}, "query", "UPDATE"),
        ({"query": "select pg_sleep(5)", "timeout_s": 1}, "query", "time limit"),
        ({"query": "select * from generate_series(1, 5000)", "max_rows": 100}, "max_rows", "more than 100"),
        ({"query": "select * from nope"}, "query", "does not exist"),
    ]  # fmt: skip
    for body, field, why in cases:
        r = _ingest(api, pid, con, **body)
        if why is None:  # the session variable changes nothing for the transaction already begun
            assert r.status_code == 201, r.text
            continue
        assert r.status_code == 422 and api.error_fields(r) == [field], (body, r.text)
        assert why in r.json()["error"]["details"][0]["reason"], r.text
    wrong = _connector(api, pid, postgres, credentials={"password": "wrong-" + PASSWORD})
    r = _ingest(api, pid, wrong, query="select 1 as x")
    assert r.status_code == 422 and api.error_fields(r) == ["query"] and PASSWORD not in r.text
    monkeypatch.setenv("OPTILOOP_SECRET_PG", PASSWORD)
    by_ref = _connector(api, pid, postgres, secret_ref="env:OPTILOOP_SECRET_PG")
    assert by_ref["credentials"] == {"ref": "env:OPTILOOP_SECRET_PG", "fields": [], "managed": False}
    r = _ingest(api, pid, by_ref, query="select count(*) as n from people")
    assert r.status_code == 201, r.text
    import psycopg

    with psycopg.connect(f"postgresql://reader:{PASSWORD}@127.0.0.1:{postgres}/postgres") as c:
        assert c.execute("select count(*), min(age) from people").fetchone() == (300, 20)
