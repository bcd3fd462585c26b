"""Golden sets: named lists of examples ({id, input, expected, metadata}) to evaluate prompts on.

Examples are stored as immutable JSON Lines parts in the blob store, one part per upload, and the
dataset document lists its parts. An upload is validated whole, its part written, then the document
replaced under its rev: a crash between the two leaves an unreferenced part, never a dataset with
half an upload in it. A dataset is append-only (an example id is never rewritten), so an evaluation
names exactly what it ran on by the dataset's `content_hash`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deletion import gone, is_deleted, tombstone
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.projects import get_project
from optiloop.store.records import Doc

MAX_EXAMPLES_PER_UPLOAD = 5_000
MAX_EXAMPLES = 50_000
MAX_EXAMPLE_CHARS = 64_000
EXAMPLE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
WRITE_ATTEMPTS = 3


def create_dataset(
    deps: Deps, who: Principal, project_id: str, name: str, description: str = ""
) -> dict[str, Any]:
    authorize(who, Action.PROMPT_WRITE, project_id)
    get_project(deps, project_id)
    now = deps.clock()
    data: dict[str, Any] = {
        "id": deps.ids("ds"),
        "project_id": project_id,
        "name": name,
        "description": description,
        "created_at": now,
        "created_by": who.name,
        "example_count": 0,
        "parts": [],
        "content_hash": _hash([]),
    }
    with deps.store.transaction():
        deps.store.docs.create(_doc(data))
        record(deps, who, "dataset.created", project_id, data["id"], {"name": name})
    return data


def get_dataset(
    deps: Deps, who: Principal, dataset_id: str, action: Action = Action.PROMPT_READ
) -> dict[str, Any]:
    doc = deps.store.docs.require("dataset", dataset_id, field="dataset_id", what="dataset")
    authorize(who, action, doc.data["project_id"])
    if is_deleted(doc):
        raise gone("dataset", dataset_id, "dataset_id", doc.data["deleted_at"])
    return {**doc.data, "rev": doc.rev}


def delete_dataset(deps: Deps, who: Principal, dataset_id: str) -> None:
    """Soft delete (optiloop.deletion): the golden set leaves its project's listing and reads by id
    answer 404; its examples' parts stay, so an evaluation that ran on it still names what it ran on
    (its `content_hash`). A golden set is never deployed, so nothing refuses the delete."""
    with deps.store.transaction():
        doc = deps.store.docs.require("dataset", dataset_id, field="dataset_id", what="dataset")
        authorize(who, Action.PROMPT_DELETE, doc.data["project_id"])
        if is_deleted(doc):
            raise gone("dataset", dataset_id, "dataset_id", doc.data["deleted_at"])
        deps.store.docs.replace(tombstone(doc, who, deps.clock()), doc.rev)
        record(deps, who, "dataset.deleted", doc.data["project_id"], dataset_id, {"name": doc.data["name"]})


def list_datasets(
    deps: Deps, project_id: str, limit: int = 100, after: str | None = None
) -> list[dict[str, Any]]:
    get_project(deps, project_id)
    return [d.data for d in deps.store.docs.list("dataset", project_id, after=after, limit=limit)]


def parse_jsonl(raw: bytes) -> list[Any]:
    """Each non-blank line one JSON object; a bad line is a 422 naming its line number."""
    out: list[Any] = []
    for n, line in enumerate(raw.decode("utf-8", errors="strict").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                FieldProblem(f"line {n}", f"not valid JSON: {exc.msg} at column {exc.colno}")
            ) from None
    return out


def add_examples(deps: Deps, who: Principal, dataset_id: str, raw_examples: Any) -> dict[str, Any]:
    """Validate every example, then append them as one part. Resending identical examples is a no-op
    for those ids (an upload can be retried); a different example under an existing id is a 409."""
    dataset = get_dataset(deps, who, dataset_id, Action.PROMPT_WRITE)
    examples = _validate(deps, raw_examples)
    for attempt in range(WRITE_ATTEMPTS):
        existing = {e["id"]: e for e in iter_examples(deps, dataset)}
        fresh: list[dict[str, Any]] = []
        for e in examples:
            old = existing.get(e["id"])
            if old is None:
                fresh.append(e)
            elif _canon(old) != _canon(e):
                raise Conflict(
                    f"example '{e['id']}' already exists with different content; examples are immutable",
                    details=[{"field": f"examples[{e['id']}]", "reason": "id exists with other content"}],
                )
        if dataset["example_count"] + len(fresh) > MAX_EXAMPLES:
            raise InvalidInput(FieldProblem("examples", f"a dataset holds at most {MAX_EXAMPLES} examples"))
        if not fresh:
            return {**dataset, "added": 0}
        n = len(dataset["parts"])
        key = f"datasets/{dataset['project_id']}/{dataset_id}/part-{n:05d}.jsonl"
        blob = "".join(_canon(e) + "\n" for e in fresh).encode()
        deps.blobs.put(key, blob)
        part = {"key": key, "count": len(fresh), "sha256": hashlib.sha256(blob).hexdigest()}
        parts = [*dataset["parts"], part]
        updated = {
            **{k: v for k, v in dataset.items() if k != "rev"},
            "parts": parts,
            "example_count": dataset["example_count"] + len(fresh),
            "content_hash": _hash(parts),
        }
        try:
            with deps.store.transaction():
                deps.store.docs.replace(_doc(updated), dataset["rev"])
                record(
                    deps,
                    who,
                    "dataset.examples_added",
                    dataset["project_id"],
                    dataset_id,
                    {"added": len(fresh), "part": part, "content_hash": updated["content_hash"]},
                )
            return {**updated, "added": len(fresh)}
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            dataset = get_dataset(deps, who, dataset_id, Action.PROMPT_WRITE)
    raise AssertionError("unreachable")


def iter_examples(deps: Deps, dataset: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for part in dataset["parts"]:
        blob = deps.blobs.get(part["key"])
        if blob is None:  # pragma: no cover - parts are never deleted
            raise NotFound(f"dataset part '{part['key']}' is missing from the blob store")
        for line in blob.decode().splitlines():
            yield json.loads(line)


def _validate(deps: Deps, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(FieldProblem("examples", "a non-empty list of examples"))
    if len(raw) > MAX_EXAMPLES_PER_UPLOAD:
        raise InvalidInput(FieldProblem("examples", f"at most {MAX_EXAMPLES_PER_UPLOAD} per upload"))
    problems: list[FieldProblem] = []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, e in enumerate(raw):
        where = f"examples[{i}]"
        if not isinstance(e, dict):
            problems.append(FieldProblem(where, "must be an object with input and expected"))
            continue
        unknown = sorted(set(e) - {"id", "input", "expected", "metadata"})
        if unknown:
            problems.append(
                FieldProblem(f"{where}.{unknown[0]}", "unknown field (id, input, expected, metadata)")
            )
        ex_id = e.get("id") or deps.ids("ex")
        if not isinstance(ex_id, str) or not EXAMPLE_ID.fullmatch(ex_id):
            problems.append(FieldProblem(f"{where}.id", "1-100 of A-Z a-z 0-9 _ . : -"))
        elif ex_id in seen:
            problems.append(FieldProblem(f"{where}.id", f"'{ex_id}' appears twice in this upload"))
        seen.add(str(ex_id))
        if not isinstance(e.get("input"), dict):
            problems.append(FieldProblem(f"{where}.input", "must be an object of template variables"))
        if "expected" not in e:
            problems.append(FieldProblem(f"{where}.expected", "is required (a string, or any JSON value)"))
        if not isinstance(e.get("metadata", {}), dict):
            problems.append(FieldProblem(f"{where}.metadata", "must be an object"))
        ex = {
            "id": ex_id,
            "input": e.get("input"),
            "expected": e.get("expected"),
            "metadata": e.get("metadata", {}),
        }
        if len(_canon(ex)) > MAX_EXAMPLE_CHARS:
            problems.append(FieldProblem(where, f"is larger than {MAX_EXAMPLE_CHARS} characters as JSON"))
        out.append(ex)
    if problems:
        raise InvalidInput(problems[:50])
    return out


def expected_text(expected: Any) -> str:
    """Metrics compare strings: a JSON expected value is compared as its canonical JSON text."""
    return expected if isinstance(expected, str) else json.dumps(expected, sort_keys=True, ensure_ascii=False)


def _canon(e: dict[str, Any]) -> str:
    return json.dumps(e, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _hash(parts: list[dict[str, Any]]) -> str:
    return "sha256:" + hashlib.sha256("".join(p["sha256"] for p in parts).encode()).hexdigest()


def _doc(data: dict[str, Any]) -> Doc:
    return Doc(
        kind="dataset",
        id=data["id"],
        scope=data["project_id"],
        sort=f"{data['created_at']}#{data['id']}",
        data=data,
    )
