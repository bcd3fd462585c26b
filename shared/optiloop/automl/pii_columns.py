"""The PII scan of a table's string columns, and the masking applied before the table is stored.

Detectors are the prompt guardrails' (optiloop.prompts.guardrails.pii: e-mail, phone, payment card,
IBAN, IP; validated patterns, so an order number is not a phone). Text, categorical and id columns
are scanned — an e-mail column is typed `id` (unique strings without spaces). Numbers are not: a
16-digit card held as a float has already lost digits, so such a column is worth a declared
expectation rather than a guess. Each distinct value is scanned once.

Actions, per column (`pii.columns`) or for all (`pii.action`):
- `report` (default): findings only, values stored as read;
- `mask`: each span replaced by its placeholder (`[EMAIL]`);
- `hash`: each span replaced by `[EMAIL:<16 hex>]`, an HMAC-SHA256 under the project's hashing key
  (kept in the secrets port, made on first use): the same address gives the same token in every
  dataset of the project, so joins and counts survive, while a dictionary of addresses cannot be
  hashed by someone without the key;
- `drop`: the column is removed when it holds any PII.
The report lists every scanned column with what was found (cells, by kind) and what was done.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from typing import Any

import numpy as np

from optiloop.automl.table import Table
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.prompts.guardrails.pii import PLACEHOLDERS, PiiSpan, find_pii

ACTIONS = ("report", "mask", "hash", "drop")
SCANNED_TYPES = ("text", "categorical", "id")
# A report-only scan reads at most this many distinct values per column (then says `sampled`);
# masking reads them all, since an unmasked value is a leak.
REPORT_SAMPLE = 20_000
MAX_CHARS = 10_000  # a longer cell is scanned up to here for a report, whole for masking


def validate(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {"action": "report", "columns": {}}
    if not isinstance(raw, dict):
        raise InvalidInput(FieldProblem("pii", "must be an object {action, columns}"))
    extra = set(raw) - {"action", "columns"}
    if extra:
        raise InvalidInput(FieldProblem("pii", f"unknown fields {sorted(extra)}"))
    action = raw.get("action", "report")
    if action not in ACTIONS:
        raise InvalidInput(FieldProblem("pii.action", f"must be one of {', '.join(ACTIONS)}"))
    cols = raw.get("columns") or {}
    if not isinstance(cols, dict):
        raise InvalidInput(FieldProblem("pii.columns", "must be an object: column -> action"))
    for k, v in cols.items():
        if v not in ACTIONS:
            raise InvalidInput(FieldProblem(f"pii.columns.{k}", f"must be one of {', '.join(ACTIONS)}"))
    return {"action": action, "columns": dict(cols)}


def hash_key_of(store: Any, project_id: str) -> bytes:
    """The project's PII hashing key from the secrets port (made on first use)."""
    got = store.get_or_create(f"pii-hash/{project_id}", lambda: {"key": secrets.token_hex(32)})
    return bytes.fromhex(got["key"])


def _replace(text: str, spans: tuple[PiiSpan, ...], action: str, key: bytes | None) -> str:
    out: list[str] = []
    pos = 0
    for s in spans:
        out.append(text[pos : s.start])
        if action == "hash" and key is not None:
            digest = hmac.new(key, text[s.start : s.end].encode(), hashlib.sha256).hexdigest()[:16]
            out.append(f"[{s.kind.upper()}:{digest}]")
        else:
            out.append(PLACEHOLDERS[s.kind])
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def scan_and_apply(table: Table, policy: dict[str, Any], key: Any) -> dict[str, Any]:
    """Scan, then mask/hash/drop in place per the policy; the per-column report.

    `key`: the hashing key, or a callable that returns it (asked only if some column is hashed)."""
    for name in policy["columns"]:
        if table.column(name) is None:
            raise InvalidInput(FieldProblem(f"pii.columns.{name}", "no such column in the data"))
    report: list[dict[str, Any]] = []
    drop: list[str] = []
    warnings: set[str] = set()
    for c in table.columns:
        if c.type not in SCANNED_TYPES or c.values.dtype.kind != "U":
            continue
        action = policy["columns"].get(c.name, policy["action"])
        present = ~c.missing
        uniq, inverse = np.unique(c.values[present], return_inverse=True)
        counts = np.bincount(inverse, minlength=uniq.size) if uniq.size else np.zeros(0, dtype=np.int64)
        sampled = action == "report" and uniq.size > REPORT_SAMPLE
        limit = REPORT_SAMPLE if sampled else uniq.size
        kinds: Counter[str] = Counter()
        cells = 0
        found: dict[int, tuple[PiiSpan, ...]] = {}
        for i in range(limit):
            text = str(uniq[i])
            scan = find_pii(text if action != "report" else text[:MAX_CHARS])
            warnings.update(w for w in scan.warnings if not w.startswith("names not checked"))
            if scan.spans:
                found[i] = scan.spans
                cells += int(counts[i])
                for s in scan.spans:
                    kinds[s.kind] += int(counts[i])
        applied = action if found else "none"
        if found and action in ("mask", "hash"):
            k = key() if callable(key) and action == "hash" else key
            new = np.array(
                [_replace(str(u), found[i], action, k) if i in found else str(u) for i, u in enumerate(uniq)],
                dtype=str,
            )
            values = c.values.astype(object)
            values[present] = new[inverse]
            c.values = np.array(values.tolist(), dtype=str)
        elif found and action == "drop":
            drop.append(c.name)
        report.append(
            {
                "column": c.name,
                "type": c.type,
                "scanned_values": int(limit),
                "sampled": sampled,
                "cells": cells,
                "kinds": dict(sorted(kinds.items())),
                "action": applied,
            }
        )
    if drop:
        table.columns = [c for c in table.columns if c.name not in drop]
    return {"columns": report, "dropped": drop, "warnings": sorted(warnings)}
