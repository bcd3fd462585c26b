"""Connectors through their Lambdas on DynamoDB + S3 + Secrets Manager (moto): the connectors function
stores a credential under the tenant's secret prefix, the automl function reads through the connector
and makes the project's PII hashing key there, and deleting the connector deletes its secret."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from events.harness import (
    ADMIN_TOKEN,
    REGION,
    default_backend,
    deployment,
    invoke,
    load_handlers,
    response_body,
    rest_event,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
PASSWORD = "lambda-Secret-7f3a"


def test_connector_secrets_live_in_secrets_manager(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if default_backend() != "aws":
        pytest.skip("needs the aws backend (moto)")
    root = tmp_path / "root"
    root.mkdir()
    db = sqlite3.connect(root / "crm.db")
    db.execute("create table leads (email text, score real)")
    db.executemany("insert into leads values (?, ?)", [(f"lead{i}@example.com", i / 10) for i in range(25)])
    db.commit()
    db.close()
    env = {"OPTILOOP_SECRETS_PREFIX": "optiloop/acme", "OPTILOOP_CONNECTOR_ROOT": str(root)}
    with deployment(monkeypatch, tmp_path, **env):
        import boto3

        fns = load_handlers(["projects", "connectors", "automl"])

        def call(
            function: str, method: str, path: str, body: object = None, query: dict | None = None
        ) -> dict:
            event = rest_event(method, path, token=ADMIN_TOKEN, body=body, query=query)
            return invoke(fns[function].handler, event, function)

        r = call("projects", "POST", "/v1/projects", {"name": "crm", "description": "d"})
        pid = response_body(r)["id"]
        body = {
            "project_id": pid,
            "name": "crm",
            "kind": "sql",
            "url": "sqlite:///crm.db",
            "credentials": {"password": PASSWORD},
        }
        r = call("connectors", "POST", "/v1/connectors", body)
        assert r["statusCode"] == 201, r["body"]
        assert PASSWORD not in r["body"]
        con = response_body(r)
        name = f"optiloop/acme/connectors/{pid}/{con['id']}"
        assert con["credentials"]["ref"] == f"aws:{name}"
        sm = boto3.client("secretsmanager", region_name=REGION)
        assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"]) == {"password": PASSWORD}
        r = call("connectors", "GET", "/v1/connectors", query={"project_id": pid})
        assert r["statusCode"] == 200 and PASSWORD not in r["body"]

        ingest = {
            "project_id": pid,
            "name": "leads",
            "connector_id": con["id"],
            "query": "select email, score from leads",
            "pii": {"action": "hash"},
        }
        r = call("automl", "POST", "/v1/datasets/ingest", ingest)
        assert r["statusCode"] == 201, r["body"]
        assert response_body(r)["rows"] == 25
        sm.get_secret_value(SecretId=f"optiloop/acme/pii-hash/{pid}")  # made on first use

        r = call("connectors", "DELETE", f"/v1/connectors/{con['id']}")
        assert r["statusCode"] == 204
        with pytest.raises(sm.exceptions.ResourceNotFoundException):
            sm.get_secret_value(SecretId=name)
