"""Build the embedded (single-machine) store and blob store from one data folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

from optiloop.store.local_blobs import LocalBlobStore
from optiloop.store.ports import BlobStore, Store
from optiloop.store.sqlite import SqliteStore

DB_FILE = "optiloop.db"
BLOB_DIR = "blobs"


def open_local(data_dir: str | Path) -> tuple[Store, BlobStore]:
    """`<data_dir>/optiloop.db` and `<data_dir>/blobs/`, created on first use and reused afterwards."""
    root = Path(data_dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return SqliteStore(root / DB_FILE), LocalBlobStore(root / BLOB_DIR)


def open_memory() -> tuple[Store, BlobStore]:
    """A throwaway pair for tests: the same adapters as production, on a temp folder.

    A real file rather than ``:memory:`` because each thread gets its own connection and must see
    the same database. The folder is removed once both objects are garbage collected (or at exit).
    """
    tmp = tempfile.TemporaryDirectory(prefix="optiloop-")
    store, blobs = open_local(tmp.name)
    # Both hold the TemporaryDirectory, so its finaliser runs only when neither is in use.
    store._tmpdir = tmp  # type: ignore[attr-defined]
    blobs._tmpdir = tmp  # type: ignore[attr-defined]
    return store, blobs
