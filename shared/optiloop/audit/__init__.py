"""The audit trail's tamper evidence, shared by every store adapter so all of them chain alike."""

from optiloop.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    new_audit_id,
    record_hash,
    utc_now_ms,
    verify_chain,
)

__all__ = ["GENESIS_HASH", "canonical_json", "new_audit_id", "record_hash", "utc_now_ms", "verify_chain"]
