"""Prompts and their immutable versions: create, read, list, diff.

A version's content (body, variables, defaults, model, decoding) never changes after it is written:
an approval vouches for exactly that content, and `content_hash` lets anyone check it later. Only
its status moves (Draft -> PendingApproval -> Approved | Rejected), through `optiloop.approvals`.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import replace
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deletion import deployments_in, gone, is_deleted, refuse_if_deployed, tombstone
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.projects import get_project
from optiloop.prompts.records import (
    Prompt,
    PromptVersion,
    from_doc,
    prompt_doc,
    version_doc,
)
from optiloop.prompts.templates import compile_template
from optiloop.store.records import Doc

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
MAX_NOTES = 4_000
WRITE_ATTEMPTS = 3  # a version number lost to a concurrent writer is retried


def create_prompt(
    deps: Deps,
    who: Principal,
    project_id: str,
    name: str,
    description: str = "",
    template_engine: str = "jinja2",
) -> Prompt:
    if not NAME.fullmatch(name):
        raise InvalidInput(FieldProblem("name", "1-100 of A-Z a-z 0-9 _ . - starting with a letter or digit"))
    get_project(deps, project_id)
    prompt = Prompt(
        id=deps.ids("prm"),
        project_id=project_id,
        name=name,
        description=description,
        created_at=deps.clock(),
        created_by=who.name,
        template_engine=template_engine,
    )
    claim = Doc(
        kind="prompt_name", id=f"{project_id}/{name}", scope=project_id, sort=name, data={"id": prompt.id}
    )
    with deps.store.transaction():
        try:
            deps.store.docs.create(claim)
        except Conflict:
            raise Conflict(
                f"project already has a prompt named '{name}'",
                details=[{"field": "name", "reason": "already used in this project"}],
            ) from None
        deps.store.docs.create(prompt_doc(prompt))
        record(deps, who, "prompt.created", project_id, prompt.id, {"name": name})
    return prompt


def list_prompts(deps: Deps, project_id: str, *, after: str | None = None, limit: int = 100) -> list[Prompt]:
    get_project(deps, project_id)
    return [from_doc(Prompt, d) for d in deps.store.docs.list("prompt", project_id, after=after, limit=limit)]


def get_prompt(deps: Deps, who: Principal, prompt_id: str, action: Action = Action.PROMPT_READ) -> Prompt:
    """The prompt, if the key may act on its project: a key of another project gets a 403."""
    doc = deps.store.docs.require("prompt", prompt_id, field="prompt_id", what="prompt")
    prompt = from_doc(Prompt, doc)
    authorize(who, action, prompt.project_id)
    if is_deleted(doc):
        raise gone("prompt", prompt_id, "prompt_id", doc.data["deleted_at"])
    return prompt


def delete_prompt(deps: Deps, who: Principal, prompt_id: str) -> None:
    """Soft delete (optiloop.deletion), refused with a 409 while a version of it is deployed.

    The prompt leaves its project's listing and its name is released (a new prompt may take it); its
    versions stay readable by id, since approvals, evaluations and traces name them."""
    with deps.store.transaction():
        doc = deps.store.docs.require("prompt", prompt_id, field="prompt_id", what="prompt")
        prompt = from_doc(Prompt, doc)
        authorize(who, Action.PROMPT_DELETE, prompt.project_id)
        if is_deleted(doc):
            raise gone("prompt", prompt_id, "prompt_id", doc.data["deleted_at"])
        live = [
            (w, d) for w, d in deployments_in(deps, prompt.project_id) if d.data.get("prompt_id") == prompt_id
        ]
        refuse_if_deployed("prompt", prompt_id, "prompt_id", live)
        deps.store.docs.replace(tombstone(doc, who, deps.clock()), doc.rev)
        deps.store.docs.delete("prompt_name", f"{prompt.project_id}/{prompt.name}")
        record(deps, who, "prompt.deleted", prompt.project_id, prompt_id, {"name": prompt.name})


def find_prompt(deps: Deps, who: Principal, project_id: str, name: str) -> Prompt:
    claim = deps.store.docs.get("prompt_name", f"{project_id}/{name}")
    if claim is None:
        raise NotFound(
            f"project '{project_id}' has no prompt named '{name}'",
            details=[{"field": "prompt.name", "reason": "no such prompt in this project"}],
        )
    return get_prompt(deps, who, claim.data["id"])


def create_version(deps: Deps, who: Principal, prompt_id: str, spec: dict[str, Any]) -> PromptVersion:
    """Check the template, then write the version and bump the prompt's counter in one transaction."""
    prompt = get_prompt(deps, who, prompt_id, Action.PROMPT_WRITE)
    template = compile_template(spec.get("body"), spec.get("variables") or {}, spec.get("defaults"))
    notes = spec.get("notes") or ""
    if len(notes) > MAX_NOTES:
        raise InvalidInput(FieldProblem("notes", f"at most {MAX_NOTES} characters"))
    for attempt in range(WRITE_ATTEMPTS):
        doc = deps.store.docs.get("prompt", prompt_id)
        assert doc is not None  # prompts are never deleted
        current = from_doc(Prompt, doc)
        version = PromptVersion(
            id=deps.ids("pv"),
            prompt_id=prompt_id,
            project_id=prompt.project_id,
            version=current.latest_version + 1,
            body=template.body,
            variables=dict(template.variables),
            defaults=dict(template.defaults),
            notes=notes,
            model=spec.get("model"),
            decoding=dict(spec.get("decoding") or {}),
            status="Draft",
            created_at=deps.clock(),
            created_by=who.name,
            content_hash=PromptVersion.hash_content(
                template.body, dict(template.variables), dict(template.defaults)
            ),
        )
        try:
            with deps.store.transaction():
                deps.store.docs.replace(prompt_doc(replace(current, latest_version=version.version)), doc.rev)
                deps.store.docs.create(version_doc(version))
                record(
                    deps,
                    who,
                    "prompt_version.created",
                    prompt.project_id,
                    version.id,
                    {
                        "prompt_id": prompt_id,
                        "version": version.version,
                        "content_hash": version.content_hash,
                    },
                )
            return version
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def get_version(
    deps: Deps, who: Principal, version_id: str, action: Action = Action.PROMPT_READ
) -> PromptVersion:
    doc = deps.store.docs.require(
        "prompt_version", version_id, field="prompt_version_id", what="prompt version"
    )
    version = from_doc(PromptVersion, doc)
    authorize(who, action, version.project_id)
    return version


