"""SQLite schema migrations up and down on a populated file (docs/migrations.md).

The current release's store only opens a file at the latest version (it migrates on open), so at
versions 1 and 2 the check is the one the release of that version ran: its single chain
(`verify_chain`) over the ``audit`` table, and the rows of every table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from migration_population import PROJECTS, audit_content, populate, snapshot

from optiloop.audit.chain import verify_chain
from optiloop.audit.digest import seal
from optiloop.audit.signing import HmacFileSigner
from optiloop.store.migrations import DataLossRefused
from optiloop.store.records import AuditRecord
from optiloop.store.sqlite import SqliteStore, schema
from optiloop.store.sqlite.schema import LATEST_VERSION, migrate_file, read_version


@pytest.fixture
def populated(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    path = tmp_path / "optiloop.db"
    store = SqliteStore(path)
    populate(store)
    before = snapshot(store)
    assert tuple(store.audit.verify()) == (True, None)
    store.close()
    yield path, before


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _tables(path: Path) -> set[str]:
    conn = _raw(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _single_chain(path: Path) -> list[AuditRecord]:
    """The v1/v2 trail as that release read it; asserts it verifies the way that release did."""
    conn = _raw(path)
    try:
        rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    finally:
        conn.close()
    records = [
        AuditRecord(seq=r[0], id=r[1], at=r[2], principal=r[3], action=r[4], project_id=r[5], target=r[6],
                    details=json.loads(r[7]), prev_hash=r[8], hash=r[9])
        for r in rows
    ]  # fmt: skip
    assert verify_chain(records) == (True, None)
    return records


def _counts(path: Path) -> dict[str, int]:
    conn = _raw(path)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("projects", "constraints", "tests", "runs", "api_keys")}  # fmt: skip
    finally:
        conn.close()


def _reopened(path: Path, before: dict[str, Any], *, append: bool = False) -> None:
    """The latest release reads it all back, the trail verifies, and (`append`) goes on."""
    store = SqliteStore(path)
    try:
        assert snapshot(store) == before
        assert tuple(store.audit.verify()) == (True, None)
        if not append:
            return
        rec = store.audit.append(principal="a", action="x", project_id="p1", target=None, details={})
        assert rec.seq == store.audit.anchor().seq + 1  # new shards continue from the folded chain
        assert tuple(store.audit.verify()) == (True, None)
    finally:
        store.close()


def test_down_to_1_and_back_up_keeps_every_record(populated: tuple[Path, dict[str, Any]]) -> None:
    path, before = populated
    counts = _counts(path)
    assert migrate_file(str(path), 2) == (LATEST_VERSION, 2)
    chain = _single_chain(path)
    assert audit_content(chain) == before["audit"]  # every record, re-chained in tenant-wide order
    assert [r.seq for r in chain] == list(range(1, len(before["audit"]) + 1))
    assert "audit_log" not in _tables(path) and "docs" in _tables(path)

    assert migrate_file(str(path), 1) == (2, 1)  # docs are parked, not lost: no flag needed
    assert read_version(str(path)) == 1
    assert "docs" not in _tables(path) and "docs_parked_v2" in _tables(path)
    assert _counts(path) == counts and _single_chain(path) == chain

    assert migrate_file(str(path), 2) == (1, 2)
    assert _single_chain(path) == chain and "docs_parked_v2" not in _tables(path)
    assert migrate_file(str(path)) == (2, LATEST_VERSION)
    _reopened(path, before, append=True)

    # and once more: a second round trip is stable (the folded chain is the legacy prefix now)
    assert migrate_file(str(path), 1)[1] == 1
    assert audit_content(_single_chain(path))[: len(before["audit"])] != []
    migrate_file(str(path))
    store = SqliteStore(path)
    assert tuple(store.audit.verify()) == (True, None)
    assert all(snapshot(store)[f"docs {pid}"] == before[f"docs {pid}"] for pid in PROJECTS)
    store.close()


def test_the_legacy_prefix_keeps_its_hashes_through_a_fold(populated: tuple[Path, dict[str, Any]]) -> None:
    path, _ = populated
    migrate_file(str(path), 2)
    first = _single_chain(path)
    migrate_file(str(path))
    migrate_file(str(path), 2)  # the whole trail is legacy now: the fold changes nothing
    assert _single_chain(path) == first


def test_data_losing_downgrades_are_refused_without_the_flag(populated: tuple[Path, dict[str, Any]]) -> None:
    path, before = populated
    with pytest.raises(DataLossRefused, match="drops every table") as refused:
        migrate_file(str(path), 0)
    assert "3 projects" in str(refused.value) and read_version(str(path)) == LATEST_VERSION
    _reopened(path, before)  # nothing changed, not even the steps above 1 that lose nothing

    store = SqliteStore(path)
    assert seal(store.audit, HmacFileSigner(path.parent / "k"), force=True) is not None
    store.close()
    with pytest.raises(DataLossRefused, match="1 signed audit digests"):
        migrate_file(str(path), 2)
    assert read_version(str(path)) == LATEST_VERSION
    assert migrate_file(str(path), 2, allow_data_loss=True) == (LATEST_VERSION, 2)
    assert audit_content(_single_chain(path)) == before["audit"]
    assert migrate_file(str(path), 0, allow_data_loss=True) == (2, 0)
    assert _tables(path) == {"schema_version"}
    assert migrate_file(str(path)) == (0, LATEST_VERSION)  # and an empty file comes back up


def test_a_failing_step_leaves_the_previous_version(
    populated: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = populated
    real = schema.STEPS[2]

    def down_then_fail(conn: sqlite3.Connection) -> None:
        real.down(conn)  # the whole fold, then an error before the step commits
        raise OSError("disk full")

    def up_then_fail(conn: sqlite3.Connection) -> None:
        real.up(conn)
        raise OSError("disk full")

    failing_down = schema.Step(3, "x", real.up, down_then_fail, real.loses)
    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS[:2], failing_down, *schema.STEPS[3:]])
    with pytest.raises(OSError):
        migrate_file(str(path), 1)
    assert read_version(str(path)) == 3
    _reopened(path, before)

    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS[:2], real, *schema.STEPS[3:]])
    migrate_file(str(path), 2)
    chain = _single_chain(path)
    monkeypatch.setattr(
        schema,
        "STEPS",
        [*schema.STEPS[:2], schema.Step(3, "x", up_then_fail, real.down, real.loses), *schema.STEPS[3:]],
    )
    with pytest.raises(OSError):
        migrate_file(str(path))
    assert read_version(str(path)) == 2 and _single_chain(path) == chain
    assert "audit_log" not in _tables(path)


def test_a_trail_that_does_not_verify_is_not_folded(populated: tuple[Path, dict[str, Any]]) -> None:
    path, _ = populated
    conn = _raw(path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET principal = 'mallory' WHERE shard = 'p/p2' AND seq = 2")
    conn.close()
    with pytest.raises(RuntimeError, match="does not verify"):
        migrate_file(str(path), 2)
    assert read_version(str(path)) == 3


def test_unknown_targets_are_refused(populated: tuple[Path, dict[str, Any]]) -> None:
    path, _ = populated
    with pytest.raises(ValueError, match="no schema version"):
        migrate_file(str(path), LATEST_VERSION + 1)


def test_cli_db_version_and_migrate(
    populated: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    from optiloop.cli.main import main

    path, before = populated
    data = str(path.parent)
    assert main(["db", "version", "--data-dir", data]) == 0
    assert f"schema version {LATEST_VERSION}" in capsys.readouterr().out
    assert main(["db", "migrate", "--to", "0", "--data-dir", data]) == 1
    assert "would lose data" in capsys.readouterr().err
    assert main(["db", "migrate", "--to", "1", "--data-dir", data]) == 0
    assert f"{LATEST_VERSION} -> 1" in capsys.readouterr().out
    assert main(["db", "migrate", "--data-dir", data]) == 0
    assert f"1 -> {LATEST_VERSION}" in capsys.readouterr().out
    _reopened(path, before)
    assert main(["db", "version", "--data-dir", str(path.parent / "nothing")]) == 2


def _sorts(path: Path, kind: str) -> list[tuple[str, str]]:
    """(id, sort) of every document of `kind`, in one project's listing order."""
    conn = _raw(path)
    try:
        rows = conn.execute(
            "SELECT id, sort FROM docs WHERE kind = ? AND scope = 'p1' ORDER BY sort, id", (kind,)
        )
        return [(r[0], r[1]) for r in rows]
    finally:
        conn.close()


