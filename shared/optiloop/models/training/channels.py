"""A job's inputs, materialised as channel files under the job's own blob prefix.

    inputs: {"train": {"dataset_id": "ds_..."},          a golden-set dataset: its JSONL parts
             "runs":  {"project_runs": "<project_id>"}}  the project's runs, snapshotted by
                                                          optiloop.workflows.training.prepare_training
    ->  training/<project>/<job>/input/<channel>/<file>

Copying (rather than pointing a channel at the dataset's own parts) gives every job an immutable
input that the `data_fingerprint` describes exactly, one prefix per channel for SageMaker's
S3Prefix data source, and one place the training role reads (`training/`).

The fingerprint is `sha256:` of the sorted lines `<channel>/<file> <sha256 of the file>`: the same
files give the same fingerprint whatever the dataset or snapshot ids were.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput, NotFound
from optiloop.prompts.datasets import get_dataset
from optiloop.workflows.training import NothingToTrain, prepare_training, training_prefix

CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_CHANNELS = 8
SOURCES = ("dataset_id", "project_runs")


@dataclass
class Materialised:
    prefixes: dict[str, str] = field(default_factory=dict)  # channel -> blob prefix
    records: dict[str, dict[str, str]] = field(default_factory=dict)  # channel -> what the job records
    lineage: list[tuple[str, str]] = field(default_factory=list)  # (entity type, id) it was made from
    files: list[str] = field(default_factory=list)  # "<channel>/<file> <sha256>" lines

    @property
    def fingerprint(self) -> str:
        return "sha256:" + hashlib.sha256("\n".join(sorted(self.files)).encode()).hexdigest()


def input_prefix(project_id: str, job_id: str, channel: str) -> str:
    return f"training/{project_id}/{job_id}/input/{channel}/"


def check_inputs(raw: Any) -> list[FieldProblem]:
    """Shape only (names, one source per channel); what the ids point at is checked on materialising."""
    if not isinstance(raw, dict) or not raw:
        return [FieldProblem("inputs", "must map at least one channel name to its source")]
    if len(raw) > MAX_CHANNELS:
        return [FieldProblem("inputs", f"at most {MAX_CHANNELS} channels")]
    problems = []
    for channel, source in raw.items():
        at = f"inputs.{channel}"
        if not isinstance(channel, str) or not CHANNEL.match(channel):
            problems.append(FieldProblem(at, "a channel name is 1-64 of a-z 0-9 _, starting with a letter"))
            continue
        if not isinstance(source, dict) or len(source) != 1 or next(iter(source)) not in SOURCES:
            problems.append(
                FieldProblem(at, 'must be {"dataset_id": "..."} or {"project_runs": "<project_id>"}')
            )
            continue
        value = next(iter(source.values()))
        if not isinstance(value, str) or not 1 <= len(value) <= 100:
            problems.append(FieldProblem(f"{at}.{next(iter(source))}", "must be an id of 1-100 characters"))
    return problems


def materialise(
    deps: Deps, who: Principal, project_id: str, job_id: str, inputs: dict[str, dict[str, str]]
) -> Materialised:
    out = Materialised()
    for channel, source in sorted(inputs.items()):
        prefix = input_prefix(project_id, job_id, channel)
        out.prefixes[channel] = prefix
        if "dataset_id" in source:
            _dataset(deps, who, project_id, channel, source["dataset_id"], prefix, out)
        else:
            _runs(deps, project_id, job_id, channel, source["project_runs"], prefix, out)
    return out


def _table(
    deps: Deps,
    who: Principal,
    project_id: str,
    channel: str,
    dataset_id: str,
    prefix: str,
    out: Materialised,
    at: str,
) -> bool:
    """An AutoML table (`optiloop.table/1`) becomes the channel's `table.npz`, as stored (the AutoML
    trial jobs read it with optiloop.automl.table); False when `dataset_id` is not a table."""
    from optiloop.automl import datasets as tables

    if tables.find(deps, dataset_id) is None:
        return False
    table = tables.get_table_dataset(deps, who, dataset_id, field=at)
    if table["project_id"] != project_id:
        raise InvalidInput(FieldProblem(at, f"dataset {dataset_id!r} belongs to another project"))
    data = deps.blobs.get(table["table_key"])
    if data is None:  # pragma: no cover - tables are never deleted under a live document
        raise InvalidInput(FieldProblem(at, f"the table of dataset {dataset_id!r} is missing"))
    _put(deps, out, channel, prefix, "table.npz", data)
    out.records[channel] = {"dataset_id": dataset_id, "content_hash": str(table["fingerprint"])}
    out.lineage.append(("dataset", dataset_id))
    return True


def _put(deps: Deps, out: Materialised, channel: str, prefix: str, name: str, data: bytes) -> None:
    deps.blobs.put(prefix + name, data)
    out.files.append(f"{channel}/{name} {hashlib.sha256(data).hexdigest()}")


def _dataset(
    deps: Deps, who: Principal, project_id: str, channel: str, dataset_id: str, prefix: str, out: Materialised
) -> None:
    at = f"inputs.{channel}.dataset_id"
    if _table(deps, who, project_id, channel, dataset_id, prefix, out, at):
        return
    try:
        dataset = get_dataset(deps, who, dataset_id)
    except NotFound:
        raise InvalidInput(FieldProblem(at, f"no dataset {dataset_id!r}")) from None
    if dataset["project_id"] != project_id:
        raise InvalidInput(FieldProblem(at, f"dataset {dataset_id!r} belongs to another project"))
    if not dataset["parts"]:
        raise InvalidInput(FieldProblem(at, f"dataset {dataset_id!r} has no examples yet"))
    for n, part in enumerate(dataset["parts"]):
        data = deps.blobs.get(part["key"])
        if data is None:  # pragma: no cover - parts are never deleted
            raise InvalidInput(FieldProblem(at, f"part {part['key']!r} of the dataset is missing"))
        _put(deps, out, channel, prefix, f"part-{n:05d}.jsonl", data)
    out.records[channel] = {"dataset_id": dataset_id, "content_hash": str(dataset["content_hash"])}
    out.lineage.append(("dataset", dataset_id))


def _runs(
    deps: Deps, project_id: str, job_id: str, channel: str, runs_of: str, prefix: str, out: Materialised
) -> None:
    at = f"inputs.{channel}.project_runs"
    if runs_of != project_id:
        raise InvalidInput(FieldProblem(at, "a job trains on its own project's runs"))
    snapshot = f"{job_id}-{channel}"
    try:
        prepared = prepare_training(deps, {"project_id": project_id, "training_id": snapshot, "min_runs": 1})
    except NothingToTrain as e:
        raise InvalidInput(FieldProblem(at, e.message)) from None
    base = training_prefix(project_id, snapshot)
    for name in ("manifest.json", "runs.jsonl"):
        data = deps.blobs.get(f"{base}/{name}")
        if data is None:  # pragma: no cover - prepare_training wrote both
            raise InvalidInput(FieldProblem(at, f"the snapshot's {name} is missing"))
        _put(deps, out, channel, prefix, name, data)
    out.records[channel] = {
        "project_runs": project_id,
        "snapshot": snapshot,
        "runs": str(prepared["runs"]),
        "runs_through_seq": str(prepared["runs_through_seq"]),
    }
    out.lineage.append(("project_runs", project_id))
