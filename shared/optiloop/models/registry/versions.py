"""Model versions: registered from a training job, an AutoML trial or an uploaded artifact, immutable
once written.

Registration checks everything before it writes anything: the artifact is read defensively
(`optiloop.models.artifact.read_artifact`), its claimed sha256 compared, and a model for an
in-process runtime is loaded (`optiloop.models.runtimes.load`), so an unreadable archive or a model
whose outputs disagree with its signature is a 422 and leaves nothing behind. Then the artifact and
its card go to blobs (under `models/<project>/<model>/<version id>/`, keyed by the version's id so a
writer that loses the race for a version number never overwrites another's bytes), and one
transaction writes the version, bumps the model's counter (rev-guarded), records lineage
(training_job or trial -> model_version, model -> model_version) and appends `model_version.registered`.

Only `status` moves afterwards (approvals: Registered -> PendingApproval -> Approved | Rejected;
archiving: -> Archived); content, metrics, signature and card never change.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import re
from dataclasses import asdict, replace
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.models import lineage
from optiloop.models.artifact import IN_PROCESS_RUNTIMES, Artifact, read_artifact, sha256_hex
from optiloop.models.records import Model, ModelVersion, TrainingJob, model_doc, model_version_doc
from optiloop.models.registry import cards, mirror
from optiloop.models.registry.models import from_doc, get_model, load_model
from optiloop.store.records import Doc

log = logging.getLogger("optiloop.models.registry")

WRITE_ATTEMPTS = 3  # a version number lost to a concurrent writer is retried
SHA256 = re.compile(r"^(sha256:)?([0-9a-fA-F]{64})$")
MAX_DESCRIPTION = 4_000


def artifact_key(project_id: str, model_id: str, version_id: str) -> str:
    return f"models/{project_id}/{model_id}/{version_id}/model.tar.gz"


def parse_sha256(value: Any, field: str = "sha256") -> str:
    """A claimed digest as lowercase hex; `sha256:` prefix optional."""
    m = SHA256.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidInput(
            FieldProblem(field, "must be a sha256 hex digest (64 hex digits, optionally sha256:)")
        )
    return m.group(2).lower()


def check_artifact(data: bytes, claimed_sha256: str | None = None, *, field: str = "sha256") -> Artifact:
    """Read, verify and (for in-process runtimes) load an artifact; InvalidInput if it is not what it
    claims. Nothing is written."""
    if claimed_sha256 is not None:
        want = parse_sha256(claimed_sha256, field)
        got = sha256_hex(data)
        if want != got:
            raise InvalidInput(
                FieldProblem(field, f"the artifact's sha256 is {got}, not the claimed {want}"),
                "the uploaded artifact does not match its claimed sha256",
            )
    art = read_artifact(data)
    if art.runtime in IN_PROCESS_RUNTIMES:
        from optiloop.models import runtimes  # numpy: only on the registering path

        try:
            runtimes.load(art)
        except ImportError as e:  # onnxruntime missing here: the serving path checks it again on load
            log.warning("could not load a %s model to check it: %s", art.runtime, e)
    return art


def register_from_upload(
    deps: Deps,
    who: Principal,
    model_id: str,
    data: bytes,
    claimed_sha256: str | None = None,
    *,
    description: str = "",
    card: Any = None,
) -> ModelVersion:
    """A version from an uploaded model.tar.gz (its claimed sha256, when given, must match)."""
    model = get_model(deps, who, model_id, Action.MODEL_WRITE)
    spec = cards.CardSpec.parse(card)
    art = check_artifact(data, claimed_sha256)
    return _register(deps, who, model, art, data, {"upload": f"sha256:{art.sha256}"}, description, spec, None)


def decode_base64(value: str, field: str = "artifact_base64") -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidInput(FieldProblem(field, f"is not valid base64 ({e})")) from e


def register_from_job(
    deps: Deps,
    who: Principal,
    model_id: str,
    training_job_id: str,
    *,
    description: str = "",
    card: Any = None,
) -> ModelVersion:
    """A version from a Completed training job of the model's project: its artifact (checked against
    the sha256 the job recorded), metrics, data fingerprint and code version. One version per job
    and model: a second registration is a 409 naming the version that exists."""
    model = get_model(deps, who, model_id, Action.MODEL_WRITE)
    spec = cards.CardSpec.parse(card)
    doc = deps.store.docs.require(
        "training_job", training_job_id, field="training_job_id", what="training job"
    )
    job = from_doc(TrainingJob, doc)
    if job.project_id != model.project_id:
        raise InvalidInput(
            FieldProblem("training_job_id", "belongs to another project than the model"),
        )
    if job.status != "Completed":
        raise Conflict(
            f"training job '{job.id}' is {job.status}; only a Completed job can be registered",
            details=[{"field": "training_job_id", "reason": f"is {job.status}, not Completed"}],
        )
    _refuse_duplicate(deps, model.id, job.id)
    if not job.artifact_key:
        raise InvalidInput(FieldProblem("training_job_id", "the job recorded no artifact"))
    data = deps.blobs.get(_blob_key(job.artifact_key))
    if data is None:
        raise InvalidInput(
            FieldProblem("training_job_id", f"the job's artifact {job.artifact_key!r} is missing")
        )
    art = check_artifact(data, job.artifact_sha256, field="training_job_id")
    return _register(deps, who, model, art, data, {"training_job_id": job.id}, description, spec, job)


def register_from_trial(
    deps: Deps,
    who: Principal,
    model_id: str,
    trial_id: str,
    *,
    description: str = "",
    card: Any = None,
) -> ModelVersion:
    """A version from a completed AutoML trial of the model's project: its refit model's artifact,
    checked against the sha256 the trial recorded. Lineage reads dataset -> trial -> model_version
    (the trial's own edges come from the experiment's run). One version per trial and model."""
    model = get_model(deps, who, model_id, Action.MODEL_WRITE)
    spec = cards.CardSpec.parse(card)
    trial = deps.store.docs.require("trial", trial_id, field="trial_id", what="trial").data
    if trial.get("project_id") != model.project_id:
        raise InvalidInput(FieldProblem("trial_id", "belongs to another project than the model"))
    if trial.get("status") == "completed" and not trial.get("artifact_key"):
        raise Conflict(
            f"trial '{trial_id}' has no artifact: it is a leaderboard-only candidate (a forecasting "
            "baseline forecasts from the series itself, not from a served model)",
            details=[{"field": "trial_id", "reason": "has no artifact (leaderboard-only)"}],
        )
    if trial.get("status") != "completed":
        raise Conflict(
            f"trial '{trial_id}' is {trial.get('status')}; only a completed trial has a model to register",
            details=[{"field": "trial_id", "reason": f"is {trial.get('status')}, not completed"}],
        )
    _refuse_duplicate(deps, model.id, trial_id, kind="trial", field="trial_id")
    data = deps.blobs.get(str(trial["artifact_key"]))
    if data is None:
        raise InvalidInput(
            FieldProblem("trial_id", f"the trial's artifact {trial['artifact_key']!r} is missing")
        )
    art = check_artifact(data, trial.get("artifact_sha256"), field="trial_id")
    source = {"trial_id": trial_id, "experiment_id": str(trial.get("experiment_id"))}
    return _register(
        deps, who, model, art, data, source, description, spec, None, upstream=("trial", trial_id),
        report=_report_on(deps, trial),
    )  # fmt: skip


def _report_on(deps: Deps, trial: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """The experiment's report and its PNGs, when the report explains this trial (the winner)."""
    from optiloop.automl import report

    exp = deps.store.docs.get("experiment", str(trial.get("experiment_id")))
    rep = (exp.data.get("report") if exp is not None else None) or {}
    if exp is None or rep.get("trial_id") != trial["trial_id"] or not rep.get("permutation_importance"):
        return None
    files = ((rep.get("plots") or {}).get("files")) or {}
    pngs = {name: deps.blobs.get(report.plot_key(exp.data, name)) for name in files}
    return rep, {name: png for name, png in pngs.items() if png is not None}


