"""A dataset's spec: where it is read from and what is checked and done on every ingest of it.

    {"source": {"kind": "upload"} | {"kind": "connector", "connector_id", "path" | "query" | "table"},
     "target": column | null, "expectations": [...], "pii": {"action", "columns"},
     "ordinal": {column: [levels]}, "limits": {"max_rows", "max_bytes", "timeout_s"}}

It is stored with each dataset, and `refresh_of: <dataset id>` ingests again from the same spec
(re-reading the connector, or a new upload of the same kind), so expectations declared once are
checked on every ingest and the same PII policy is applied every time.
"""

from __future__ import annotations

import json
from typing import Any

from optiloop.automl import expectations, ordinal, pii_columns
from optiloop.errors import FieldProblem, InvalidInput

SPEC_FIELDS = ("target", "expectations", "pii", "ordinal")


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """The checked, normalised spec fields of a request body (JSON or multipart form fields)."""
    target = body.get("target")
    if target is not None and (not isinstance(target, str) or not 1 <= len(target) <= 200):
        raise InvalidInput(FieldProblem("target", "must name a column (1..200 characters)"))
    return {
        "target": target,
        "expectations": expectations.validate(body.get("expectations")),
        "pii": pii_columns.validate(body.get("pii")),
        "ordinal": ordinal.check_declared(body.get("ordinal")),
    }


def from_form(fields: dict[str, str]) -> dict[str, Any]:
    """Multipart form fields: `target` as text, the others as JSON text."""
    body: dict[str, Any] = {}
    if "target" in fields and fields["target"].strip():
        body["target"] = fields["target"].strip()
    for name in ("expectations", "pii", "ordinal"):
        if name in fields and fields[name].strip():
            try:
                body[name] = json.loads(fields[name])
            except ValueError:
                raise InvalidInput(FieldProblem(name, "must be JSON text in this form field")) from None
    return validate(body)
