"""What a use case receives: ports, never adapters (the runtime wires them in `optiloop.runtime`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from optiloop.store.ports import BlobStore, Store


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass
class Deps:
    store: Store
    blobs: BlobStore
    clock: Callable[[], str] = utc_now
    ids: Callable[[str], str] = field(default=new_id)
