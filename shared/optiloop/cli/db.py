"""`optiloop db version` and `optiloop db migrate`: the store's schema (SQLite) or item formats
(DynamoDB) up or down to a version (docs/migrations.md).

Storage is resolved exactly as `serve` resolves it (the same flags, OPTILOOP_* variables and defaults),
so the command migrates the data `serve` would open. It never opens a store: opening a SQLite store
migrates it to the latest version, which is the one thing a downgrade must not do.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from optiloop.config import Settings
from optiloop.store.migrations import DataLossRefused


def add_args(p: argparse.ArgumentParser, storage_args: Any) -> None:
    """`storage_args` is main's helper for serve's options, reused so both find the same data."""
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    v = dsub.add_parser("version", help="print the version the data is at and the latest this release knows")
    m = dsub.add_parser("migrate", help="migrate the data up (default: to the latest version) or down")
    m.add_argument("--to", type=int, default=None, metavar="N", help="target version (default: the latest)")
    m.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="go ahead with a downgrade that drops data the older version cannot hold (listed when refused)",
    )
    for sp in (v, m):
        sp.add_argument("--data-dir", default=None, help="default: $OPTILOOP_DATA_DIR or ./.optiloop")
        storage_args(sp)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if settings.backend == "aws":
            return _aws(args, settings)
        return _local(args, settings)
    except DataLossRefused as e:
        print(f"optiloop: {e}", file=sys.stderr)
        return 1


def _local(args: argparse.Namespace, settings: Settings) -> int:
    from optiloop.store.factory import DB_FILE
    from optiloop.store.sqlite.schema import LATEST_VERSION, migrate_file, read_version

    path = settings.data_dir.resolve() / DB_FILE
    if not path.is_file():
        print(f"optiloop: no OptiLoop data in {path.parent}; pass the data dir `serve` uses", file=sys.stderr)
        return 2
    if args.db_command == "version":
        print(f"{path}: schema version {read_version(str(path))} (this release: up to {LATEST_VERSION})")
        return 0
    before, after = migrate_file(str(path), args.to, allow_data_loss=args.allow_data_loss)
    print(f"{path}: schema version {before} -> {after}")
    return 0


def _aws(args: argparse.Namespace, settings: Settings) -> int:
    from optiloop.store.dynamodb.formats import LATEST_FORMAT, migrate_table, table_version
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.dynamodb.table import Table
    from optiloop.store.factory import _aws_region

    assert settings.table
    client = dynamodb_client(_aws_region(None, settings.aws_endpoint), settings.aws_endpoint)
    table = Table(client, settings.table)
    if args.db_command == "version":
        have = table_version(table)
        print(f"table {table.name}: item format version {have} (this release: up to {LATEST_FORMAT})")
        return 0
    before = table_version(table)
    after = migrate_table(table, args.to, allow_data_loss=args.allow_data_loss, log=_progress)
    print(f"table {table.name}: item format version {before} -> {after}")
    return 0


def _progress(message: str) -> None:
    print(f"optiloop: {message}", file=sys.stderr, flush=True)
