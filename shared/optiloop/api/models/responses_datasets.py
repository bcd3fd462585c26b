"""What the dataset routes answer (issue 12): `/v1/datasets/{id}` is a golden set (examples for
evaluations) or a table ingested for AutoML (`"kind": "table"`), so `GET` answers one or the other
(`oneOf`, told apart by `kind`). Extra fields stay allowed (`ResponseModel`): minor versions add
fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from optiloop.api.models.common import ResponseModel
from optiloop.api.models.responses import GoldenSetOut


class TableOut(ResponseModel):
    id: str = Field(description="The table's id (`ds_...`).")
    kind: str = Field(description="`table`: an ingested table (a golden set has no `kind`).")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name.")
    format: str = Field(description="The format it was read from: `csv`, `parquet`, `jsonl`...")
    source: dict[str, Any] = Field(
        description=(
            "Where it came from: `kind` (upload, connector), file or query; a file's `format`, text "
            "`encoding` (utf-8, windows-1252, latin-1) and CSV `delimiter`."
        )
    )
    spec: dict[str, Any] = Field(
        description="As ingested: `source`, `target`, `expectations`, `pii`, `ordinal`."
    )
    previous_id: str | None = Field(description="The table it refreshes; null for a first ingest.")
    rows: int = Field(description="How many rows it holds.")
    columns: list[dict[str, Any]] = Field(
        alias="schema",
        description=(
            "Its columns, in order (sent as `schema`): `name`, `type`, and where they apply `levels` "
            "(ordinal, yes/no spellings) and `format` (how a date or number was written)."
        ),
    )
    fingerprint: str = Field(description="A hash of its content: what experiments record.")
    table_key: str = Field(description="Where the typed table is stored.")
    report_key: str = Field(description="Where its quality report is stored.")
    report: dict[str, Any] = Field(
        description="The quality report: per-column profiles, warnings, expectations, leaks, PII, ordinal."
    )
    created_at: str = Field(description="When it was ingested (ISO-8601, UTC).")
    created_by: str = Field(description="Who ingested it.")


class GoldenSetRead(GoldenSetOut):
    rev: int | None = Field(default=None, description="Its revision: one more per upload of examples.")


class ExamplesAdded(GoldenSetOut):
    added: int = Field(description="How many examples this upload added.")


def _dataset_kind(v: Any) -> str:
    """`table` for an ingested table (`"kind": "table"`), else `golden_set`."""
    data = v if isinstance(v, dict) else getattr(v, "__dict__", {})
    return "table" if data.get("kind") == "table" else "golden_set"


DatasetOut = Annotated[
    Annotated[GoldenSetRead, Tag("golden_set")] | Annotated[TableOut, Tag("table")],
    Discriminator(_dataset_kind),
]
"""A golden set or an ingested table, as `kind` says."""
