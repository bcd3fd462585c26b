"""SQLite adapter of the store ports: the embedded default for running on one machine."""

from optiloop.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
