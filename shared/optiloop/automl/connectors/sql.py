"""SQL connectors: one read-only query through SQLAlchemy 2, bounded in rows, bytes and time.

Read-only twice over: the statement check (optiloop.automl.connectors.sqlguard) and the session.
- SQLite: the file (under the operator's OPTILOOP_CONNECTOR_ROOT only, so the platform's own store
  and the rest of the disk stay out of reach) is opened as `file:...?mode=ro` with `query_only` on;
  a progress handler interrupts a statement past its time.
- PostgreSQL: the session starts with `default_transaction_read_only=on` and a `statement_timeout`,
  the transaction is `READ ONLY`, and it is rolled back at the end. Results stream from a server-side
  cursor, so a result larger than the row cap is never held whole.
- MySQL/MariaDB: `SET SESSION TRANSACTION READ ONLY` and `max_execution_time` are sent too, but no
  MySQL server was there to test them, so such a connector says `"read_only": "statement"`, as does
  any other dialect, whose only guard is the statement check.

SQLAlchemy is imported here only: the connector package is the one place that needs it, and an
installation without it answers SQL connectors with a 422 saying so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import time
import uuid
from pathlib import Path
from typing import Any

from optiloop.automl.connectors import limits
from optiloop.automl.connectors.limits import Bounds
from optiloop.automl.connectors.sqlguard import check_select
from optiloop.errors import Conflict, FieldProblem, InvalidInput

FETCH = 1_000
RawColumns = dict[str, list[Any]]


def _bad(field: str, reason: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason, hint))


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise _bad("url", "SQL connectors need SQLAlchemy on the server (pip install sqlalchemy)") from None
    return sqlalchemy


def parse_url(raw: str) -> Any:
    sa = _sqlalchemy()
    if not raw or len(raw) > 2048:
        raise _bad(
            "url", "must be a SQLAlchemy URL of 1..2048 characters", "postgresql+psycopg://user@host/db"
        )
    try:
        return sa.engine.make_url(raw)
    except Exception:  # ArgumentError, ValueError: the message may echo the URL (and a password)
        raise _bad("url", "is not a SQLAlchemy URL (dialect+driver://user@host:port/database)") from None


def dialect_of(url: Any) -> Any:
    """The dialect class; a 422 when its driver is not installed on the server."""
    try:
        return url.get_dialect()
    except Exception:
        raise _bad(
            "url", f"no driver for {url.drivername!r} is installed on this server", "e.g. postgresql+psycopg"
        ) from None


def sqlite_file(database: str) -> Path:
    """The SQLite file, which must exist under the operator's root (see the module docstring)."""
    root = limits.connector_root()
    if root is None:
        raise Conflict(
            "SQLite connectors are off on this server: the operator has not set OPTILOOP_CONNECTOR_ROOT",
            details=[{"field": "url", "reason": "SQLite files must live under OPTILOOP_CONNECTOR_ROOT"}],
        )
    if not database or database == ":memory:" or database.startswith("file:"):
        raise _bad("url", "must name a SQLite file under the allowed root")
    path = Path(database)
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root):
        raise _bad("url", "the SQLite file is outside the allowed root")
    if not path.is_file():
        raise _bad("url", "no SQLite file at that path under the allowed root")
    return path


def _value(v: Any, column: str) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        raise _bad("query", f"column {column!r} is binary; a table holds scalars only")
    raise _bad("query", f"column {column!r} holds {type(v).__name__} values; a table holds scalars only")


def _engine(sa: Any, url: Any, timeout_s: float) -> Any:
    backend = url.get_backend_name()
    ms = max(1, int(timeout_s * 1000))
    if backend == "sqlite":
        path = sqlite_file(url.database or "")
        return sa.create_engine(
            "sqlite+pysqlite:///" + f"file:{path.as_posix()}?mode=ro&uri=true",
            poolclass=sa.pool.NullPool,
            connect_args={"timeout": timeout_s, "check_same_thread": False},
        )
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["options"] = f"-c default_transaction_read_only=on -c statement_timeout={ms}"
        if url.get_driver_name() in ("psycopg", "psycopg2", "pg8000"):
            connect_args["connect_timeout"] = max(1, int(timeout_s))
    return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)


