"""A tiny typed HTTP client for exactly what the pytest plugin needs: find a project, suggest, ingest.

Not the SDK: four calls, each with the retry policy its semantics allow. Ingest is idempotent (the
server recognises an identical resend by its fingerprint), so it is retried on any transport error,
429 or 5xx. Suggest stores the tests it answers with, so it is retried only where the request
cannot have been served: a refused connection, 429 (throttled) and 503 (unavailable); a retry after
a lost answer would leave orphan pending tests behind. Errors carry the API's `error.details[]`
(field, reason, hint) so a test author reads what the server said, not a bare status code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from optiloop.client.errors import Problem  # one shape of `error.details` for both clients

INGEST_CHUNK = 1000  # the API's limit per runs:ingest request
# below the server's default body limit (OPTILOOP_MAX_BODY_BYTES, 1 MiB): 1000 runs with a few
# dozen string buckets each are more than that; a server configured lower answers 413 and the
# chunk is halved
INGEST_CHUNK_BYTES = 900_000
SUGGEST_CHUNK = 500  # the API's limit on batch_size
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)  # a hybrid batch on a long history takes seconds


class OptiLoopClientError(Exception):
    """Base of what the plugin's client raises."""


class OptiLoopUnavailable(OptiLoopClientError):
    """No answer worth having: the server is unreachable, or kept answering 429/5xx through the retries.

    The one error after which an offline fallback is legitimate; every other error is a mistake in
    configuration or input that a fallback would only hide."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"OptiLoop server not reachable at {url}: {reason}")
        self.url = url
        self.reason = reason


class OptiLoopAPIError(OptiLoopClientError):
    """The server answered with an error; the message names the call, status, code and every detail."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        code: str,
        message: str,
        details: Sequence[Problem] = (),
        request_id: str | None = None,
    ) -> None:
        self.method, self.path, self.status, self.code = method, path, status, code
        self.message, self.details, self.request_id = message, list(details), request_id
        text = f"{method} {path} -> {status} {code}: {message}"
        if self.details:
            text += " [" + "; ".join(str(d) for d in self.details) + "]"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)


@dataclass(frozen=True)
class ProjectRef:
    id: str
    name: str


@dataclass(frozen=True)
class SuggestedTest:
    id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Suggestion:
    tests: list[SuggestedTest]
    space_version: str | None
    seed: int | None


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    new_buckets: int = 0
    total_buckets: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def plus(self, other: IngestResult) -> IngestResult:
        """Totals over chunks; total_buckets is the project's count after the later chunk."""
        return IngestResult(
            accepted=self.accepted + other.accepted,
            duplicates=self.duplicates + other.duplicates,
            new_buckets=self.new_buckets + other.new_buckets,
            total_buckets=other.total_buckets,
            rejected=[*self.rejected, *other.rejected],
        )


RETRY_ALWAYS = frozenset({429, 500, 502, 503, 504})
RETRY_UNSERVED = frozenset({429, 503})


