"""Models: named containers of versions, one name per project (a `model_name` doc holds the claim)."""

from __future__ import annotations

import re
from dataclasses import asdict, fields
from typing import Any, TypeVar

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput
from optiloop.models.records import Model, model_doc
from optiloop.projects import get_project
from optiloop.store.records import Doc

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
MAX_DESCRIPTION = 4_000
MAX_TAGS = 50

T = TypeVar("T")


def from_doc(cls: type[T], doc: Doc) -> T:
    """A record from its document, ignoring fields a newer writer added (readers stay compatible)."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in doc.data.items() if k in names})


def create_model(
    deps: Deps,
    who: Principal,
    project_id: str,
    name: str,
    description: str = "",
    tags: dict[str, str] | None = None,
) -> Model:
    authorize(who, Action.MODEL_WRITE, project_id)
    if not NAME.fullmatch(name):
        raise InvalidInput(FieldProblem("name", "1-100 of A-Z a-z 0-9 _ . - starting with a letter or digit"))
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(FieldProblem("description", f"at most {MAX_DESCRIPTION} characters"))
    tags = dict(tags or {})
    if len(tags) > MAX_TAGS:
        raise InvalidInput(FieldProblem("tags", f"at most {MAX_TAGS} tags"))
    get_project(deps, project_id)
    model = Model(
        id=deps.ids("mdl"),
        project_id=project_id,
        name=name,
        description=description,
        created_at=deps.clock(),
        created_by=who.name,
        tags=tags,
    )
    claim = Doc(
        kind="model_name", id=f"{project_id}/{name}", scope=project_id, sort=name, data={"id": model.id}
    )
    with deps.store.transaction():
        try:
            deps.store.docs.create(claim)
        except Conflict:
            raise Conflict(
                f"project already has a model named '{name}'",
                details=[{"field": "name", "reason": "already used in this project"}],
            ) from None
        deps.store.docs.create(model_doc(model))
        record(deps, who, "model.created", project_id, model.id, {"name": name, "tags": tags})
    return model


def load_model(deps: Deps, model_id: str) -> tuple[Model, Doc]:
    """The model and its document (for a rev-guarded replace), or a 404 naming model_id."""
    doc = deps.store.docs.require("model", model_id, field="model_id", what="model")
    return from_doc(Model, doc), doc


def get_model(deps: Deps, who: Principal, model_id: str, action: Action = Action.MODEL_READ) -> Model:
    """The model, if the key may act on its project: a key of another project gets a 403."""
    model, _ = load_model(deps, model_id)
    authorize(who, action, model.project_id)
    return model


def list_models(
    deps: Deps, who: Principal, project_id: str, *, after: str | None = None, limit: int = 100
) -> list[Model]:
    authorize(who, Action.MODEL_READ, project_id)
    get_project(deps, project_id)
    docs = deps.store.docs.list("model", project_id, after=after, limit=limit)
    return [from_doc(Model, d) for d in docs]


def model_as_dict(m: Model) -> dict[str, Any]:
    return asdict(m)
