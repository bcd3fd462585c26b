"""Projects and their constraint documents."""

from __future__ import annotations

import json
import threading
from typing import Any

from optiloop.errors import Conflict, NotFound
from optiloop.store.dynamodb.codec import (
    Item,
    Key,
    N,
    S,
    enc_int,
    esc,
    float_attr,
    int_text,
    join,
    json_text,
    key_part,
    to_float,
    to_int,
)
from optiloop.store.dynamodb.session import Session, Write
from optiloop.store.dynamodb.table import Table
from optiloop.store.ports import ConstraintRepo, ProjectRepo
from optiloop.store.records import Constraint, Project

PROJECTS_PK = "PROJECT"
CONSTRAINT_TYPES = ("hard", "soft")


def project_key(project_id: str) -> Key:
    """All projects share one partition, sorted by id: `list` is a consistent keyset range read.

    Projects are few and small and written rarely, so one partition is far from any limit, and a
    listing right after a create sees it (a GSI would not, on AWS).
    """
    if not isinstance(project_id, str) or not project_id:
        raise ValueError("project id must be a non-empty string")
    return PROJECTS_PK, project_id


def _str(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return S(value)


def _project_item(p: Project) -> Item:
    pk, sk = project_key(p.id)
    item: Item = {
        "pk": S(pk),
        "sk": S(sk),
        "id": S(p.id),
        "name": _str(p.name, "project name"),
        "description": _str(p.description, "project description"),
        "created_at": _str(p.created_at, "created_at"),
        "created_by": _str(p.created_by, "created_by"),
    }
    if p.budget_cents is not None:
        item["budget_cents"] = float_attr(p.budget_cents, "budget_cents")
    return item


def _project(item: Item) -> Project:
    return Project(
        id=item["id"]["S"],
        name=item["name"]["S"],
        description=item["description"]["S"],
        created_at=item["created_at"]["S"],
        created_by=item["created_by"]["S"],
        budget_cents=to_float(item["budget_cents"]) if "budget_cents" in item else None,
    )


class DynamoProjectRepo(ProjectRepo):
    def __init__(self, table: Table, session: Session) -> None:
        self._table = table
        self._session = session
        # Projects are never deleted, so once seen committed a project exists for good: the foreign-key
        # style checks of the other repositories (tests need a project) then cost no read.
        self._known: set[str] = set()
        self._known_lock = threading.Lock()

    def _item(self, project_id: str) -> Item | None:
        key = project_key(project_id)
        p = self._session.pending
        if p is not None and (w := p.writes.get(key)) is not None:
            return w.item
        return self._table.get(key)

    def from_item(self, project_id: str, item: Item | None) -> Project | None:
        """A project read elsewhere (`DynamoStore.history_heads` batches it): remembered as existing."""
        if item is None:
            return None
        with self._known_lock:
            self._known.add(project_id)
        return _project(item)

    def exists(self, project_id: str) -> bool:
        """For the other repositories: the project is stored or written earlier in this transaction."""
        if not isinstance(project_id, str) or not project_id:
            return False
        if project_id in self._known:
            return True
        p = self._session.pending
        if p is not None and project_key(project_id) in p.writes:
            return True
        if self._table.get(project_key(project_id), projection="pk") is None:
            return False
        with self._known_lock:
            self._known.add(project_id)
        return True

    def add(self, project: Project) -> None:
        item = _project_item(project)
        key = (item["pk"]["S"], item["sk"]["S"])
        what = f"project {project.id!r}"
        outer = self._session.pending is not None
        with self._session.write() as p:
            # Inside a transaction, find a duplicate now so the Conflict comes from this call (as on
            # SQLite); on its own the conditional put finds it at once anyway.
            if key in p.writes or (outer and self._table.get(key, projection="pk") is not None):
                raise Conflict(f"{what} already exists")
            p.put(Write(key, item, "new", what))

    def get(self, project_id: str) -> Project | None:
        if not isinstance(project_id, str) or not project_id:
            return None
        item = self._item(project_id)
        return _project(item) if item is not None else None

    def list(self, limit: int = 100, after_id: str | None = None) -> list[Project]:
        """Keyset pagination by id (DynamoDB and SQLite both order by UTF-8 bytes)."""
        if limit <= 0:
            return []
        items = list(self._table.query(PROJECTS_PK, gt=after_id or None, limit=limit))
        p = self._session.pending
        if p is not None:
            mine = [i for i in p.items_under(PROJECTS_PK) if not after_id or i["sk"]["S"] > after_id]
            if mine:
                merged = {i["sk"]["S"]: i for i in items}
                merged.update((i["sk"]["S"], i) for i in mine)
                items = [merged[k] for k in sorted(merged)][:limit]
        return [_project(i) for i in items]

    def set_budget(self, project_id: str, budget_cents: float | None) -> None:
        """Raises `NotFound` for an unknown project rather than silently doing nothing."""
        value = None if budget_cents is None else float_attr(budget_cents, "budget_cents")
        with self._session.write() as p:
            current = self._item(project_id) if isinstance(project_id, str) and project_id else None
            if current is None:
                raise NotFound(f"project {project_id!r} does not exist")
            item = dict(current)
            if value is None:
                item.pop("budget_cents", None)
            else:
                item["budget_cents"] = value
            p.put(Write(project_key(project_id), item, "exists", f"project {project_id!r}"))


def constraints_pk(project_id: str) -> str:
    return join("P", esc(project_id), "C")


def constraint_key(project_id: str, name: str, version: int) -> Key:
    """Sorted by name, then version: `history` is one begins_with range, `latest` one partition read."""
    return constraints_pk(project_id), f"{esc(name)}#{enc_int(version, 'constraint version')}"


def _constraint_item(c: Constraint) -> Item:
    if c.type not in CONSTRAINT_TYPES:
        raise ValueError(f"constraint type must be one of {CONSTRAINT_TYPES}, got {c.type!r}")
    key_part(c.project_id, "constraint project_id")
    if not isinstance(c.name, str):
        raise ValueError("constraint name must be a string")
    pk, sk = constraint_key(c.project_id, c.name, c.version)
    return {
        "pk": S(pk),
        "sk": S(sk),
        "id": _str(c.id, "constraint id"),
        "project_id": S(c.project_id),
        "name": S(c.name),
        "type": S(c.type),
        "weight": float_attr(c.weight, "constraint weight"),
        "json_schema": S(json_text(c.json_schema)),
        "version": N(int_text(c.version, "constraint version")),
        "created_at": _str(c.created_at, "created_at"),
        "created_by": _str(c.created_by, "created_by"),
    }


def _constraint(item: Item) -> Constraint:
    return Constraint(
        id=item["id"]["S"],
        project_id=item["project_id"]["S"],
        name=item["name"]["S"],
        type=item["type"]["S"],
        weight=to_float(item["weight"]),
        json_schema=json.loads(item["json_schema"]["S"]),
        version=to_int(item["version"]),
        created_at=item["created_at"]["S"],
        created_by=item["created_by"]["S"],
    )


class DynamoConstraintRepo(ConstraintRepo):
    def __init__(self, table: Table, session: Session, projects: DynamoProjectRepo) -> None:
        self._table = table
        self._session = session
        self._projects = projects

    def add(self, constraint: Constraint) -> None:
        c = constraint
        item = _constraint_item(c)
        key = (item["pk"]["S"], item["sk"]["S"])
        what = f"constraint {c.name!r} v{c.version} of {c.project_id!r}"
        outer = self._session.pending is not None
        with self._session.write() as p:
            if not self._projects.exists(c.project_id):
                raise NotFound(f"{what}: project {c.project_id!r} does not exist")
            if key in p.writes or (outer and self._table.get(key, projection="pk") is not None):
                raise Conflict(f"{what} already exists")
            p.put(Write(key, item, "new", what))

    def _items(self, project_id: str, name: str | None = None) -> list[Item]:
        if not isinstance(project_id, str) or not project_id:
            return []
        pk = constraints_pk(project_id)
        prefix = None if name is None else f"{esc(name)}#"
        items = {i["sk"]["S"]: i for i in self._table.query(pk, begins=prefix)}
        p = self._session.pending
        if p is not None:
            items.update(
                (i["sk"]["S"], i)
                for i in p.items_under(pk)
                if prefix is None or i["sk"]["S"].startswith(prefix)
            )
        return [items[k] for k in sorted(items)]

    def latest(self, project_id: str) -> list[Constraint]:
        newest: dict[str, Item] = {}
        for item in self._items(project_id):  # sorted by (name, version): the last per name wins
            newest[item["name"]["S"]] = item
        return [_constraint(newest[n]) for n in sorted(newest)]

    def history(self, project_id: str, name: str) -> list[Constraint]:
        if not isinstance(name, str):
            return []
        return [_constraint(i) for i in self._items(project_id, name)]