def _session_guards(conn: Any, backend: str, timeout_s: float, deadline: float) -> None:
    sa = _sqlalchemy()
    if backend == "sqlite":
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA query_only = ON")
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    elif backend == "postgresql":
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
    elif backend in ("mysql", "mariadb"):
        conn.execute(sa.text("SET SESSION TRANSACTION READ ONLY"))
        conn.execute(sa.text(f"SET SESSION max_execution_time = {max(1, int(timeout_s * 1000))}"))


def table_query(url: Any, table: str) -> str:
    """`SELECT * FROM <table>` with the name quoted by the dialect (`schema.table` allowed)."""
    sa = _sqlalchemy()
    if not table or len(table) > 300 or "\x00" in table:
        raise _bad("table", "must be a table name of 1..300 characters")
    schema, _, name = table.rpartition(".")
    t = sa.table(name, schema=schema or None)
    stmt = sa.select(sa.text("*")).select_from(t)
    return str(stmt.compile(dialect=dialect_of(url)()))


def read(
    url_str: str, password: str | None, query: str, bounds: Bounds, *, field: str = "query"
) -> RawColumns:
    """Run the query and collect its columns; 422s name `query` (or `table`) for what the database
    refused and `max_rows` / `max_bytes` for a result over the bounds."""
    sa = _sqlalchemy()
    sql = check_select(query) if field == "query" else query
    url = parse_url(url_str)._replace(password=password)  # the stored URL holds *** or nothing
    backend = url.get_backend_name()
    deadline = time.monotonic() + bounds.timeout_s
    engine = _engine(sa, url, bounds.timeout_s)
    cols: list[list[Any]] = []
    names: list[str] = []
    size = 0
    try:
        with engine.connect() as conn:
            try:
                _session_guards(conn, backend, bounds.timeout_s, deadline)
                result = conn.execution_options(stream_results=True, max_row_buffer=FETCH).execute(
                    sa.text(sql)
                )
                if not result.returns_rows:
                    raise _bad(field, "returns no rows")
                names = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result iterates rows
                cols = [[] for _ in names]
                n = 0
                while True:
                    batch = result.fetchmany(FETCH)
                    if not batch:
                        break
                    for row in batch:
                        n += 1
                        if n > bounds.max_rows:
                            raise _bad(
                                "max_rows",
                                f"the result has more than {bounds.max_rows} rows",
                                "add a LIMIT or a WHERE, or raise max_rows",
                            )
                        for c, v in enumerate(row):
                            value = _value(v, names[c])
                            size += len(value) if isinstance(value, str) else 8
                            cols[c].append(value)
                    if size > bounds.max_bytes:
                        raise _bad("max_bytes", f"the result is larger than {bounds.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise _bad("timeout_s", f"the query ran past {bounds.timeout_s:g} s")
                result.close()
            finally:
                with contextlib.suppress(Exception):  # a broken connection must not hide why it broke
                    conn.rollback()
    except InvalidInput:
        raise
    except sa.exc.DBAPIError as e:
        raise _bad(field, _db_reason(e, url, password, time.monotonic() > deadline)) from None
    except sa.exc.SQLAlchemyError as e:
        raise _bad(field, f"could not be run: {e.__class__.__name__}") from None
    finally:
        engine.dispose()
    return dict(zip(names, cols, strict=True))


def _db_reason(e: Any, url: Any, password: str | None, late: bool) -> str:
    """The database's own first line, which names the refusal (permission denied for table t,
    read-only transaction, no such table), with the password and host credentials scrubbed."""
    if late:
        return "ran past its time limit (timeout_s)"
    orig = getattr(e, "orig", None)
    text = (
        str(orig if orig is not None else e).strip().splitlines()[0][:500] if str(orig or e).strip() else ""
    )
    if password:
        text = text.replace(password, "***")
    if "interrupted" in text.lower() or "statement timeout" in text.lower() or "canceling statement" in text:
        return "ran past its time limit (timeout_s)"
    if isinstance(e, _sqlalchemy().exc.OperationalError) and "connect" in text.lower():
        return f"could not connect to the database: {text}"
    return f"the database refused it: {text}" if text else "the database refused it"