def list_versions(
    deps: Deps, who: Principal, prompt_id: str, *, after: int | None = None, limit: int = 100
) -> list[PromptVersion]:
    get_prompt(deps, who, prompt_id)
    docs = deps.store.docs.list(
        "prompt_version", prompt_id, after=None if after is None else f"{after:08d}", limit=limit
    )
    return [from_doc(PromptVersion, d) for d in docs]


def diff_versions(deps: Deps, who: Principal, from_id: str, to_id: str) -> dict[str, Any]:
    """Unified diffs of the body and of the declarations (as sorted JSON, one entry per line)."""
    a = get_version(deps, who, from_id)
    b = get_version(deps, who, to_id)
    if a.prompt_id != b.prompt_id:
        raise InvalidInput(FieldProblem("to", "both versions must belong to the same prompt"))
    la, lb = f"v{a.version}", f"v{b.version}"
    return {
        "prompt_id": a.prompt_id,
        "from": {"id": a.id, "version": a.version},
        "to": {"id": b.id, "version": b.version},
        "body": _udiff(a.body, b.body, la, lb),
        "variables": _udiff(_json_lines(a.variables), _json_lines(b.variables), la, lb),
        "defaults": _udiff(_json_lines(a.defaults), _json_lines(b.defaults), la, lb),
        "identical": a.content_hash == b.content_hash,
    }


def _json_lines(obj: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)}: {json.dumps(obj[k], sort_keys=True)}\n" for k in sorted(obj))


def _udiff(a: str, b: str, la: str, lb: str) -> str:
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), fromfile=la, tofile=lb))
