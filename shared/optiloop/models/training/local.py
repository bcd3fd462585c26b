"""The local training backend: one subprocess per job, laid out as SageMaker lays out a container.

    <work_dir>/<job name>/
      code/                        sourcedir.tar.gz unpacked; `python train.py` runs here
      input/config/hyperparameters.json, inputdataconfig.json, resourceconfig.json
      input/data/<channel>/        the channel's blobs (SM_CHANNEL_<CHANNEL>)
      model/                       SM_MODEL_DIR: packed as model.tar.gz when train.py exits 0
      output/data/                 SM_OUTPUT_DATA_DIR; output/failure: a reason the script may write
      logs.txt                     stdout and stderr, interleaved by line
      state.json                   the job's last known state (survives a restart of the platform)

Why a subprocess and not a thread: it can be stopped (SIGTERM to its process group, SIGKILL after a
grace period), it cannot corrupt the API's memory, and its resource usage is its own (`wait4` gives
user + system CPU seconds of the whole tree). Jobs must not starve the API either, so at most
`max_concurrent` run at once (the rest wait as Pending) and each gets `OMP_WAIT_POLICY=PASSIVE` and
one thread per BLAS/OpenMP pool unless configured otherwise (`SM_NUM_CPUS` says the same to the
script). The child sees a minimal environment: none of the platform's OPTILOOP_* settings or
credentials reach a training script.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from optiloop.deps import utc_now
from optiloop.models.artifact import pack_dir
from optiloop.models.records import JOB_TERMINAL
from optiloop.models.training.metrics import parse_metrics
from optiloop.models.training.port import JobSpec, JobState, LogPage, Trainer
from optiloop.models.training.prices import LOCAL
from optiloop.store.ports import BlobStore

MAX_LOG_BYTES = 10 * 1024 * 1024
FAILURE_LINES = 15
PASS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SYSTEMROOT")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass
class _Job:
    spec: JobSpec
    status: str = "Pending"
    started_at: str | None = None
    ended_at: str | None = None
    failure_reason: str | None = None
    artifact_key: str | None = None
    wall_seconds: float | None = None
    cpu_seconds: float | None = None
    stop_requested: bool = False
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    reaped: bool = False

    def state(self) -> dict[str, Any]:
        keep = ("status", "started_at", "ended_at", "failure_reason", "artifact_key", "wall_seconds")
        return {
            **{k: getattr(self, k) for k in keep},
            "cpu_seconds": self.cpu_seconds,
            "spec": asdict(self.spec),
        }


class LocalTrainer(Trainer):
    backend = "local"

    def __init__(
        self,
        code_root: Path,
        work_dir: Path,
        blobs: BlobStore,
        *,
        max_concurrent: int = 2,
        threads: int = 1,
        stop_grace_s: float = 5.0,
        python: str = sys.executable,
    ) -> None:
        super().__init__(code_root)
        if max_concurrent < 1 or threads < 1:
            raise ValueError("max_concurrent and threads must be at least 1")
        # Absolute: the job's process runs in its own code folder, so a relative data dir (`make run`'s
        # ./.optiloop) would point its channels and model dir inside that folder (0 rows read).
        self.work_dir = Path(work_dir).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.blobs = blobs
        self.max_concurrent = max_concurrent
        self.threads = threads
        self.stop_grace_s = stop_grace_s
        self.python = python
        self._jobs: dict[str, _Job] = {}
        self._queue: collections.deque[str] = collections.deque()
        self._running = 0
        self._lock = threading.RLock()

    # -- the port ----------------------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> str:
        if spec.instance_type != LOCAL:
            raise ValueError(f"the local backend runs instance type {LOCAL!r}, not {spec.instance_type!r}")
        with self._lock:
            if spec.name in self._jobs or (self.work_dir / spec.name).exists():
                raise ValueError(f"a job named {spec.name!r} exists already")
            (self.work_dir / spec.name).mkdir(parents=True)
            job = _Job(spec)
            self._jobs[spec.name] = job
            self._persist(job)
            self._queue.append(spec.name)
        self._pump()
        return spec.name

    def describe(self, name: str) -> JobState:
        job = self._job(name)
        with self._lock:
            metrics, _ = parse_metrics(self._read_lines(name))
            return JobState(
                status=job.status,
                started_at=job.started_at,
                ended_at=job.ended_at,
                failure_reason=job.failure_reason,
                metrics=metrics,
                artifact_key=job.artifact_key,
                wall_seconds=job.wall_seconds,
                cpu_seconds=job.cpu_seconds,
                billable_seconds=job.wall_seconds if job.status in JOB_TERMINAL else None,
            )

    def stop(self, name: str) -> None:
        job = self._job(name)
        with self._lock:
            if job.status in JOB_TERMINAL or job.stop_requested:
                return
            job.stop_requested = True
            if job.status == "Pending":
                with contextlib.suppress(ValueError):
                    self._queue.remove(name)
                job.status, job.ended_at = "Stopped", utc_now()
                self._persist(job)
                return
            job.status = "Stopping"
            self._persist(job)
            self._signal(job, signal.SIGTERM)
        timer = threading.Timer(self.stop_grace_s, self._signal_locked, args=(job, signal.SIGKILL))
        timer.daemon = True
        timer.start()

    def logs(self, name: str, since: int = 0, limit: int = 1000) -> LogPage:
        job = self._job(name)
        lines = self._read_lines(name)
        page = lines[since : since + limit]
        nxt = since + len(page)
        return LogPage(lines=page, next_since=nxt, complete=job.status in JOB_TERMINAL and nxt >= len(lines))

    # -- running -----------------------------------------------------------------------------------

    def _job(self, name: str) -> _Job:
        with self._lock:
            job = self._jobs.get(name)
            if job is not None:
                return job
            path = self.work_dir / name / "state.json"
            if "/" in name or name in ("", ".", "..") or not path.is_file():
                raise KeyError(name)
            saved = json.loads(path.read_text())
            job = _Job(JobSpec(**{**saved["spec"], "metric_names": tuple(saved["spec"]["metric_names"])}))
            for k in ("status", "started_at", "ended_at", "failure_reason", "artifact_key", "wall_seconds"):
                setattr(job, k, saved.get(k))
            job.cpu_seconds = saved.get("cpu_seconds")
            if job.status not in JOB_TERMINAL:  # its process went with the platform that started it
                job.status, job.ended_at = "Failed", utc_now()
                job.failure_reason = "the platform restarted while the job was running"
                self._persist(job)
            self._jobs[name] = job
            return job

    def _pump(self) -> None:
        with self._lock:
            while self._queue and self._running < self.max_concurrent:
                job = self._jobs[self._queue.popleft()]
                self._running += 1
                job.status, job.started_at = "InProgress", utc_now()
                self._persist(job)
                threading.Thread(
                    target=self._run, args=(job,), name=f"train-{job.spec.name}", daemon=True
                ).start()

    def _run(self, job: _Job) -> None:
        try:
            self._execute(job)
        except Exception as e:  # a setup error (a missing blob, a full disk) fails the job, never the API
            with self._lock:
                job.status, job.failure_reason = "Failed", f"the local backend could not run the job: {e}"
                job.ended_at = job.ended_at or utc_now()
                self._persist(job)
        finally:
            with self._lock:
                self._running -= 1
            self._pump()

    def _execute(self, job: _Job) -> None:
        root = self.work_dir / job.spec.name
        env = self._layout(job.spec, root)
        t0 = time.monotonic()
        log = (root / "logs.txt").open("ab")
        tail: collections.deque[str] = collections.deque(maxlen=FAILURE_LINES)
        with self._lock:
            if job.stop_requested:
                log.close()
                job.status, job.ended_at = "Stopped", utc_now()
                self._persist(job)
                return
            job.proc = subprocess.Popen(
                [self.python, "train.py"],
                cwd=root / "code",
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stop() signals the whole tree
            )
        proc = job.proc
        assert proc.stdout is not None and proc.stderr is not None
        lock = threading.Lock()
        readers = [
            threading.Thread(target=_pipe, args=(proc.stdout, log, lock, None), daemon=True),
            threading.Thread(target=_pipe, args=(proc.stderr, log, lock, tail), daemon=True),
        ]
        for r in readers:
            r.start()
        deadline = threading.Timer(job.spec.max_runtime_s, self._timeout, args=(job,))
        deadline.daemon = True
        deadline.start()
        _, status, usage = os.wait4(proc.pid, 0)
        deadline.cancel()
        with self._lock:
            job.reaped = True
            proc.returncode = os.waitstatus_to_exitcode(status)
        for r in readers:
            r.join(timeout=5)
        log.close()
        wall = time.monotonic() - t0
        self._finish(job, root, proc.returncode, wall, usage.ru_utime + usage.ru_stime, list(tail))

    def _finish(self, job: _Job, root: Path, rc: int, wall: float, cpu: float, tail: list[str]) -> None:
        model_dir = root / "model"
        outcome: dict[str, Any] = {"status": "Failed", "reason": None, "artifact": None}
        if job.stop_requested:
            outcome["status"] = "Stopped"
        elif job.failure_reason:  # the deadline fired
            outcome["reason"] = job.failure_reason
        elif rc != 0:
            written = root / "output" / "failure"
            reason = written.read_text(errors="replace").strip()[:2000] if written.is_file() else ""
            outcome["reason"] = reason or (f"train.py exited with {rc}:\n" + "\n".join(tail)).strip()
        elif not any(p.is_file() for p in model_dir.rglob("*")):
            outcome["reason"] = "train.py exited 0 but wrote nothing to SM_MODEL_DIR"
        else:
            key = f"{job.spec.output_prefix}{job.spec.name}/output/model.tar.gz"
            self.blobs.put(key, pack_dir(model_dir))
            outcome.update(status="Completed", artifact=key)
        with self._lock:
            job.status, job.failure_reason = outcome["status"], outcome["reason"]
            job.artifact_key = outcome["artifact"]
            job.ended_at, job.wall_seconds, job.cpu_seconds = utc_now(), round(wall, 3), round(cpu, 3)
            job.proc = None
            self._persist(job)

    def _timeout(self, job: _Job) -> None:
        with self._lock:
            if job.reaped or job.stop_requested:
                return
            job.failure_reason = f"MaxRuntimeExceeded: ran longer than {job.spec.max_runtime_s} s"
            self._signal(job, signal.SIGKILL)

    def _signal_locked(self, job: _Job, sig: int) -> None:
        with self._lock:
            self._signal(job, sig)

    def _signal(self, job: _Job, sig: int) -> None:
        """Signal the job's process group, never a reaped pid (which the OS may have reused)."""
        if job.proc is not None and not job.reaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(job.proc.pid, sig)

    def _layout(self, spec: JobSpec, root: Path) -> dict[str, str]:
        code, data, config = root / "code", root / "input" / "data", root / "input" / "config"
        for d in (code, data, config, root / "model", root / "output" / "data"):
            d.mkdir(parents=True, exist_ok=True)
        bundle = self.blobs.get(spec.source_key)
        if bundle is None:
            raise FileNotFoundError(f"source bundle {spec.source_key!r} is not in the blob store")
        with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
            tar.extractall(code, filter="data")
        for channel, prefix in spec.channels.items():
            target = data / channel
            target.mkdir(exist_ok=True)
            for key in self.blobs.list(prefix):
                rel = key[len(prefix) :]
                blob = self.blobs.get(key)
                if blob is None or not rel:
                    continue
                dest = target / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(blob)
        hps = dict(spec.hyperparameters)
        (config / "hyperparameters.json").write_text(json.dumps(hps))
        (config / "inputdataconfig.json").write_text(
            json.dumps({c: {"TrainingInputMode": "File"} for c in spec.channels})
        )
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
        )
        env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        env.update({v: str(self.threads) for v in THREAD_VARS})
        env.update(
            {
                "OMP_WAIT_POLICY": "PASSIVE",
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "SM_MODEL_DIR": str(root / "model"),
                "SM_OUTPUT_DIR": str(root / "output"),
                "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
                "SM_INPUT_DIR": str(root / "input"),
                "SM_INPUT_CONFIG_DIR": str(config),
                "SM_MODULE_DIR": str(code),
                "SM_CHANNELS": json.dumps(sorted(spec.channels)),
                "SM_HPS": json.dumps(hps),
                "SM_NUM_CPUS": str(self.threads),
                "SM_NUM_GPUS": "0",
                "SM_CURRENT_HOST": "algo-1",
                "SM_HOSTS": json.dumps(["algo-1"]),
                "SM_USER_ENTRY_POINT": "train.py",
            }
        )
        for channel in spec.channels:
            env[f"SM_CHANNEL_{channel.upper()}"] = str(data / channel)
        for k, v in hps.items():
            env[f"SM_HP_{k.upper()}"] = v
        return env

    def _persist(self, job: _Job) -> None:
        path = self.work_dir / job.spec.name / "state.json"
        if path.parent.is_dir():
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(job.state()))
            os.replace(tmp, path)

    def _read_lines(self, name: str) -> list[str]:
        path = self.work_dir / name / "logs.txt"
        if not path.is_file():
            return []
        return path.read_bytes().decode("utf-8", errors="replace").splitlines()

    def remove(self, name: str) -> None:
        """Delete a terminal job's folder (tests, housekeeping)."""
        job = self._job(name)
        if job.status in JOB_TERMINAL:
            shutil.rmtree(self.work_dir / name, ignore_errors=True)
            with self._lock:
                self._jobs.pop(name, None)


def _pipe(src: IO[bytes], log: IO[bytes], lock: threading.Lock, tail: collections.deque[str] | None) -> None:
    """Copy one pipe into the log, line by line (so stdout and stderr interleave by whole lines)."""
    written = 0
    for line in iter(src.readline, b""):
        if tail is not None:
            tail.append(line.decode("utf-8", errors="replace").rstrip("\n"))
        if written < MAX_LOG_BYTES:
            with lock:
                log.write(line if line.endswith(b"\n") else line + b"\n")
                log.flush()
            written += len(line)
    src.close()
