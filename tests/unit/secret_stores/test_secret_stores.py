"""The secrets port's one contract over each adapter (memory, local folder, Secrets Manager under
moto), and the operator's `env:` references."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from optiloop.errors import InvalidInput
from optiloop.secrets.local import FolderSecrets, MemorySecrets
from optiloop.secrets.port import SecretMissing, SecretStore, check_env_ref, read_env_ref


@pytest.fixture(params=["memory", "folder", "aws"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretStore]:
    if request.param == "memory":
        yield MemorySecrets()
    elif request.param == "folder":
        yield FolderSecrets(tmp_path / "secrets")
    else:
        moto = pytest.importorskip("moto")
        import boto3

        from optiloop.secrets.aws import SecretsManagerSecrets

        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with moto.mock_aws():
            yield SecretsManagerSecrets(boto3.client("secretsmanager"), "optiloop/acme")


def test_put_get_overwrite_delete(store: SecretStore) -> None:
    ref = store.put("connectors/prj_1/con_1", {"password": "p1"})
    assert ref == store.ref_of("connectors/prj_1/con_1") and "p1" not in ref
    assert store.get(ref) == {"password": "p1"}
    assert store.put("connectors/prj_1/con_1", {"password": "p2"}) == ref
    assert store.get(ref) == {"password": "p2"}
    store.delete(ref)
    with pytest.raises(SecretMissing):
        store.get(ref)
    store.delete(ref)  # deleting twice is a no-op


def test_get_or_create_makes_once(store: SecretStore) -> None:
    made: list[int] = []

    def make() -> dict[str, str]:
        made.append(1)
        return {"key": f"k{len(made)}"}

    assert store.get_or_create("pii-hash/prj_1", make) == {"key": "k1"}
    assert store.get_or_create("pii-hash/prj_1", make) == {"key": "k1"} and len(made) == 1


def test_unknown_and_foreign_references_are_missing(store: SecretStore) -> None:
    for ref in ("memory:nope", "local:nope", "aws:other-tenant/connectors/x", "aws:optiloop/acme/nope"):
        with pytest.raises(SecretMissing):
            store.get(ref)


def test_bad_names_and_values_are_refused(store: SecretStore) -> None:
    for name in ("../escape", "a b", ""):
        with pytest.raises(ValueError):
            store.put(name, {"password": "x"})
    for value in ({}, {"password": 1}, {"password": "x" * 20_000}):
        with pytest.raises(ValueError):
            store.put("ok", value)  # type: ignore[arg-type]


def test_folder_secrets_are_private_files(tmp_path: Path) -> None:
    store = FolderSecrets(tmp_path / "secrets")
    store.put("connectors/p/c", {"password": "pw"})
    (path,) = (tmp_path / "secrets").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700


def test_env_references_only_reach_the_secret_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTILOOP_SECRET_PG", "plain-password")
    monkeypatch.setenv("OPTILOOP_SECRET_KEYS", '{"access_key_id": "A", "secret_access_key": "B"}')
    store = MemorySecrets()
    assert store.get("env:OPTILOOP_SECRET_PG") == {"password": "plain-password"}
    assert store.get("env:OPTILOOP_SECRET_KEYS") == {"access_key_id": "A", "secret_access_key": "B"}
    with pytest.raises(SecretMissing):
        store.get("env:OPTILOOP_SECRET_UNSET")
    for ref in ("env:OPTILOOP_ADMIN_TOKEN", "env:HOME", "env:optiloop_secret_x", "OPTILOOP_SECRET_PG"):
        with pytest.raises(InvalidInput):
            check_env_ref(ref, "secret_ref")
        with pytest.raises(SecretMissing):
            read_env_ref(ref)
    store.delete("env:OPTILOOP_SECRET_PG")  # an operator's variable is never deleted
    assert store.get("env:OPTILOOP_SECRET_PG") == {"password": "plain-password"}
