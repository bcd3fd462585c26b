"""Domain errors.

The core raises these; the API maps them to HTTP in one place (`optiloop.api.errors`), so the
core never knows about status codes and every adapter (HTTP, Lambda, CLI) reports alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class OptiLoopError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


@dataclass
class FieldProblem:
    """One thing wrong with the input: where (a JSON path such as `json_schema.relations[1]`) and why."""

    field: str
    reason: str
    hint: str | None = None
    # dataclasses.field, qualified: a bare `field` here would be the str attribute declared above
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "reason": self.reason}
        if self.hint:
            out["hint"] = self.hint
        out.update(self.extra)
        return out


class InvalidInput(OptiLoopError):
    """The request is well-formed JSON but its content is wrong (HTTP 422)."""

    code = "invalid_input"

    def __init__(self, problems: list[FieldProblem] | FieldProblem, message: str | None = None) -> None:
        probs = [problems] if isinstance(problems, FieldProblem) else list(problems)
        msg = message or "; ".join(
            f"{p.field}: {p.reason}" + (f" — {p.hint}" if p.hint else "") for p in probs
        )
        super().__init__(msg, details=[p.as_dict() for p in probs])
        self.problems = probs


class Unsatisfiable(InvalidInput):
    """A parameter space in which no (or practically no) point satisfies the hard relations (422)."""

    code = "unsatisfiable"


class NotFound(OptiLoopError):
    code = "not_found"


class Conflict(OptiLoopError):
    """The request is valid but the state forbids it, e.g. a spent budget (HTTP 409)."""

    code = "conflict"


class Contended(Conflict):
    """Concurrent writers of the same thing (a project's audit chain, its seq counter) kept winning:
    nothing was written, and the same request will very likely succeed shortly (HTTP 409 with
    Retry-After). `contended` names what was contended."""

    code = "contended"

    def __init__(
        self,
        message: str,
        *,
        contended: str,
        retry_after_s: float = 1.0,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            message,
            details=details
            or [
                {
                    "field": "store",
                    "reason": f"contended: {contended}",
                    "hint": f"retry after {retry_after_s:g} s",
                }
            ],
        )
        self.contended = contended
        self.retry_after_s = retry_after_s


class Unauthorized(OptiLoopError):
    """No key, or a key that does not exist or was revoked (HTTP 401)."""

    code = "unauthorized"


class Forbidden(OptiLoopError):
    """A valid key whose role does not allow the action (HTTP 403)."""

    code = "forbidden"


class PayloadTooLarge(OptiLoopError):
    code = "payload_too_large"


class TooManyRequests(OptiLoopError):
    """A principal past its request or refusal rate (HTTP 429 with Retry-After)."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: float, details: list[dict[str, Any]] | None = None):
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class NotImplementedYet(OptiLoopError):
    """A capability that is planned but not built: a clear 501 instead of a stub."""

    code = "not_implemented"


class UpstreamFailed(OptiLoopError):
    """Every model provider the request could use failed (HTTP 502); details name each attempt."""

    code = "upstream_failed"


class UpstreamTimeout(UpstreamFailed):
    """Every provider the request could use timed out (HTTP 504)."""

    code = "upstream_timeout"
