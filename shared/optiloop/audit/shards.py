"""Which chain a record joins, and the one order every adapter lists the whole trail in.

A tenant's trail is many hash chains ("shards") instead of one, so that writers of different projects
never touch the same item:

* ``p/<project_id>``: every record of one project. The project's own writes already serialise on its
  counters (test/run seqs), so its chain adds no new contention point.
* ``tenant``: records without a project (keys, bootstrap, platform-wide refusals). One shard, not a
  hash-spread set: these are rare administrative actions an auditor reads as one story (who made
  which admin key when), and spreading them would only trade that total order for throughput nobody
  needs. High-rate paths do not append at all; they go through `optiloop.audit.events`.
* ``legacy``: the single chain written before shards existed, kept as it was and sealed by the
  anchor (see `anchor` below and docs/audit-trail.md).

Every shard's chain continues from the **anchor**, the legacy chain's last (seq, hash) (``(0,
GENESIS_HASH)`` on a trail that never had one): a shard's first record has seq ``anchor.seq + 1``
and ``prev_hash = anchor.hash``. So a project's records, old and new, keep one increasing seq (its
legacy records have seq <= anchor.seq, its shard records > anchor.seq) and ``after_seq`` paging of a
project's listing works across the migration.

Tenant-wide order (``ord``): legacy records first, by seq; then every shard's records by
(at, shard, seq). ``ord`` is a text whose byte order is that order, stored with the record, so
a cursor is simply the ``ord`` of the last record seen.
"""

from __future__ import annotations

import base64
import binascii
import zlib

from optiloop.errors import FieldProblem, InvalidInput

TENANT_SHARD = "tenant"
LEGACY_SHARD = "legacy"
PROJECT_PREFIX = "p/"
TIME_BUCKETS = 8  # DynamoDB write sharding of the tenant-wide time index (see dynamodb/audit.py)
_LEGACY_ORD = "0|"
_SHARD_ORD = "1|"


def shard_of(project_id: str | None) -> str:
    return PROJECT_PREFIX + project_id if project_id else TENANT_SHARD


def project_of(shard: str) -> str | None:
    return shard[len(PROJECT_PREFIX) :] if shard.startswith(PROJECT_PREFIX) else None


def ord_of(shard: str, seq: int, at: str) -> str:
    """The record's position in the tenant-wide listing (text order = listing order)."""
    if shard == LEGACY_SHARD:
        return f"{_LEGACY_ORD}{seq:020d}"
    return f"{_SHARD_ORD}{at}|{shard}|{seq:020d}"


def first_shard_ord() -> str:
    """Below every shard record's ord and above every legacy one's."""
    return _SHARD_ORD


def month_of(at: str) -> str:
    return at[:7]  # "YYYY-MM" of the fixed-width ISO time


def bucket_of(shard: str) -> int:
    """Stable across processes and releases (crc32, not Python's salted hash)."""
    return zlib.crc32(shard.encode("utf-8")) % TIME_BUCKETS


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def encode_cursor(ord_text: str) -> str:
    """Opaque to clients (they must not build one), URL-safe."""
    return base64.urlsafe_b64encode(ord_text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        text = ""
    if not (text.startswith(_LEGACY_ORD) or text.startswith(_SHARD_ORD)):
        raise InvalidInput(
            FieldProblem("after", "not a cursor this API returned", hint="pass next_after from the last page")
        )
    return text