class Client:
    """One base URL and key; paths are joined under the base, so an API Gateway stage URL
    (`https://abc.execute-api.eu-west-1.amazonaws.com/prod`) works as well as a local server."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        attempts: int = 4,
        backoff_s: float = 0.25,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.has_key = bool(api_key)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        headers["User-Agent"] = "optiloop-pytest-plugin"
        self._http = httpx.Client(
            base_url=self.url + "/", headers=headers, timeout=timeout, transport=transport
        )
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    # -- the four calls -----------------------------------------------------------------
    def find_project(self, project: str) -> ProjectRef:
        """By id (`prj_...`) or by name among the projects the key may see; a name must be unique."""
        if project.startswith("prj_"):
            try:
                p = self._call("GET", f"v1/projects/{project}", retry_on=RETRY_ALWAYS)
                return ProjectRef(id=p["id"], name=p["name"])
            except OptiLoopAPIError as e:
                if e.status != 404:
                    raise
        matches = [p for p in self._projects() if p.name == project]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise OptiLoopClientError(
                f"no project with id or name {project!r} is visible to this key at {self.url}; create it "
                "(POST /v1/projects, then its constraints) or use a key that may read it"
            )
        ids = ", ".join(p.id for p in matches)
        raise OptiLoopClientError(
            f"{len(matches)} projects are named {project!r} ({ids}); pass the id instead"
        )

    def suggest(self, project_id: str, n: int, body: Mapping[str, Any]) -> Suggestion:
        """n tests, in requests of at most SUGGEST_CHUNK; stops early when the space gives no more."""
        tests: list[SuggestedTest] = []
        space_version: str | None = None
        seed: int | None = None
        while len(tests) < n:
            want = min(SUGGEST_CHUNK, n - len(tests))
            out = self._call(
                "POST",
                f"v1/projects/{project_id}/tests:suggest",
                json={**body, "batch_size": want},
                retry_on=RETRY_UNSERVED,
                retry_transport=False,
            )
            seed = out.get("seed") if seed is None else seed
            if body.get("seed") is None and seed is not None:
                body = {**body, "seed": seed}  # later chunks continue the first one's draw
            got = [SuggestedTest(id=t["id"], params=dict(t["params"])) for t in out["tests"]]
            tests += got
            space_version = out.get("space_version", space_version)
            if len(got) < want:
                break
        return Suggestion(tests=tests, space_version=space_version, seed=seed)

    def ingest(self, project_id: str, runs: Sequence[Mapping[str, Any]]) -> IngestResult:
        """All runs, in requests of at most INGEST_CHUNK runs and INGEST_CHUNK_BYTES (each idempotent,
        so each is retried safely); a 413 halves the request and sends both halves."""
        total = IngestResult()
        todo = list(_chunks(runs, INGEST_CHUNK, INGEST_CHUNK_BYTES))
        while todo:
            chunk = todo.pop(0)
            try:
                out = self._call(
                    "POST",
                    f"v1/projects/{project_id}/runs:ingest",
                    json={"runs": list(chunk)},
                    retry_on=RETRY_ALWAYS,
                )
            except OptiLoopAPIError as e:
                if e.status != 413 or len(chunk) == 1:
                    raise
                half = len(chunk) // 2
                todo[:0] = [chunk[:half], chunk[half:]]
                continue
            total = total.plus(
                IngestResult(
                    accepted=int(out.get("accepted", 0)),
                    duplicates=int(out.get("duplicates", 0)),
                    new_buckets=int(out.get("new_buckets", 0)),
                    total_buckets=int(out.get("total_buckets", 0)),
                    rejected=list(out.get("rejected", [])),
                )
            )
        return total

    def _projects(self) -> Iterator[ProjectRef]:
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if after:
                params["after"] = after  # the one cursor name (docs/api-versioning.md, "Listings")
            page = self._call("GET", "v1/projects", params=params, retry_on=RETRY_ALWAYS)
            for p in page["items"]:
                yield ProjectRef(id=p["id"], name=p["name"])
            after = page.get("next_after")
            if not after:
                return

    # -- transport ------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        retry_on: frozenset[int],
        retry_transport: bool = True,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One API call with retries and exponential backoff (Retry-After honoured, capped at 30 s).

        `retry_transport=False` still retries a failed *connect* (the request never left), but not a
        read timeout or a dropped connection after the request was sent."""
        last = ""
        delay = 0.0
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(delay)
            delay = self._backoff_s * 2**attempt
            try:
                r = self._http.request(method, path, json=json, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                last = f"{type(e).__name__}: {e}"
                continue
            except httpx.TransportError as e:
                last = f"{type(e).__name__}: {e}"
                if retry_transport:
                    continue
                raise OptiLoopUnavailable(self.url, f"{method} /{path}: {last}") from None
            if r.status_code < 400:
                return r.json()
            if r.status_code not in retry_on:
                raise self._error(method, path, r)
            last = f"{method} /{path} answered {r.status_code}"
            delay = max(delay, _retry_after(r) or 0.0)
        raise OptiLoopUnavailable(self.url, f"{last} (after {self._attempts} attempts)")

    def _error(self, method: str, path: str, r: httpx.Response) -> OptiLoopAPIError:
        try:
            err = r.json().get("error", {})
        except ValueError:
            err = {}
        if not isinstance(err, dict):
            err = {}
        details = [
            Problem(field=str(d.get("field", "")), reason=str(d.get("reason", "")), hint=d.get("hint"))
            for d in err.get("details", []) or []
            if isinstance(d, dict)
        ]
        message = str(err.get("message") or r.text[:200] or r.reason_phrase)
        if r.status_code == 401 and not self.has_key:
            message += " — no API key was set: export OPTILOOP_API_KEY or pass --optiloop-key"
        return OptiLoopAPIError(
            method,
            "/" + path,
            r.status_code,
            str(err.get("code") or r.reason_phrase),
            message,
            details,
            err.get("request_id"),
        )


def _retry_after(r: httpx.Response) -> float | None:
    raw = r.headers.get("retry-after")
    try:
        return min(max(float(raw), 0.0), 30.0) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: the exponential backoff is good enough


def _chunks(
    items: Sequence[Mapping[str, Any]], max_items: int, max_bytes: int
) -> Iterator[Sequence[Mapping[str, Any]]]:
    """Consecutive runs, at most max_items and about max_bytes of JSON per request (a single run
    larger than max_bytes goes alone; the server's own 256 KiB cap on a run's buckets bounds it)."""
    chunk: list[Mapping[str, Any]] = []
    size = 0
    for item in items:
        n = len(json.dumps(item, separators=(",", ":"))) + 1
        if chunk and (len(chunk) == max_items or size + n > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += n
    if chunk:
        yield chunk