def _blob_key(key: str) -> str:
    """A job's artifact as a key of the tenant's bucket (`s3://bucket/models/...` -> `models/...`)."""
    if key.startswith("s3://"):
        return key[5:].split("/", 1)[1] if "/" in key[5:] else ""
    return key


def _source_claim_id(model_id: str, job_id: str, kind: str = "training_job") -> str:
    return f"{model_id}/{kind}/{job_id}"


def _refuse_duplicate(
    deps: Deps, model_id: str, job_id: str, *, kind: str = "training_job", field: str = "training_job_id"
) -> None:
    claim = deps.store.docs.get("model_version_source", _source_claim_id(model_id, job_id, kind))
    if claim is not None:
        what = "training job" if kind == "training_job" else kind
        raise Conflict(
            f"{what} '{job_id}' is registered already, as version {claim.data['version']}",
            details=[
                {
                    "field": field,
                    "reason": f"already registered as version {claim.data['version']}",
                    "version_id": claim.data["version_id"],
                }
            ],
        )


def _register(
    deps: Deps,
    who: Principal,
    model: Model,
    art: Artifact,
    data: bytes,
    source: dict[str, str],
    description: str,
    spec: cards.CardSpec,
    job: TrainingJob | None,
    *,
    upstream: tuple[str, str] | None = None,
    report: tuple[dict[str, Any], dict[str, bytes]] | None = None,
) -> ModelVersion:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(FieldProblem("description", f"at most {MAX_DESCRIPTION} characters"))
    if spec.sensitive_column is None:
        col = art.manifest.get("sensitive_column") or (
            job.hyperparameters.get("sensitive_column") if job else None
        )
        if isinstance(col, str) and col:
            spec = replace(spec, sensitive_column=col)
    m = art.manifest
    metrics = {k: float(v) for k, v in (m.get("metrics") or {}).items()}
    params: dict[str, Any] = dict(m.get("params") or {})
    fingerprint, code_version = m.get("data_fingerprint"), m.get("code_version")
    if job is not None:
        metrics = {**{k: float(v) for k, v in job.metrics.items()}, **metrics}
        params = params or dict(job.hyperparameters)
        fingerprint = job.data_fingerprint or fingerprint
        code_version = job.code_version or code_version
    version_id = deps.ids("mv")
    key = artifact_key(model.project_id, model.id, version_id)
    json_key, md_key = cards.card_keys(key)
    rows = _rows(m, metrics)
    deps.blobs.put(key, data)  # blobs first: no document ever points at bytes that are not there
    explanation = None
    if report is not None:  # the report's plots are copied beside the card: the version keeps its own
        for name, png in report[1].items():
            deps.blobs.put(cards.plot_key(key, name), png)
        explanation = cards.explanation_of(
            report[0], {n: "sha256:" + sha256_hex(p) for n, p in report[1].items()}
        )
    try:
        for attempt in range(WRITE_ATTEMPTS):
            current, doc = load_model(deps, model.id)
            if job is not None:
                _refuse_duplicate(deps, model.id, job.id)
            if upstream is not None:
                _refuse_duplicate(deps, model.id, upstream[1], kind=upstream[0], field=f"{upstream[0]}_id")
            version = ModelVersion(
                id=version_id,
                model_id=model.id,
                project_id=model.project_id,
                version=current.latest_version + 1,
                status="Registered",
                artifact_key=key,
                artifact_sha256=f"sha256:{art.sha256}",
                artifact_bytes=art.size,
                framework=str(m["framework"]),
                runtime=art.runtime,
                signature=art.signature.as_dict(),
                params=params,
                metrics=metrics,
                data_fingerprint=fingerprint,
                code_version=code_version,
                source=source,
                created_at=deps.clock(),
                created_by=who.name,
                description=description,
                card_key=json_key,
            )
            card = cards.build_card(
                asdict(version), spec, model_name=model.name, rows=rows, explanation=explanation
            )
            card_json, card_md, card_sha = cards.encode(card)
            deps.blobs.put(json_key, card_json)
            deps.blobs.put(md_key, card_md)
            version = replace(version, card_sha256=f"sha256:{card_sha}")
            try:
                with deps.store.transaction():
                    deps.store.docs.replace(
                        model_doc(replace(current, latest_version=version.version)), doc.rev
                    )
                    deps.store.docs.create(model_version_doc(version))
                    if job is not None:
                        deps.store.docs.create(
                            Doc(
                                kind="model_version_source",
                                id=_source_claim_id(model.id, job.id),
                                scope=model.id,
                                sort=job.id,
                                data={"version_id": version.id, "version": version.version},
                            )
                        )
                        lineage.link(
                            deps, "training_job", job.id, "model_version", version.id, "produced",
                            project_id=model.project_id,
                        )  # fmt: skip
                    if upstream is not None:
                        kind, source_id = upstream
                        deps.store.docs.create(
                            Doc(
                                kind="model_version_source",
                                id=_source_claim_id(model.id, source_id, kind),
                                scope=model.id,
                                sort=f"{kind}/{source_id}",
                                data={"version_id": version.id, "version": version.version},
                            )
                        )
                        lineage.link(
                            deps, kind, source_id, "model_version", version.id, "produced",
                            project_id=model.project_id,
                        )  # fmt: skip
                    lineage.link(
                        deps, "model", model.id, "model_version", version.id, "has_version",
                        project_id=model.project_id,
                    )  # fmt: skip
                    record(
                        deps,
                        who,
                        "model_version.registered",
                        model.project_id,
                        version.id,
                        {
                            "model_id": model.id,
                            "version": version.version,
                            "artifact_sha256": version.artifact_sha256,
                            "artifact_key": key,
                            "source": source,
                            "card": {
                                "json_sha256": version.card_sha256,
                                "markdown_sha256": "sha256:" + sha256_hex(card_md),
                            },
                        },
                    )
                mirror.sync(deps, version.id)  # committed: SageMaker's copy follows, never blocks
                return version
            except Conflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
    except BaseException:
        for k in (key, json_key, md_key):  # best effort: no document points at them
            with contextlib.suppress(Exception):
                deps.blobs.delete(k)
        raise


