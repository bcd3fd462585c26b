"""`optiloop prompts-demo` runs the whole prompt loop; here on the deterministic provider (fast, no model)."""

from __future__ import annotations

import pytest

from optiloop.cli import main, prompts_demo


def test_prompts_demo_runs_the_loop(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(prompts_demo, "llama_cpp_available", lambda: False)
    assert main.main(["prompts-demo", "--countries", "Peru,Chile"]) == 0
    out = capsys.readouterr().out
    assert "deterministic provider" in out and "It is no language model" in out  # said plainly
    assert out.count("deployed to prod") == 2 and out.count("refused (four-eyes") == 2
    assert "vs v1 on prod" in out and "Peru" in out and "injection blocked" in out
