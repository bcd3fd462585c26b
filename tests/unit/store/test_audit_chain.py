"""The chain's wire format, pinned: every adapter and any offline verifier must hash exactly so."""

from __future__ import annotations

import re
from dataclasses import replace

from optiloop.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    hash_of,
    new_audit_id,
    record_hash,
    utc_now_ms,
    verify_chain,
)
from optiloop.store.records import AuditRecord

# Computed once by hand from the documented formula; a change here breaks every stored chain.
KNOWN_BODY = (
    '{"action":"project.create","at":"2025-01-01T00:00:00.000Z","details":{"a":"é","b":1},'
    '"id":"aud_00","principal":"alice","project_id":"p1","seq":1,"target":null}'
)
KNOWN_HASH = "636e5b6f67d722aa28b325e6f53861b29d5d1e1df79171be553a018b8259cbf0"


def test_known_answer() -> None:
    fields = {
        "seq": 1,
        "id": "aud_00",
        "at": "2025-01-01T00:00:00.000Z",
        "principal": "alice",
        "action": "project.create",
        "project_id": "p1",
        "target": None,
        "details": {"b": 1, "a": "é"},
    }
    assert canonical_json(fields) == KNOWN_BODY
    assert record_hash(GENESIS_HASH, **fields) == KNOWN_HASH
    assert GENESIS_HASH == "0" * 64


def _chain(n: int) -> list[AuditRecord]:
    out: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        rec = AuditRecord(
            seq, f"aud_{seq}", "2025-01-01T00:00:00.000Z", "a", "x", None, None, {"i": seq}, prev
        )
        rec = replace(rec, hash=hash_of(rec))
        out.append(rec)
        prev = rec.hash
    return out


def test_verify_chain() -> None:
    good = _chain(5)
    assert verify_chain([]) == (True, None)
    assert verify_chain(good) == (True, None)
    assert verify_chain(good[:2] + good[3:]) == (False, 4)  # gap
    assert verify_chain([good[1], good[0], *good[2:]]) == (False, 2)  # reordered
    assert verify_chain(good[1:]) == (False, 2)  # first record missing
    assert verify_chain([*good[:2], replace(good[2], principal="m"), *good[3:]]) == (False, 3)
    assert verify_chain([*good[:2], replace(good[2], details={"x": {1, 2}}), *good[3:]]) == (False, 3)


def test_ids_and_timestamps() -> None:
    assert re.fullmatch(r"aud_[0-9a-f]{32}", new_audit_id())
    assert new_audit_id() != new_audit_id()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", utc_now_ms())