def _rows(manifest: dict[str, Any], metrics: dict[str, float]) -> int | None:
    data = manifest.get("data")
    if isinstance(data, dict) and isinstance(data.get("rows"), int):
        return int(data["rows"])
    for k in cards.ROW_KEYS:
        if k in metrics and float(metrics[k]).is_integer():
            return int(metrics[k])
    return None


# ---------------------------------------------------------------------------------------- reading
def version_from_doc(doc: Doc) -> ModelVersion:
    return from_doc(ModelVersion, doc)


def load_version(deps: Deps, version_id: str) -> tuple[ModelVersion, Doc]:
    doc = deps.store.docs.require("model_version", version_id, field="version", what="model version")
    return version_from_doc(doc), doc


def get_version_by_id(
    deps: Deps, who: Principal, version_id: str, action: Action = Action.MODEL_READ
) -> ModelVersion:
    """A version by its id alone (approvals, deployments), authorised on its project."""
    v, _ = load_version(deps, version_id)
    authorize(who, action, v.project_id)
    return v


def list_versions(
    deps: Deps, who: Principal, model_id: str, *, after: int | None = None, limit: int = 100
) -> list[ModelVersion]:
    get_model(deps, who, model_id)
    docs = deps.store.docs.list(
        "model_version", model_id, after=None if after is None else f"{after:08d}", limit=limit
    )
    return [version_from_doc(d) for d in docs]


