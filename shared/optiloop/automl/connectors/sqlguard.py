"""The statement check of SQL connectors: one SELECT (or `WITH ... SELECT`, or `VALUES`), nothing else.

This is the first of two guards, not the only one: the connection is also opened read-only where
the driver allows it (optiloop.automl.connectors.sql), because a keyword list cannot know every
dialect's side-effecting functions. What it refuses, with the reason in the 422:

- more than one statement (`;` followed by anything);
- a first keyword other than SELECT, WITH, VALUES or TABLE;
- anywhere outside string literals, quoted identifiers and comments, a keyword that writes, locks or
  changes the session: INSERT, UPDATE, DELETE, MERGE, UPSERT, REPLACE, CREATE, DROP, ALTER, TRUNCATE,
  GRANT, REVOKE, COPY, ATTACH, DETACH, PRAGMA, VACUUM, REINDEX, CLUSTER, LOCK, CALL, EXEC, EXECUTE,
  DO, SET, RESET, LOAD, IMPORT, INTO (`SELECT ... INTO` creates a table), and `FOR UPDATE/SHARE`.

Words are matched whole and case-insensitively, so a column named `updated_at` or a string
`'delete me'` is fine; a column literally named `update` must be quoted ("update").
"""

from __future__ import annotations

import re

from optiloop.errors import FieldProblem, InvalidInput

MAX_QUERY_CHARS = 20_000
FIRST = frozenset({"select", "with", "values", "table"})
WRITES = frozenset(
    [
        "insert",
        "update",
        "delete",
        "merge",
        "upsert",
        "replace",
        "create",
        "drop",
        "alter",
        "truncate",
        "grant",
        "revoke",
        "copy",
        "attach",
        "detach",
        "pragma",
        "vacuum",
        "reindex",
        "cluster",
        "lock",
        "call",
        "exec",
        "execute",
        "do",
        "set",
        "reset",
        "load",
        "import",
        "into",
        "comment",
        "analyze",
        "refresh",
        "listen",
        "notify",
        "prepare",
        "deallocate",
        "discard",
        "checkpoint",
        "savepoint",
        "release",
        "rollback",
        "commit",
        "begin",
        "start",
    ]
)
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line>--[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<str>'(?:[^']|'')*')
  | (?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$)
  | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<semi>;)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _bad(reason: str) -> InvalidInput:
    return InvalidInput(FieldProblem("query", reason, hint="SQL connectors run one read-only SELECT"))


def words(sql: str) -> list[str]:
    """The statement's keywords and bare identifiers, lower-cased, in order; `;` as a word of its own.
    Unterminated strings, quotes or comments are refused (they hide what follows)."""
    out: list[str] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:  # pragma: no cover - `other` matches any single character
            raise _bad("cannot be read")
        kind = m.lastgroup
        if (kind == "other" and sql[pos] in "'\"`[$") or (kind == "other" and sql.startswith("/*", pos)):
            raise _bad(f"has an unterminated quote or comment at character {pos + 1}")
        if kind == "word":
            out.append(m.group().lower())
        elif kind == "semi":
            out.append(";")
        pos = m.end()
    return out


def check_select(sql: str) -> str:
    """The query, stripped of a trailing `;`; an InvalidInput naming `query` unless it only reads."""
    if not sql.strip():
        raise _bad("is empty")
    if len(sql) > MAX_QUERY_CHARS:
        raise _bad(f"is {len(sql)} characters; at most {MAX_QUERY_CHARS}")
    if "\x00" in sql:
        raise _bad("contains a NUL character")
    toks = words(sql)
    while toks and toks[-1] == ";":
        toks.pop()
    if ";" in toks:
        raise _bad("holds more than one statement")
    if not toks or toks[0] not in FIRST:
        first = toks[0].upper() if toks else "nothing"
        raise _bad(f"starts with {first}; only SELECT, WITH ... SELECT, VALUES or TABLE read")
    for i, w in enumerate(toks):
        if w in WRITES:
            raise _bad(f"uses {w.upper()}, which writes, locks or changes the session")
        if w == "for" and i + 1 < len(toks) and toks[i + 1] in ("update", "share", "no", "key"):
            raise _bad("locks rows (FOR UPDATE/SHARE)")
    return sql.strip().rstrip(";").rstrip()
