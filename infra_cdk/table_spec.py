"""The DynamoDB table's shape: keys, indexes and the TTL attribute, in one place.

The adapter (shared/optiloop/store/dynamodb/) owns the access patterns, so it owns the key schema;
this module only translates its plain-data spec (`table_spec.py`: PARTITION_KEY, SORT_KEY, INDEXES,
ATTRIBUTE_DEFINITIONS, TTL_ATTRIBUTE) into the few fields CDK needs. Reading the spec file by path
keeps synth free of the adapter's imports (boto3 and the core), and the moto tests create their
table from the same file, so the two cannot drift.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
ADAPTER_SPEC = REPO / "shared" / "optiloop" / "store" / "dynamodb" / "table_spec.py"


@dataclass(frozen=True)
class Key:
    name: str
    type: str = "S"  # S | N | B, as in DynamoDB's AttributeDefinitions


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: Key
    sort_key: Key | None = None
    projection: str = "ALL"  # ALL | KEYS_ONLY


@dataclass(frozen=True)
class TableShape:
    partition_key: Key
    sort_key: Key | None
    indexes: tuple[Index, ...]
    ttl_attribute: str
    source: str  # where the shape came from, for error messages and the README


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("optiloop_table_spec", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_shape(path: Path = ADAPTER_SPEC) -> TableShape:
    """The adapter's table as CDK needs it. A missing or renamed spec stops synth: a table guessed
    here would deploy fine and fail on the first query."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: the DynamoDB adapter's table spec is required to build the table")
    module = _load(path)
    types = {a["AttributeName"]: a["AttributeType"] for a in module.ATTRIBUTE_DEFINITIONS}

    def key(name: str | None) -> Key | None:
        return Key(name, types.get(name, "S")) if name else None

    partition = key(module.PARTITION_KEY)
    assert partition is not None
    return TableShape(
        partition_key=partition,
        sort_key=key(getattr(module, "SORT_KEY", None)),
        indexes=tuple(
            Index(
                ix["name"],
                Key(ix["partition_key"], types.get(ix["partition_key"], "S")),
                key(ix.get("sort_key")),
                ix.get("projection", "ALL"),
            )
            for ix in module.INDEXES
        ),
        ttl_attribute=module.TTL_ATTRIBUTE,
        source=str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path),
    )
