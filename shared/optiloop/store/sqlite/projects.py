"""Projects and their constraint documents."""

from __future__ import annotations

import sqlite3
from typing import Any

from optiloop.errors import NotFound
from optiloop.store.ports import ConstraintRepo, ProjectRepo
from optiloop.store.records import Constraint, Project
from optiloop.store.sqlite._json import dumps, loads
from optiloop.store.sqlite.db import Database, integrity_error

_PROJECT_COLS = "id, name, description, created_at, created_by, budget_cents"


def _project(row: tuple[Any, ...]) -> Project:
    return Project(*row)


class SqliteProjectRepo(ProjectRepo):
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, project: Project) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO projects ({_PROJECT_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        project.id,
                        project.name,
                        project.description,
                        project.created_at,
                        project.created_by,
                        project.budget_cents,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise integrity_error(exc, f"project {project.id!r}") from exc

    def get(self, project_id: str) -> Project | None:
        row = (
            self._db.conn()
            .execute(f"SELECT {_PROJECT_COLS} FROM projects WHERE id = ?", (project_id,))
            .fetchone()
        )
        return _project(row) if row else None

    def list(self, limit: int = 100, after_id: str | None = None) -> list[Project]:
        """Keyset pagination by id: stable under concurrent inserts, unlike OFFSET."""
        if limit <= 0:
            return []
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_PROJECT_COLS} FROM projects WHERE id > ? ORDER BY id LIMIT ?",
                (after_id or "", limit),
            )
            .fetchall()
        )
        return [_project(r) for r in rows]

    def set_budget(self, project_id: str, budget_cents: float | None) -> None:
        """Raises `NotFound` for an unknown project rather than silently doing nothing."""
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE projects SET budget_cents = ? WHERE id = ?", (budget_cents, project_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"project {project_id!r} does not exist")


_CONSTRAINT_COLS = "id, project_id, name, type, weight, json_schema, version, created_at, created_by"


def _constraint(row: tuple[Any, ...]) -> Constraint:
    return Constraint(
        id=row[0],
        project_id=row[1],
        name=row[2],
        type=row[3],
        weight=row[4],
        json_schema=loads(row[5]),
        version=row[6],
        created_at=row[7],
        created_by=row[8],
    )


class SqliteConstraintRepo(ConstraintRepo):
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, constraint: Constraint) -> None:
        c = constraint
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO constraints ({_CONSTRAINT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        c.id,
                        c.project_id,
                        c.name,
                        c.type,
                        c.weight,
                        dumps(c.json_schema),
                        c.version,
                        c.created_at,
                        c.created_by,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise integrity_error(exc, f"constraint {c.name!r} v{c.version} of {c.project_id!r}") from exc

    def latest(self, project_id: str) -> list[Constraint]:
        # SQLite's bare-column rule for MAX() would also work, but the correlated form is portable
        # and uses the (project_id, name, version) index for each name.
        rows = (
            self._db.conn()
            .execute(
                f"""
                SELECT {_CONSTRAINT_COLS} FROM constraints AS c
                WHERE c.project_id = ?
                  AND c.version = (SELECT MAX(version) FROM constraints
                                   WHERE project_id = c.project_id AND name = c.name)
                ORDER BY c.name
                """,
                (project_id,),
            )
            .fetchall()
        )
        return [_constraint(r) for r in rows]

    def history(self, project_id: str, name: str) -> list[Constraint]:
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_CONSTRAINT_COLS} FROM constraints"
                " WHERE project_id = ? AND name = ? ORDER BY version",
                (project_id, name),
            )
            .fetchall()
        )
        return [_constraint(r) for r in rows]