def test_4_lists_models_and_deployments_by_creation_and_3_by_name(
    populated: tuple[Path, dict[str, Any]],
) -> None:
    path, before = populated
    created = [("p1_m1", "2025-01-01T00:00:00.000Z#p1_m1"), ("p1_m2", "2025-01-02T00:00:00.000Z#p1_m2")]
    assert _sorts(path, "model") == created
    assert migrate_file(str(path), 3) == (LATEST_VERSION, 3)
    assert _sorts(path, "model") == [("p1_m2", "alpha"), ("p1_m1", "zeta")]  # what version 3 wrote
    assert _sorts(path, "deployment") == [("p1_pr2:dev", "alpha#dev"), ("p1_pr1:dev", "zeta#dev")]

    # a deployment as version 3 wrote it (no created_at) dates from its oldest move
    conn = _raw(path)
    first = {"at": "2024-12-31T00:00:00.000Z", "version_id": "pv"}
    data = {"prompt_id": "p1_old", "prompt_name": "old", "project_id": "p1", "environment": "dev",
            "version_id": "pv", "version": 1, "overrides": {}, "deployed_at": "2025-03-01T00:00:00.000Z",
            "deployed_by": "bob", "history": [first]}  # fmt: skip
    conn.execute(
        "INSERT INTO docs (kind, id, scope, sort, data, rev) VALUES ('deployment', 'p1_old:dev', 'p1', "
        "'old#dev', ?, 3)",
        (json.dumps(data),),
    )
    conn.close()
    assert migrate_file(str(path)) == (3, LATEST_VERSION)
    assert _sorts(path, "model") == created
    assert [i for i, _ in _sorts(path, "deployment")] == ["p1_old:dev", "p1_pr1:dev", "p1_pr2:dev"]
    store = SqliteStore(path)
    try:
        old = store.docs.get("deployment", "p1_old:dev")
        assert old is not None and old.rev == 3 and old.data["created_at"] == "2024-12-31T00:00:00.000Z"
        store.docs.delete("deployment", "p1_old:dev")
    finally:
        store.close()
    _reopened(path, before)
    assert migrate_file(str(path)) == (LATEST_VERSION, LATEST_VERSION)  # idempotent
