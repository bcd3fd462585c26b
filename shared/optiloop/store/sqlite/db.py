"""Connections and transactions for the SQLite adapter.

Thread-safety design: **one connection per thread** (``threading.local``) plus **one in-process
write gate** (a lock held from ``BEGIN IMMEDIATE`` to ``COMMIT``/``ROLLBACK``).

* Per-thread connections let the FastAPI thread pool read in parallel: in WAL mode readers never
  block each other nor the writer, and each thread's transaction state lives on its own connection,
  so ``Store.transaction()`` on one thread can never swallow another thread's writes. A single
  shared connection would have needed a lock around every read as well and would mix up
  transactions of different threads.
* Every write transaction starts with ``BEGIN IMMEDIATE``: it takes SQLite's write lock before the
  first read, so a read-then-write (the audit chain reads the last hash, then appends) can neither
  fork nor hit the deferred-upgrade deadlock, also across processes sharing the file.
* The write gate only exists because SQLite's busy handler polls with growing sleeps: with many
  threads of one process wanting to write, waiting on a Python lock hands over promptly and fairly
  instead. It is acquired with the same timeout as ``busy_timeout``; other processes are still kept
  apart by SQLite's own lock.

Consequence for callers: inside ``Store.transaction()`` a thread must not wait for another thread
that writes to the same store (it would wait for the gate, then fail after the timeout), the same
rule as with SQLite's own lock.

Connections are opened with ``check_same_thread=False`` only so that ``close()`` and the pruning of
connections whose thread has ended can close them from another thread; a live connection is only
ever used by its own thread.

Durability: WAL with ``synchronous=NORMAL``: a commit survives a process crash or restart; only an
OS crash or power cut may lose the last few commits (never corrupts). That is the usual trade-off
for an embedded single-machine deployment.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from optiloop.errors import Conflict, NotFound, OptiLoopError
from optiloop.store.sqlite.schema import migrate

DEFAULT_BUSY_TIMEOUT_S = 10.0


class _ThreadState(threading.local):
    conn: sqlite3.Connection | None = None
    depth: int = 0  # Store.transaction() nesting on this thread
    savepoints: int = 0  # open per-method savepoints inside a transaction


class Database:
    """The file, its per-thread connections and the transaction helpers every repo writes through."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._state = _ThreadState()
        self._registry_lock = threading.Lock()
        self._conns: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._write_gate = threading.Lock()
        self._closed = False
        conn = self.conn()
        # WAL is a property of the file (it persists); set once before any transaction runs.
        conn.execute("PRAGMA journal_mode=WAL")
        migrate(conn)

    # -- connections ---------------------------------------------------------------------------

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        if self._closed:
            raise RuntimeError("the store is closed")
        conn = self._state.conn
        if conn is None:
            conn = self._open()
            self._state.conn = conn
            with self._registry_lock:
                self._prune_dead_threads()
                self._conns.append((weakref.ref(threading.current_thread()), conn))
        return conn

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: the sqlite3 module must not open transactions behind our back;
        # every BEGIN/COMMIT below is explicit.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _prune_dead_threads(self) -> None:
        """Close connections of threads that ended, so a churning thread pool does not leak them."""
        alive = []
        for ref, conn in self._conns:
            thread = ref()
            if thread is None or not thread.is_alive():
                conn.close()
            else:
                alive.append((ref, conn))
        self._conns = alive

    def close(self) -> None:
        """Close every thread's connection; further use raises instead of silently reopening."""
        with self._registry_lock:
            self._closed = True
            for _, conn in self._conns:
                conn.close()
            self._conns = []
        self._state.conn = None

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._state.depth > 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Group writes of this thread; nesting joins the outer transaction (no savepoint).

        Joining, not savepoints, because that is all the other adapters can offer: an exception
        that leaves an inner block and is caught by the outer one does not undo the inner writes.
        """
        st = self._state
        conn = self.conn()
        if st.depth > 0:
            st.depth += 1
            try:
                yield conn
            finally:
                st.depth -= 1
            return
        if not self._write_gate.acquire(timeout=self.busy_timeout_s):
            raise sqlite3.OperationalError("database is locked (write gate timeout)")
        try:
            conn.execute("BEGIN IMMEDIATE")
            st.depth = 1
            try:
                yield conn
            except BaseException:
                st.depth = 0
                if conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                    conn.execute("ROLLBACK")
                raise
            st.depth = 0
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            st.depth = 0
            st.savepoints = 0
            self._write_gate.release()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One repo method's writes: all or nothing, also when called inside a transaction.

        Outside a transaction it is a transaction of its own. Inside one, a savepoint makes the method
        atomic (a batch that fails half-way leaves none of its rows in the outer transaction) without
        ending the outer transaction.
        """
        st = self._state
        if st.depth == 0:
            with self.transaction() as conn:
                yield conn
            return
        conn = self.conn()
        st.savepoints += 1
        name = f"optiloop_sp{st.savepoints}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        else:
            conn.execute(f"RELEASE {name}")
        finally:
            st.savepoints -= 1


def integrity_error(exc: sqlite3.IntegrityError, what: str) -> OptiLoopError | ValueError:
    """Translate a constraint violation into the domain error the core already handles."""
    msg = str(exc)
    if "FOREIGN KEY" in msg:
        return NotFound(f"{what}: a referenced record does not exist")
    if "UNIQUE" in msg or "PRIMARY KEY" in msg:
        return Conflict(f"{what}: already exists ({msg.removeprefix('UNIQUE constraint failed: ')})")
    return ValueError(f"{what}: {msg}")
