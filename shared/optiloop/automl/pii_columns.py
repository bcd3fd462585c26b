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
The report lists every scanned column with what was found (cells, by kind) and what was done, and the
detectors' own caveats (person names are not looked for in table columns: `warnings`).
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
# Bounds, because a scan costs ~0.1 ms per distinct value (more for long text) and one request must
# stay well inside a Lambda's 29 s. A report reads at most REPORT_SAMPLE distinct values per column and
# REPORT_BUDGET per table, evenly spread over the sorted values (then it says `sampled`). Masking,
# hashing and dropping must read every distinct value of their columns (an unread value is a leak, or
# a kept column with PII), so more than MASK_BUDGET of them is a 422 naming `pii` before any is read;
# `drop` stops at a column's first finding.
REPORT_SAMPLE = 5_000
REPORT_BUDGET = 20_000
MASK_BUDGET = 100_000
MAX_CHARS = 10_000  # a longer cell is scanned up to here for a report, whole otherwise


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
    scanned = [c for c in table.columns if c.type in SCANNED_TYPES and c.values.dtype.kind == "U"]
    uniques = {c.name: np.unique(c.values[~c.missing], return_inverse=True) for c in scanned}
    full = [c.name for c in scanned if policy["columns"].get(c.name, policy["action"]) != "report"]
    n_full = sum(uniques[name][0].size for name in full)
    if n_full > MASK_BUDGET:
        raise InvalidInput(
            FieldProblem(
                "pii",
                f"columns {full} hold {n_full} distinct values; masking, hashing or dropping reads "
                f"every one and at most {MASK_BUDGET} per ingest",
                hint="drop those columns at the source, ingest fewer rows, or use report",
            )
        )
    report: list[dict[str, Any]] = []
    drop: list[str] = []
    warnings: set[str] = set()
    budget = REPORT_BUDGET
    for c in scanned:
        action = policy["columns"].get(c.name, policy["action"])
        uniq, inverse = uniques[c.name]
        counts = np.bincount(inverse, minlength=uniq.size) if uniq.size else np.zeros(0, dtype=np.int64)
        if action == "report":
            limit = min(uniq.size, REPORT_SAMPLE, budget)
            budget -= limit
            spread = np.linspace(0, max(uniq.size - 1, 0), limit).astype(np.int64)
            order: np.ndarray = np.unique(spread) if limit else np.zeros(0, dtype=np.int64)
        else:
            order = np.arange(uniq.size)
        read = 0
        kinds: Counter[str] = Counter()
        cells = 0
        found: dict[int, tuple[PiiSpan, ...]] = {}
        for i in (int(k) for k in order):
            read += 1
            text = str(uniq[i])
            scan = find_pii(text if action != "report" else text[:MAX_CHARS])
            warnings.update(scan.warnings)
            if scan.spans:
                found[i] = scan.spans
                cells += int(counts[i])
                for s in scan.spans:
                    kinds[s.kind] += int(counts[i])
                if action == "drop":
                    break  # one finding decides
        applied = action if found else "none"
        if found and action in ("mask", "hash"):
            k = key() if callable(key) and action == "hash" else key
            new = np.array(
                [_replace(str(u), found[i], action, k) if i in found else str(u) for i, u in enumerate(uniq)],
                dtype=str,
            )
            values = c.values.astype(object)
            values[~c.missing] = new[inverse]
            c.values = np.array(values.tolist(), dtype=str)
        elif found and action == "drop":
            drop.append(c.name)
        report.append(
            {
                "column": c.name,
                "type": c.type,
                "scanned_values": read,
                "sampled": read < uniq.size,
                "cells": cells,
                "kinds": dict(sorted(kinds.items())),
                "action": applied,
            }
        )
    if drop:
        table.columns = [c for c in table.columns if c.name not in drop]
    return {"columns": report, "dropped": drop, "warnings": sorted(warnings)}
