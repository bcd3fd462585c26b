"""Path and query parameters shared by several routers (here, so one router never imports another).

Every numeric query parameter has both bounds: an unbounded one reaches the store, where SQLite
stores 64-bit integers (`after_seq=9223372036854775808` was an OverflowError, a 500) and DynamoDB
38-digit numbers. A value out of range is a 422 naming `query.<name>`, like any other bad input.
Identifiers and names in paths refuse control, format (bidi) and separator characters
(`optiloop.names`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path, Query, Response
from pydantic import AfterValidator

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.names import check_name

if TYPE_CHECKING:
    from optiloop.auth import Principal

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
Offset = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_OFFSET,
        deprecated=True,
        description="Deprecated since API 1.1: items to skip, the old form of `after` (`after` wins when "
        "both are given).",
    ),
]

# One cursor name across the API (docs/api-versioning.md, "Listings"): a listing answers `next_after`
# (null on the last page) and takes it back as `after`. Older names stay accepted as deprecated aliases
# (marked so in the OpenAPI document) until they may go, two minor versions later.
After = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=400,
        description="Where the listing goes on: the `next_after` of the previous page, as received "
        "(leave it out for the first page).",
    ),
]
CURSOR_ALIAS_SINCE = "1.1"
"""The API version that made `after_id`, `after_seq` and `before` deprecated aliases of `after`."""


def alias_description(name: str) -> str:
    return (
        f"Deprecated since API {CURSOR_ALIAS_SINCE}: `{name}` is the old name of `after` "
        "(`after` wins when both are given)."
    )


def cursor(after: str | None, alias: str | int | None) -> str | None:
    """The cursor a request meant: `after` when given, else the deprecated alias's value."""
    if after is not None:
        return after
    return None if alias is None or alias == 0 else str(alias)


def offset_cursor(after: str | None, offset: int) -> int:
    """A cursor that is a position in a list the API serves whole (a golden set's examples, an
    evaluation's results): how many items came before; the deprecated `offset` when `after` is absent."""
    if after is None:
        return offset
    if not (after.isascii() and after.isdigit()) or int(after) > MAX_OFFSET:
        raise InvalidInput(
            FieldProblem("after", "this listing's cursor is a position: pass back its next_after")
        )
    return int(after)


def seq_cursor(after: str | None, alias: int, field: str = "after") -> int:
    """A cursor that is a sequence number (tests, one project's audit records): digits only."""
    if after is None:
        return alias
    if not (after.isascii() and after.isdigit()) or int(after) > MAX_SEQ:
        raise InvalidInput(
            FieldProblem(field, "this listing's cursor is a sequence number: pass back its next_after")
        )
    return int(after)


PngName = Annotated[
    str, Path(pattern=r"^[a-z0-9_]{1,40}\.png$", description="A plot's file name, as its listing gives it.")
]
"""A PNG plot's name in a path (an AutoML report's `plots.files`, a model card's `explanation.plots`)."""

PNG_ANSWER: dict[str, Any] = {
    "response_model": None,
    "response_class": Response,
    "responses": {
        200: {
            "description": "The plot.",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
}
"""How a route that answers a PNG declares it (`@router.get(path, **PNG_ANSWER)`)."""


def project_of(body_or_query: str | None, who: Principal) -> str:
    """The project a request names (`project_id` in its body or query), else the one its key is bound
    to; a 422 naming `project_id` when neither says."""
    pid = body_or_query or who.project_id
    if pid is None:
        raise InvalidInput(FieldProblem("project_id", "is required (or use a key bound to one project)"))
    return pid