def resolve(deps: Deps, model: Model, ref: str | int) -> ModelVersion:
    """A version of `model` by number (`3`), id (`mv_...`), stage or alias (`production`,
    `champion`) or `latest`; a 404 naming `version` when there is none."""
    text = str(ref)
    if text == "latest":
        if model.latest_version == 0:
            raise NotFound(
                f"model '{model.id}' has no versions yet",
                details=[{"field": "version", "reason": "no versions"}],
            )
        text = str(model.latest_version)
    if text.isdigit():
        n = int(text)
        page = deps.store.docs.list(
            "model_version", model.id, after=f"{n - 1:08d}" if n > 0 else None, limit=1
        )
        if not page or page[0].data["version"] != n:
            raise NotFound(
                f"model '{model.id}' has no version {n}",
                details=[{"field": "version", "reason": "no such version"}],
            )
        return version_from_doc(page[0])
    if text.startswith("mv_"):
        doc = deps.store.docs.get("model_version", text)
        if doc is None or doc.data["model_id"] != model.id:
            raise NotFound(
                f"model '{model.id}' has no version '{text}'",
                details=[{"field": "version", "reason": "no such version"}],
            )
        return version_from_doc(doc)
    held = model.aliases.get(text)
    if held is None:
        raise NotFound(
            f"no version of model '{model.id}' holds '{text}'",
            details=[{"field": "version", "reason": f"no version holds the stage or alias '{text}'"}],
        )
    v, _ = load_version(deps, held)
    return v


def get_version(deps: Deps, who: Principal, model_id: str, ref: str | int) -> ModelVersion:
    return resolve(deps, get_model(deps, who, model_id), ref)


def resolve_alias(deps: Deps, who: Principal, model_id: str, alias: str) -> ModelVersion:
    """The version a stage or alias points at (`production`, `champion`): what serving resolves."""
    return get_version(deps, who, model_id, alias)


def version_as_dict(v: ModelVersion, model: Model | None = None) -> dict[str, Any]:
    out = asdict(v)
    if model is not None:
        out["aliases"] = sorted(a for a, vid in model.aliases.items() if vid == v.id)
    return out


def read_card_plot(deps: Deps, v: ModelVersion, name: str) -> bytes:
    """A plot the version's card lists (an AutoML winner's report, copied at registration); 404 naming
    `file` otherwise."""
    card = json.loads(read_card(deps, v)) if v.card_key else {}
    plots = (card.get("explanation") or {}).get("plots") or {}
    data = deps.blobs.get(cards.plot_key(v.artifact_key, name)) if name in plots else None
    if data is None:
        known = ", ".join(sorted(plots)) or "none"
        raise NotFound(
            f"no card plot '{name}'", details=[{"field": "file", "reason": f"the card's plots: {known}"}]
        )
    return data


def read_card(deps: Deps, v: ModelVersion, markdown: bool = False) -> bytes:
    if not v.card_key:
        raise NotFound(
            f"version {v.version} has no model card", details=[{"field": "version", "reason": "no card"}]
        )
    key = cards.card_keys(v.artifact_key)[1] if markdown else v.card_key
    data = deps.blobs.get(key)
    if data is None:
        raise NotFound(
            f"the card of version {v.version} is missing",
            details=[{"field": "version", "reason": "card missing"}],
        )
    return data
