"""The audit hash chain, in one place.

The chain is only worth something if every adapter (SQLite now, DynamoDB later) and any offline
verifier compute byte-identical hashes, so the canonical form lives here and nowhere else:

    hash = sha256(prev_hash + canonical_json({seq, id, at, principal, action, project_id, target, details}))

with canonical JSON = ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``,
encoded as UTF-8, and the genesis ``prev_hash`` = 64 zeros. Changing any of this invalidates every
chain already written, so treat it as a wire format.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from optiloop.store.records import AuditRecord

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """One text per value whatever the key order, so a record re-read from storage hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(
    prev_hash: str,
    *,
    seq: int,
    id: str,
    at: str,
    principal: str,
    action: str,
    project_id: str | None,
    target: str | None,
    details: dict[str, Any],
) -> str:
    """The hash of one record chained to its predecessor.

    Raises ``UnicodeEncodeError`` (a ``ValueError``) for strings holding lone surrogates: they have no
    UTF-8 form, so they could not be hashed identically everywhere.
    """
    body = canonical_json(
        {
            "seq": seq,
            "id": id,
            "at": at,
            "principal": principal,
            "action": action,
            "project_id": project_id,
            "target": target,
            "details": details,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def hash_of(record: AuditRecord) -> str:
    """Recompute a stored record's hash from its own prev_hash (what verification needs)."""
    return record_hash(
        record.prev_hash,
        seq=record.seq,
        id=record.id,
        at=record.at,
        principal=record.principal,
        action=record.action,
        project_id=record.project_id,
        target=record.target,
        details=record.details,
    )


def verify_chain(records: Iterable[AuditRecord]) -> tuple[bool, int | None]:
    """Walk records in seq order: (True, None) if intact, else (False, seq of the first bad record).

    A record is bad if its seq is not the next one (a deleted or inserted row), its prev_hash is not
    the previous record's hash (a removed or reordered predecessor), or its hash does not match its
    content (an edited row). Truncating the newest records cannot be detected from the chain alone;
    that needs the last hash anchored elsewhere.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for rec in records:
        if rec.seq != expected_seq or rec.prev_hash != expected_prev:
            return False, rec.seq
        try:
            ok = hash_of(rec) == rec.hash
        except (TypeError, ValueError):  # details no longer JSON-able / encodable: tampered
            ok = False
        if not ok:
            return False, rec.seq
        expected_prev = rec.hash
        expected_seq += 1
    return True, None


_str = json.JSONEncoder(ensure_ascii=False).encode  # one JSON string literal, as canonical_json writes it


def row_hash(
    prev_hash: str,
    seq: int,
    id: str,
    at: str,
    principal: str,
    action: str,
    project_id: str | None,
    target: str | None,
    details_text: str,
) -> str:
    """`record_hash` from a stored row, without parsing its details (verification's fast path).

    Both adapters store details as canonical JSON text, so the canonical body is assembled by
    concatenation in sorted key order; the result equals `record_hash` for every row written by
    `append`. A row whose text is not canonical (edited by hand) gets a different hash, and the
    verifier then falls back to parsing it (`hash_of`) before calling it tampered.
    """
    body = (
        '{"action":' + _str(action) + ',"at":' + _str(at) + ',"details":' + details_text
        + ',"id":' + _str(id) + ',"principal":' + _str(principal)
        + ',"project_id":' + ("null" if project_id is None else _str(project_id))
        + ',"seq":' + str(seq) + ',"target":' + ("null" if target is None else _str(target)) + "}"
    )  # fmt: skip
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def new_audit_id() -> str:
    """Random, not derived from content, so two identical actions still get distinct ids."""
    return "aud_" + secrets.token_hex(16)


def utc_now_ms() -> str:
    """ISO-8601 UTC with milliseconds and "Z": fixed width, so text order is time order."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
