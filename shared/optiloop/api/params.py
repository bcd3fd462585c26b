"""Path and query parameters shared by several routers (here, so one router never imports another).

Every numeric query parameter has both bounds: an unbounded one reaches the store, where SQLite
stores 64-bit integers (`after_seq=9223372036854775808` was an OverflowError, a 500) and DynamoDB
38-digit numbers. A value out of range is a 422 naming `query.<name>`, like any other bad input.
Identifiers and names in paths refuse control, format (bidi) and separator characters
(`optiloop.names`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from optiloop.names import check_name

MAX_SEQ = 2**63 - 1
"""Sequence numbers (audit log, tests) and version numbers: SQLite's INTEGER range."""
MAX_OFFSET = 1_000_000
"""Offsets into lists the API serves whole (dataset examples, evaluation results): far past the
largest (50,000 examples), well inside every store's integer range."""

ProjectId = Annotated[str, Path(min_length=1, max_length=100), AfterValidator(check_name)]
EntityId = Annotated[str, Path(min_length=1, max_length=100), AfterValidator(check_name)]
PathName = Annotated[str, Path(min_length=1, max_length=100), AfterValidator(check_name)]
AfterSeq = Annotated[
    int, Query(ge=0, le=MAX_SEQ, description="the last sequence number seen (0: from the start)")
]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
