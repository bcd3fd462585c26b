"""The compiled space of a project, cached by the versions of its constraint documents."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from optiloop.errors import Conflict
from optiloop.store.ports import Store
from optiloop.store.records import Constraint
from optiloop.testopt.space import Space
from optiloop.testopt.space.schema import ConstraintDoc, build_space

_lock = threading.Lock()
_cache: OrderedDict[tuple[Any, ...], Space] = OrderedDict()


def docs_of(constraints: list[Constraint]) -> list[ConstraintDoc]:
    return [
        ConstraintDoc(
            name=c.name,
            type=c.type,
            weight=c.weight,
            json_schema=c.json_schema,
            field=f"constraints[{c.name}].json_schema",
        )
        for c in constraints
    ]


def space_for(store: Store, project_id: str) -> Space:
    """The project's space; 409 if it has no constraints with parameters yet."""
    constraints = store.constraints.latest(project_id)
    if not constraints:
        raise Conflict("the project has no parameter space yet: POST /v1/projects/{id}/constraints first")
    key = tuple((c.id, c.version) for c in constraints)
    with _lock:
        sp = _cache.get(key)
        if sp is not None:
            _cache.move_to_end(key)
            return sp
    sp = build_space(docs_of(constraints))
    with _lock:
        _cache[key] = sp
        while len(_cache) > 256:
            _cache.popitem(last=False)
    return sp
