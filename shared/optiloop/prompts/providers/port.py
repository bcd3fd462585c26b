"""The provider port: one way to ask any model for a completion.

A provider turns a rendered prompt into text and token counts; everything around the call (retries,
fallback, routing, pricing, caching, tracing) is the platform's and lives outside the adapters, so
every provider gets it alike and the deterministic one can measure the platform's own overhead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decoding:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompletionRequest:
    model: str  # the provider's own model id
    prompt: str
    decoding: Decoding = field(default_factory=Decoding)
    system: str | None = None
    json_mode: bool = False  # ask for a JSON object where the provider supports it
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    provider: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    finish_reason: str = "stop"


class ProviderError(Exception):
    """A failed call. `retryable`: worth another try (throttling, 5xx, connection reset)."""

    def __init__(self, message: str, *, provider: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.provider = provider
        self.retryable = retryable


class ProviderTimeout(ProviderError):
    """The call outlived its timeout (the platform answers 504 if every candidate times out)."""


class Provider(ABC):
    """One backend. Implementations are thread-safe and cheap to call repeatedly (clients reused)."""

    name: str

    @abstractmethod
    def complete(self, request: CompletionRequest) -> Completion: ...

    def count_tokens(self, text: str) -> int:
        """The provider's own count where it has a tokenizer; the platform's estimate otherwise."""
        from optiloop.prompts.tokens import estimate_tokens

        return estimate_tokens(text)
