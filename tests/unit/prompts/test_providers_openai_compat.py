"""The OpenAI-compatible adapter against a real HTTP server on 127.0.0.1 speaking the OpenAI shape.

The server's behaviour is chosen by the request's model id, so one server covers success, usage,
JSON mode, throttling, server errors, client errors, slow answers and malformed bodies.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from optiloop.prompts.providers.openai_compat import OpenAICompatibleProvider
from optiloop.prompts.providers.port import CompletionRequest, Decoding, ProviderError, ProviderTimeout

SECRET = "sk-test-abcdefghijklmnop1234"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        model = body.get("model", "")
        if model == "slow":
            time.sleep(1.5)
        if model == "throttled":
            return self._send(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0.25"})
        if model == "broken":
            return self._send(500, {"error": {"message": "internal"}})
        if model == "unavailable":
            return self._send(503, "upstream down", {})
        if model == "bad-key":
            return self._send(401, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})
        if model == "missing":
            return self._send(404, {"error": {"message": "The model `missing` does not exist"}})
        if model == "garbage":
            return self._send(200, "<html>proxy error</html>", {})
        content = body["messages"][-1]["content"]
        if body.get("response_format", {}).get("type") == "json_object":
            content = json.dumps({"echo": content})
        answer: dict[str, Any] = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
        }
        if model != "no-usage":
            answer["usage"] = {"prompt_tokens": 17, "completion_tokens": 5, "total_tokens": 22}
        self._send(200, answer)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.wfile.write(raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[dict[str, Any]]


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture()
def provider(server: _Server) -> Iterator[OpenAICompatibleProvider]:
    host, port = server.server_address[:2]
    p = OpenAICompatibleProvider(
        "local-openai", f"http://{host}:{port}/v1", api_key_env="TEST_LLM_KEY", timeout_s=5.0,
        env={"TEST_LLM_KEY": SECRET},
    )  # fmt: skip
    server.seen.clear()
    yield p
    p.close()


def _req(model: str, prompt: str = "Say hi", **kw: Any) -> CompletionRequest:
    return CompletionRequest(model=model, prompt=prompt, **kw)


def test_completion_text_usage_and_request_shape(provider: OpenAICompatibleProvider, server: _Server) -> None:
    out = provider.complete(
        _req(
            "gpt-x",
            system="Be brief.",
            decoding=Decoding(temperature=0.3, top_p=0.9, max_tokens=20, stop=("\n",)),
        )
    )
    assert out.text == "Say hi"
    assert (out.prompt_tokens, out.completion_tokens) == (17, 5)
    assert out.provider == "local-openai" and out.model == "gpt-x" and out.finish_reason == "stop"
    assert out.latency_ms > 0
    seen = server.seen[-1]
    assert seen["path"] == "/v1/chat/completions"
    assert seen["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert seen["body"]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hi"},
    ]
    assert seen["body"]["max_tokens"] == 20 and seen["body"]["stop"] == ["\n"]
    assert seen["body"]["temperature"] == 0.3 and seen["body"]["top_p"] == 0.9
    assert "response_format" not in seen["body"]


def test_json_mode_asks_for_a_json_object(provider: OpenAICompatibleProvider, server: _Server) -> None:
    out = provider.complete(_req("gpt-x", json_mode=True))
    assert server.seen[-1]["body"]["response_format"] == {"type": "json_object"}
    assert json.loads(out.text) == {"echo": "Say hi"}


def test_missing_usage_falls_back_to_the_estimate(provider: OpenAICompatibleProvider) -> None:
    out = provider.complete(_req("no-usage", prompt="Hello world, this is a test of tokenisation!"))
    assert out.prompt_tokens == out.completion_tokens and 8 <= out.prompt_tokens <= 14


def test_pooled_client_reuses_connections(provider: OpenAICompatibleProvider, server: _Server) -> None:
    for _ in range(3):
        provider.complete(_req("gpt-x"))
    client = provider.client
    provider.complete(_req("gpt-x"))
    assert provider.client is client  # one client per provider, not per call
    assert len(server.seen) == 4


@pytest.mark.parametrize(("model", "status"), [("throttled", 429), ("broken", 500), ("unavailable", 503)])
def test_throttling_and_server_errors_are_retryable(
    provider: OpenAICompatibleProvider, model: str, status: int
) -> None:
    with pytest.raises(ProviderError) as info:
        provider.complete(_req(model))
    assert info.value.retryable is True
    assert not isinstance(info.value, ProviderTimeout)
    assert f"HTTP {status}" in str(info.value) and info.value.provider == "local-openai"
    if model == "throttled":
        assert info.value.retry_after_s == 0.25  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", ["bad-key", "missing"])
def test_client_errors_are_not_retryable_and_never_echo_the_key(
    provider: OpenAICompatibleProvider, model: str
) -> None:
    with pytest.raises(ProviderError) as info:
        provider.complete(_req(model))
    assert info.value.retryable is False
    assert SECRET not in str(info.value)
    if model == "bad-key":
        assert "[redacted]" in str(info.value)


def test_slow_answer_is_a_timeout(provider: OpenAICompatibleProvider) -> None:
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout) as info:
        provider.complete(_req("slow", timeout_s=0.3))
    assert time.perf_counter() - started < 1.4  # gave up at the request's timeout, not the server's pace
    assert info.value.retryable is True


def test_malformed_body_is_a_retryable_error(provider: OpenAICompatibleProvider) -> None:
    with pytest.raises(ProviderError, match="without a chat completion") as info:
        provider.complete(_req("garbage"))
    assert info.value.retryable is True


def test_connection_refused_is_retryable() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = OpenAICompatibleProvider("nobody", f"http://127.0.0.1:{port}/v1", timeout_s=2.0)
    with pytest.raises(ProviderError) as info:
        p.complete(_req("gpt-x"))
    assert info.value.retryable is True and "connection failed" in str(info.value)


def test_missing_key_variable_is_a_configuration_error_naming_the_variable(server: _Server) -> None:
    host, port = server.server_address[:2]
    p = OpenAICompatibleProvider("x", f"http://{host}:{port}/v1", api_key_env="NOT_SET_ANYWHERE", env={})
    with pytest.raises(ProviderError, match="NOT_SET_ANYWHERE") as info:
        p.complete(_req("gpt-x"))
    assert info.value.retryable is False
