"""The prompt domain's records and how they sit in the generic document store.

Each record is a frozen dataclass (what the use cases work with) stored as one `Doc` (what the
store persists). The kind/scope/sort choices here are the access paths:

* prompt          scope project, sort created_at#id -> a project's prompts in creation order; names
                                                     are unique per project (a `prompt_name` doc
                                                     holds the claim)
* prompt_version  scope prompt,  sort 00000007      -> a prompt's versions in order
* deployment      scope project, sort created_at#id -> what runs where, in the order environments
                                                     were first deployed; id `{prompt_id}:{environment}`

Until store version 4 (docs/migrations.md) prompts and deployments were sorted by name; the step
rewrites documents written before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar

from optiloop.store.records import Doc

VersionStatus = Literal["Draft", "PendingApproval", "Approved", "Rejected"]
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
PROTECTED_ENVIRONMENTS: frozenset[str] = frozenset({"prod"})
DEPLOY_HISTORY = 50  # moves kept on a deployment record (the audit log keeps all of them)


@dataclass(frozen=True)
class Prompt:
    id: str
    project_id: str
    name: str
    description: str
    created_at: str
    created_by: str
    latest_version: int = 0
    template_engine: str = "jinja2"  # the one engine (sandboxed Jinja, optiloop.prompts.templates)


@dataclass(frozen=True)
class PromptVersion:
    id: str
    prompt_id: str
    project_id: str
    version: int
    body: str
    variables: dict[str, str]
    defaults: dict[str, Any]
    notes: str
    model: str | None
    decoding: dict[str, Any]
    status: VersionStatus
    created_at: str
    created_by: str
    content_hash: str

    @staticmethod
    def hash_content(body: str, variables: dict[str, str], defaults: dict[str, Any]) -> str:
        """What an approval vouches for: a later byte-for-byte check that nothing changed."""
        canon = json.dumps({"body": body, "variables": variables, "defaults": defaults}, sort_keys=True)
        return "sha256:" + hashlib.sha256(canon.encode()).hexdigest()


@dataclass(frozen=True)
class Deployment:
    prompt_id: str
    prompt_name: str
    project_id: str
    environment: str
    version_id: str
    version: int
    overrides: dict[str, Any]
    deployed_at: str
    deployed_by: str
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = ""  # first deployed (kept across moves); "" only on records of store version < 4

    @property
    def id(self) -> str:
        return deployment_id(self.prompt_id, self.environment)


def first_deployed(d: Deployment) -> str:
    """When the environment was first deployed: the record's `created_at`, else (written before store
    version 4) its oldest history entry's time, else its last move's."""
    return d.created_at or next((str(h["at"]) for h in d.history if h.get("at")), d.deployed_at)


def deployment_id(prompt_id: str, environment: str) -> str:
    return f"{prompt_id}:{environment}"


T = TypeVar("T")


def from_doc(cls: type[T], doc: Doc) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in doc.data.items() if k in names})


def prompt_doc(p: Prompt) -> Doc:
    # listed in creation order (docs/api-versioning.md, "Listings"); the id keeps the sort unique
    return Doc(kind="prompt", id=p.id, scope=p.project_id, sort=f"{p.created_at}#{p.id}", data=asdict(p))


def version_doc(v: PromptVersion) -> Doc:
    return Doc(kind="prompt_version", id=v.id, scope=v.prompt_id, sort=f"{v.version:08d}", data=asdict(v))


def deployment_doc(d: Deployment) -> Doc:
    return Doc(
        kind="deployment",
        id=d.id,
        scope=d.project_id,
        sort=f"{first_deployed(d)}#{d.id}",
        data=asdict(d),
    )
