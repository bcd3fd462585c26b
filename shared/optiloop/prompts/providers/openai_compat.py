"""Any OpenAI-compatible `/chat/completions` endpoint: OpenAI, Azure-style gateways, vLLM, Ollama...

One pooled httpx client per provider (connections are reused across requests and threads). The
adapter does no retries of its own: it classifies each failure — retryable (429, 408, 5xx, a
dropped connection), not retryable (other 4xx: a bad request or a bad key stays bad), timeout —
and the router decides what to do, the same way for every provider.

`base_url` follows the OpenAI SDK's convention: it includes the version prefix
(`https://api.openai.com/v1`), and the adapter posts to `{base_url}/chat/completions`.
The key is read from the environment variable named by `api_key_env` on every call, so a rotated
key is picked up without a restart, and it never appears in an error message.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from optiloop.prompts.providers.port import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderTimeout,
)
from optiloop.prompts.tokens import estimate_tokens

_RETRYABLE_STATUS = {408, 409, 425, 429}
_KEYLIKE = re.compile(r"\b(sk|pk|rk|key)-[A-Za-z0-9_\-]{6,}")
_MAX_MESSAGE = 300


class OpenAICompatibleProvider(Provider):
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        api_key_env: str | None = None,
        timeout_s: float = 30.0,
        env: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self._env = os.environ if env is None else env
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(
                        base_url=self.base_url,
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
                        transport=self._transport,
                        follow_redirects=False,
                    )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def complete(self, request: CompletionRequest) -> Completion:
        headers = {"Content-Type": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limit = min(request.timeout_s, self.timeout_s)
        timeout = httpx.Timeout(limit, connect=min(limit, 5.0))
        started = time.perf_counter()
        try:
            response = self.client.post(
                "/chat/completions", json=_payload(request), headers=headers, timeout=timeout
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(
                f"no answer within {limit:g} s ({type(exc).__name__})", provider=self.name, retryable=True
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(f"connection failed: {type(exc).__name__}", provider=self.name) from None
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            raise self._status_error(response, key)
        return self._parse(response, request, latency_ms)

    def _api_key(self) -> str | None:
        if not self.api_key_env:
            return None
        key = self._env.get(self.api_key_env)
        if not key:
            raise ProviderError(
                f"environment variable {self.api_key_env} (api_key_env) is not set",
                provider=self.name,
                retryable=False,
            )
        return key

    def _status_error(self, response: httpx.Response, key: str | None) -> ProviderError:
        status = response.status_code
        retryable = status in _RETRYABLE_STATUS or status >= 500
        detail = _redact(_upstream_message(response), key)
        error = ProviderError(
            f"HTTP {status} from {self.name}" + (f": {detail}" if detail else ""),
            provider=self.name,
            retryable=retryable,
        )
        retry_after = response.headers.get("retry-after")
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date instead of seconds: ignore it
                error.retry_after_s = float(retry_after)  # type: ignore[attr-defined]
        return error

    def _parse(self, response: httpx.Response, request: CompletionRequest, latency_ms: float) -> Completion:
        try:
            body = response.json()
            choice = body["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderError(
                f"HTTP {response.status_code} from {self.name} without a chat completion in the body",
                provider=self.name,
            ) from None
        usage = body.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens")
        completion_tokens = usage.get("completion_tokens")
        if not isinstance(prompt_tokens, int):
            prompt_tokens = estimate_tokens(f"{request.system or ''}\n{request.prompt}".lstrip("\n"))
        if not isinstance(completion_tokens, int):
            completion_tokens = estimate_tokens(text)
        return Completion(
            text=text,
            model=str(body.get("model") or request.model),
            provider=self.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=latency_ms,
            finish_reason=str(choice.get("finish_reason") or "stop"),
        )


def _payload(request: CompletionRequest) -> dict[str, Any]:
    messages = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": request.prompt})
    d = request.decoding
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "temperature": d.temperature,
        "top_p": d.top_p,
        "max_tokens": d.max_tokens,
    }
    if d.stop:
        body["stop"] = list(d.stop)
    if request.json_mode:
        body["response_format"] = {"type": "json_object"}
    return body


def _upstream_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:_MAX_MESSAGE].strip()
    err = body.get("error") if isinstance(body, dict) else None
    msg = err.get("message") if isinstance(err, dict) else err
    return str(msg or "")[:_MAX_MESSAGE]


def _redact(message: str, key: str | None) -> str:
    if key:
        message = message.replace(key, "[redacted]")
    return _KEYLIKE.sub("[redacted]", message)
