"""Amazon Bedrock through the `bedrock-runtime` Converse API (one request shape for every model).

boto3 is in the `aws` extra, so it is imported when the first call needs a client, never at
import time: a deployment without Bedrock in its catalogue does not pay for it. botocore's own
retries are switched off (one attempt per call) because the router owns retries and fallback for
every provider alike; this adapter only classifies what went wrong.

Converse has no JSON mode: with `json_mode` the adapter adds a system instruction to answer
with one JSON object, and the structured-output check (prompts.structured) does the rest.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from optiloop.prompts.providers.port import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderTimeout,
)

# Error codes from the Converse API reference, by what a retry can do about them.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalServerException",
        "ModelNotReadyException",
        "ServiceQuotaExceededException",
        "TooManyRequestsException",
    }
)
TIMEOUT_CODES = frozenset({"ModelTimeoutException", "RequestTimeout", "RequestTimeoutException"})
JSON_INSTRUCTION = "Answer with a single JSON object and nothing else."
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class BedrockProvider(Provider):
    def __init__(
        self,
        name: str,
        *,
        region: str | None = None,
        timeout_s: float = 30.0,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        self.name = name
        self.region = region
        self.timeout_s = timeout_s
        self.endpoint_url = endpoint_url
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 client, made on first use (thread-safe; boto3 clients are safe to share)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ProviderError(
                "the bedrock provider needs boto3: pip install 'optiloop[aws]'",
                provider=self.name,
                retryable=False,
            ) from None
        config = Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=min(5.0, self.timeout_s),
            read_timeout=self.timeout_s,
        )
        kwargs: dict[str, Any] = {"config": config}
        if self.region:
            kwargs["region_name"] = self.region
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return boto3.client("bedrock-runtime", **kwargs)

    def complete(self, request: CompletionRequest) -> Completion:
        client = self.client
        started = time.perf_counter()
        try:
            response = client.converse(**converse_params(request))
        except Exception as exc:
            raise self._classify(exc) from None
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            blocks = response["output"]["message"]["content"]
            text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict))
            usage = response.get("usage") or {}
        except (KeyError, TypeError):
            raise ProviderError("Bedrock answered without a message", provider=self.name) from None
        return Completion(
            text=text,
            model=request.model,
            provider=self.name,
            prompt_tokens=int(usage.get("inputTokens", 0)),
            completion_tokens=int(usage.get("outputTokens", 0)),
            latency_ms=latency_ms,
            finish_reason=_STOP_REASONS.get(
                response.get("stopReason", ""), response.get("stopReason") or "stop"
            ),
        )

    def _classify(self, exc: Exception) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        from botocore import exceptions as bx

        if isinstance(exc, bx.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = f"{code}: {err.get('Message', '')}".strip(": ")[:300]
            if code in TIMEOUT_CODES:
                return ProviderTimeout(message, provider=self.name, retryable=True)
            retryable = code in RETRYABLE_CODES or (
                isinstance(status, int) and (status >= 500 or status == 429)
            )
            return ProviderError(message, provider=self.name, retryable=retryable)
        if isinstance(exc, bx.ReadTimeoutError | bx.ConnectTimeoutError):
            return ProviderTimeout(
                f"no answer within {self.timeout_s:g} s", provider=self.name, retryable=True
            )
        if isinstance(exc, bx.NoCredentialsError | bx.NoRegionError | bx.ParamValidationError):
            return ProviderError(f"{type(exc).__name__}: {exc}", provider=self.name, retryable=False)
        if isinstance(exc, bx.BotoCoreError):  # connection closed/refused, endpoint unreachable
            return ProviderError(f"{type(exc).__name__}", provider=self.name, retryable=True)
        return ProviderError(f"unexpected {type(exc).__name__}", provider=self.name, retryable=False)


def converse_params(request: CompletionRequest) -> dict[str, Any]:
    """The Converse request for a completion request (public for tests and for tracing)."""
    d = request.decoding
    inference: dict[str, Any] = {"maxTokens": d.max_tokens, "temperature": d.temperature, "topP": d.top_p}
    if d.stop:
        inference["stopSequences"] = list(d.stop)
    params: dict[str, Any] = {
        "modelId": request.model,
        "messages": [{"role": "user", "content": [{"text": request.prompt}]}],
        "inferenceConfig": inference,
    }
    system = [s for s in (request.system, JSON_INSTRUCTION if request.json_mode else None) if s]
    if system:
        params["system"] = [{"text": s} for s in system]
    return params
