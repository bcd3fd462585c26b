"""The Bedrock adapter: Converse requests and error mapping, through botocore's Stubber.

The Stubber checks each request against the service model (a wrong parameter fails the test),
and a slow local endpoint gives a real botocore read timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from optiloop.prompts.providers.bedrock import JSON_INSTRUCTION, BedrockProvider
from optiloop.prompts.providers.port import CompletionRequest, Decoding, ProviderError, ProviderTimeout

pytest.importorskip("boto3")
from botocore.stub import Stubber


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _answer(text: str = "Hello!", stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
        "metrics": {"latencyMs": 42},
    }


def test_converse_request_and_response() -> None:
    p = BedrockProvider("bedrock", region="us-west-2")
    assert p.client.meta.region_name == "us-west-2"
    with Stubber(p.client) as stub:
        stub.add_response(
            "converse",
            _answer(),
            {
                "modelId": MODEL,
                "messages": [{"role": "user", "content": [{"text": "Say hello"}]}],
                "system": [{"text": "Be brief."}],
                "inferenceConfig": {
                    "maxTokens": 32,
                    "temperature": 0.2,
                    "topP": 0.9,
                    "stopSequences": ["\n\n"],
                },
            },
        )
        out = p.complete(
            CompletionRequest(
                model=MODEL,
                prompt="Say hello",
                system="Be brief.",
                decoding=Decoding(temperature=0.2, top_p=0.9, max_tokens=32, stop=("\n\n",)),
            )
        )
        stub.assert_no_pending_responses()
    assert out.text == "Hello!" and out.finish_reason == "stop"
    assert (out.prompt_tokens, out.completion_tokens) == (12, 3)
    assert out.provider == "bedrock" and out.model == MODEL


def test_json_mode_adds_a_system_instruction_and_max_tokens_maps_to_length() -> None:
    p = BedrockProvider("bedrock")
    with Stubber(p.client) as stub:
        stub.add_response(
            "converse",
            _answer('{"a": 1', stop="max_tokens"),
            {
                "modelId": MODEL,
                "messages": [{"role": "user", "content": [{"text": "json please"}]}],
                "system": [{"text": JSON_INSTRUCTION}],
                "inferenceConfig": {"maxTokens": 256, "temperature": 0.0, "topP": 1.0},
            },
        )
        out = p.complete(CompletionRequest(model=MODEL, prompt="json please", json_mode=True))
    assert out.finish_reason == "length"


@pytest.mark.parametrize(
    ("code", "status", "retryable", "timeout"),
    [
        ("ThrottlingException", 429, True, False),
        ("ServiceUnavailableException", 503, True, False),
        ("InternalServerException", 500, True, False),
        ("ModelNotReadyException", 429, True, False),
        ("ModelTimeoutException", 408, True, True),
        ("ValidationException", 400, False, False),
        ("AccessDeniedException", 403, False, False),
        ("ResourceNotFoundException", 404, False, False),
    ],
)
def test_service_errors_are_classified(code: str, status: int, retryable: bool, timeout: bool) -> None:
    p = BedrockProvider("bedrock")
    with Stubber(p.client) as stub:
        stub.add_client_error(
            "converse", service_error_code=code, service_message="nope", http_status_code=status
        )
        with pytest.raises(ProviderError) as info:
            p.complete(CompletionRequest(model=MODEL, prompt="hi"))
    assert info.value.retryable is retryable
    assert isinstance(info.value, ProviderTimeout) is timeout
    assert code in str(info.value) and info.value.provider == "bedrock"


def test_client_is_made_once_and_lazily() -> None:
    p = BedrockProvider("bedrock")
    assert p._client is None
    assert p.client is p.client


class _Slow(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(1.5)
        self.send_response(200)
        self.end_headers()


@pytest.fixture()
def slow_endpoint() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_a_slow_endpoint_is_a_timeout_without_botocore_retries(slow_endpoint: str) -> None:
    p = BedrockProvider("bedrock", timeout_s=0.3, endpoint_url=slow_endpoint)
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout):
        p.complete(CompletionRequest(model=MODEL, prompt="hi"))
    assert time.perf_counter() - started < 1.2  # one attempt: botocore did not retry on its own


def test_unreachable_endpoint_is_retryable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = BedrockProvider("bedrock", timeout_s=1.0, endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError) as info:
        p.complete(CompletionRequest(model=MODEL, prompt="hi"))
    assert info.value.retryable is True and not isinstance(info.value, ProviderTimeout)
