"""What the API answers, as declared schemas (issue 12, "API docs that tell the truth"): keys, the
audit trail, constraints and tests, policies, prompts and their versions, golden sets, approval
requests, registry models, evaluations. A client can generate from them, and schemathesis checks
every answer against them (`response_schema_conformance`). Extra fields stay allowed
(`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not know.
Fields that records written by older releases may lack have defaults instead of being required."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel
from optiloop.api.models.keys import KeyOut

NEXT_AFTER = "The cursor of the next page (pass it back as `after`); null on the last page."


class KeyList(ResponseModel):
    items: list[KeyOut] = Field(description="The keys, live and revoked, oldest first.")


class AuditRecordOut(ResponseModel):
    seq: int = Field(description="The record's place in its chain (its project's, or the tenant's).")
    id: str = Field(description="The record's id (`aud_...`).")
    at: str = Field(description="When it was written (ISO-8601, UTC).")
    principal: str = Field(description="Who did it (`unauthenticated` for a refused credential).")
    action: str = Field(description="What was done, e.g. `key.created`, `request.refused`.")
    project_id: str | None = Field(description="The project it concerns; null: the tenant.")
    target: str | None = Field(description="The id of what it was done to, if anything.")
    details: dict[str, Any] = Field(description="What the action recorded (its fields vary by action).")
    prev_hash: str = Field(description="The hash of the chain's record before it (64 hex digits).")
    hash: str = Field(description="sha256 of `prev_hash` and the record's canonical JSON.")
    shard: str = Field(description="The chain it belongs to: a project id, `tenant` or `legacy`.")


class AuditPage(ResponseModel):
    items: list[AuditRecordOut] = Field(description="The records, in the order they were written.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)
    next_after_seq: int | None = Field(
        default=None,
        description="Deprecated since API 1.1: one project's `next_after` as a number.",
    )


class AuditVerifyOut(ResponseModel):
    ok: bool = Field(description="Whether every chain and digest checks.")
    first_bad_seq: int | None = Field(description="The first record that does not check; null when ok.")
    problem: dict[str, Any] | None = Field(description="What is wrong there, and where; null when ok.")
    records: int = Field(description="How many records were checked.")


class ConstraintOut(ResponseModel):
    id: str = Field(description="The constraint version's id (`con_...`).")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name; posting the name again makes a new version.")
    type: str = Field(description="`hard` (always holds) or `soft` (preferred, weighted).")
    weight: float | None = Field(description="A soft constraint's weight; null for a hard one.")
    version: int = Field(description="1 for the first document of this name, then one more per post.")
    json_schema: dict[str, Any] = Field(description="The document: `params` and `relations`, as posted.")
    created_at: str = Field(description="When this version was posted (ISO-8601, UTC).")
    created_by: str = Field(description="Who posted it.")


class ConstraintList(ResponseModel):
    items: list[ConstraintOut] = Field(description="The newest version of each named constraint, by name.")


class RunOut(ResponseModel):
    status: str = Field(description="`pass`, `fail`, `error` or `skip`, as ingested.")
    seq: int = Field(description="The run's place in the project's run log.")


class TestOut(ResponseModel):
    id: str = Field(description="The test's id (`tst_...`): send it back as the run's `test_id`.")
    project_id: str = Field(description="The project it belongs to.")
    seq: int = Field(description="The test's place in the project's test log (the listing's cursor).")
    params: dict[str, Any] = Field(description="The suggested parameter values, one per param.")
    created_at: str = Field(description="When it was suggested (ISO-8601, UTC).")
    status: str = Field(description="`pending` (no run ingested yet) or `ran`.")
    run: RunOut | None = Field(default=None, description="Its run, once one was ingested.")


class TestPage(ResponseModel):
    items: list[TestOut] = Field(description="The tests, in the order they were suggested.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)
    next_after_seq: int | None = Field(
        default=None, description="Deprecated since API 1.1: the same cursor as a number."
    )


class PolicyOut(ResponseModel):
    name: str = Field(description="The policy's name, unique in its project.")
    scope: str = Field(
        description="What it governs: `prompt_version`, `model_version`, `policy` or `deployment`."
    )
    rule: dict[str, Any] = Field(
        description="The rule as stored: `if` conditions, `then`, approvers, counts."
    )
    project_id: str = Field(description="The project it belongs to.")
    created_at: str = Field(description="When it was first written; a replacement keeps it (ISO-8601, UTC).")
    updated_at: str = Field(description="When it was last written (ISO-8601, UTC).")
    updated_by: str = Field(description="Who wrote it last.")
    revision: int = Field(description="1 when created, one more per replacement.")


class PolicyPage(ResponseModel):
    items: list[PolicyOut] = Field(description="The policies, oldest first.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class PromptOut(ResponseModel):
    id: str = Field(description="The prompt's id (`prm_...`).")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name, unique in the project (what `generate` names).")
    description: str = Field(description="What it is for.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="Who created it.")
    latest_version: int = Field(description="The number of its newest version; 0 before the first.")
    template_engine: str = Field(description="How version bodies are rendered: `jinja2` (sandboxed).")


class PromptPage(ResponseModel):
    items: list[PromptOut] = Field(description="The prompts, oldest first.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class PromptVersionOut(ResponseModel):
    id: str = Field(description="The version's id (`pv_...`).")
    prompt_id: str = Field(description="The prompt it is a version of.")
    project_id: str = Field(description="The project it belongs to.")
    version: int = Field(description="1, 2, ... in the order they were saved.")
    body: str = Field(description="The template.")
    variables: dict[str, Any] = Field(description="The variables the template takes, by name: their types.")
    defaults: dict[str, Any] = Field(description="Values used for variables a call leaves out.")
    notes: str = Field(description="What changed, in the author's words.")
    model: str | None = Field(description="The catalogue model it is meant for; null: the caller's choice.")
    decoding: dict[str, Any] = Field(description="Decoding settings (temperature, max_tokens, ...).")
    status: str = Field(description="Its approval state: Draft, PendingApproval, Approved or Rejected.")
    created_at: str = Field(description="When it was saved (ISO-8601, UTC).")
    created_by: str = Field(description="Who saved it (the author, for the four-eyes rule).")
    content_hash: str = Field(
        description="`sha256:` of body, variables and defaults: what an approval vouches for."
    )


class PromptVersionPage(ResponseModel):
    items: list[PromptVersionOut] = Field(description="The versions, oldest first.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class GoldenSetOut(ResponseModel):
    id: str = Field(description="The golden set's id (`ds_...`).")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name.")
    description: str = Field(description="What it holds.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="Who created it.")
    example_count: int = Field(description="How many examples it holds.")
    parts: list[Any] = Field(description="The uploads it was built from, in order (examples are immutable).")
    content_hash: str = Field(description="`sha256:` of its examples: what an evaluation names it ran on.")


class GoldenSetPage(ResponseModel):
    items: list[GoldenSetOut] = Field(description="The golden sets, oldest first, deleted ones left out.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class ApprovalOut(ResponseModel):
    id: str = Field(description="The approval request's id (`apr_...`).")
    project_id: str = Field(description="The project of the change.")
    entity_type: str = Field(description="What kind of change: `prompt_version`, `model_version`, ...")
    entity_id: str = Field(description="The id of what is to be approved.")
    status: str = Field(description="`pending`, `approved` or `rejected`.")
    submitted_by: str = Field(description="Who asked for the approval.")
    submitted_at: str = Field(description="When (ISO-8601, UTC).")
    entity: dict[str, Any] = Field(
        default_factory=dict, description="A summary of the change, by entity type."
    )
    author: str | None = Field(default=None, description="Who made the change (may not decide on it).")
    comment: str = Field(default="", description="The submitter's comment.")
    requirements: list[dict[str, Any]] = Field(
        default_factory=list, description="What the policies in force require: approvers and how many."
    )
    policy_outcomes: list[dict[str, Any]] = Field(
        default_factory=list, description="Each policy's verdict on the change when it was submitted."
    )
    evidence: dict[str, Any] = Field(
        default_factory=dict, description="What the decision rests on: the content hash, evaluations."
    )
    decisions: list[dict[str, Any]] = Field(
        default_factory=list, description="The decisions so far: who, role, approve or reject, comment, when."
    )
    decided_at: str | None = Field(
        default=None, description="When it was approved or rejected; null while pending."
    )


class ApprovalPage(ResponseModel):
    items: list[ApprovalOut] = Field(description="The approval requests, newest first.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class ModelOut(ResponseModel):
    id: str = Field(description="The model's id (`mdl_...`).")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name in the project: versions are registered under it.")
    description: str = Field(description="What it predicts.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="Who created it.")
    latest_version: int = Field(description="The number of its newest version; 0 before the first.")
    aliases: dict[str, str] = Field(
        description="Stage or alias -> version id: `staging`, `production` and named aliases (`champion`)."
    )
    tags: dict[str, str] = Field(description="Free-form labels.")


class ModelPage(ResponseModel):
    items: list[ModelOut] = Field(description="The models, oldest first.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class ExamplePage(ResponseModel):
    items: list[dict[str, Any]] = Field(
        description="The examples in upload order: `id`, `input` (the variables), `expected`, `metadata`."
    )
    total: int = Field(description="How many examples the golden set holds.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class EvalRunOut(ResponseModel):
    id: str = Field(description="The evaluation run's id (`ev_...`).")
    project_id: str = Field(description="The project it belongs to.")
    prompt_version_id: str = Field(description="The prompt version evaluated.")
    dataset_id: str = Field(description="The golden set it ran on.")
    metrics: list[str] = Field(description="The metrics computed per example.")
    status: str = Field(description="`completed`, or `failed` with the reason.")
    created_at: str = Field(description="When it ran (ISO-8601, UTC).")
    created_by: str = Field(description="Who ran it.")
    prompt_id: str | None = Field(default=None, description="The prompt of that version.")
    version: int | None = Field(default=None, description="The version's number.")
    dataset_hash: str | None = Field(default=None, description="The golden set's `content_hash` it ran on.")
    n: int | None = Field(default=None, description="How many examples were scored.")
    errors: int | None = Field(default=None, description="How many examples failed to render or generate.")
    aggregates: dict[str, Any] = Field(
        default_factory=dict, description="Per metric: n, mean, stdev and the 95% interval (ci_low, ci_high)."
    )
    comparison: dict[str, Any] | None = Field(
        default=None, description="The paired comparison with the baseline version (`compare_to`), if any."
    )
    cost_usd: float | None = Field(default=None, description="What the model calls cost, in US dollars.")
    tokens: dict[str, Any] = Field(default_factory=dict, description="Prompt and completion tokens, summed.")


class ResultPage(ResponseModel):
    items: list[dict[str, Any]] = Field(
        description="Per example, in example order: `id`, `scores` by metric, `output`, `error`, `model`."
    )
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class SpaceOut(ResponseModel):
    space_version: str | None = Field(
        description="A hash of the merged space (`sp-...`): tests record the version they were drawn from; "
        "null before the first constraint."
    )
    params: dict[str, Any] = Field(description="Every parameter by name: its type and bounds or values.")
    relations: list[dict[str, Any]] = Field(
        description="Every relation: `type` (hard, soft), the `constraint` it is from, its `source` text and "
        "the `field` that names it in errors."
    )


class HealthOut(ResponseModel):
    status: str = Field(description="`ok` while the process serves.")
    version: str = Field(description="The server build (`optiloop.__version__`).")
