"""The OpenAPI document says how each operation can fail, in the shape the API answers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.factory import open_memory


def _doc() -> dict[str, Any]:
    return create_app(Deps(*open_memory()), Settings(backend="memory")).openapi()


def test_every_operation_documents_its_errors_in_the_real_shape() -> None:
    doc = _doc()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert "422" in codes, (method, path)
            if path not in ("/v1/healthz", "/v1/auth/token", "/.well-known/jwks.json"):
                assert {"401", "403", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "415"} <= codes, (method, path)
    refs = doc["paths"]["/v1/projects"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert refs == {"$ref": "#/components/schemas/Error"}


def test_a_real_error_matches_the_documented_schema() -> None:
    import jsonschema

    app = create_app(Deps(*open_memory()), Settings(backend="memory", admin_token="t" * 32))
    schema = app.openapi()["components"]["schemas"]["Error"]
    c = TestClient(app)
    r = c.post("/v1/projects", headers={"Authorization": "Bearer " + "t" * 32}, json={"name": ""})
    assert r.status_code == 422
    jsonschema.validate(r.json(), schema)
    r = c.get("/v1/projects")
    assert r.status_code == 401
    jsonschema.validate(r.json(), schema)
