"""The training port: four small methods every backend implements.

A backend runs one job per `submit`; OptiLoop's job record (`optiloop.models.records.TrainingJob`)
is kept by `jobs.py`, which asks the backend how a job is doing (`describe`) while it is not
terminal. Everything a backend needs travels in the JobSpec, so an adapter never reads the store:

* code: `source_key`, a blob holding `sourcedir.tar.gz` (the entry point + `_lib/`), run as
  `train.py` exactly as SageMaker script mode runs `SAGEMAKER_PROGRAM` from
  `SAGEMAKER_SUBMIT_DIRECTORY`;
* data: `channels`, channel name -> blob prefix whose files become `SM_CHANNEL_<NAME>`;
* output: `output_prefix`, under which the backend leaves `<name>/output/model.tar.gz`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class JobSpec:
    name: str  # the backend's job name (chosen by jobs.py, unique, valid for SageMaker)
    entry_point: str
    framework: str  # sklearn | xgboost | pytorch: which SageMaker image runs it
    source_key: str  # blob key of sourcedir.tar.gz
    channels: dict[str, str]  # channel -> blob prefix ending in "/"
    output_prefix: str  # blob prefix ending in "/": the artifact lands at <prefix><name>/output/
    hyperparameters: dict[str, str] = field(default_factory=dict)
    instance_type: str = "local"
    max_runtime_s: int = 3600
    metric_names: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobState:
    """What a backend knows about one job. Times are ISO-8601 UTC strings, like every record."""

    status: str  # one of optiloop.models.records.JobStatus
    started_at: str | None = None
    ended_at: str | None = None
    failure_reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    artifact_key: str | None = None  # blob key of model.tar.gz, Completed jobs only
    wall_seconds: float | None = None
    cpu_seconds: float | None = None  # local: user + system time of the process tree
    billable_seconds: float | None = None


@dataclass(frozen=True)
class LogPage:
    lines: list[str]
    next_since: int  # pass back as `since` to read on
    complete: bool  # the job is terminal and every line has been read


class Trainer(ABC):
    """A training backend. `code_root` is the `training_jobs/` folder entry points are bundled from
    (the backend does not read it; jobs.py does, so both backends fingerprint the same bytes)."""

    backend: str = ""

    def __init__(self, code_root: Path) -> None:
        self.code_root = Path(code_root)

    @abstractmethod
    def submit(self, spec: JobSpec) -> str:
        """Start (or queue) the job; returns the backend's job name. Raises ValueError when the
        backend refuses the spec (the message is the reason)."""

    @abstractmethod
    def describe(self, name: str) -> JobState:
        """The job's current state; KeyError when the backend has no such job."""

    @abstractmethod
    def stop(self, name: str) -> None:
        """Ask the job to stop; a terminal job is left as it is."""

    @abstractmethod
    def logs(self, name: str, since: int = 0, limit: int = 1000) -> LogPage:
        """Log lines `since` (a line offset) onwards, stdout and stderr interleaved."""

    def price_usd_per_hour(self, instance_type: str) -> float:
        """What one hour of `instance_type` costs on this backend (see prices.py)."""
        from optiloop.models.training.prices import hourly_price

        return hourly_price(instance_type)
