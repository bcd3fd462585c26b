"""Torch jobs pick `cuda` when a GPU is visible and the CPU otherwise, and say which."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

JOBS = Path(__file__).resolve().parents[3] / "training_jobs"
if str(JOBS) not in sys.path:
    sys.path.insert(0, str(JOBS))

from _lib import torch_util  # noqa: E402


def test_cuda_when_visible_cpu_otherwise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_util.pick_device() == "cuda"
    assert torch_util.pick_device("cpu") == "cpu"  # forced by the hyperparameter
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torch_util.pick_device() == "cpu"
    assert torch_util.pick_device("cuda") == "cpu"
    assert "no GPU is visible" in capsys.readouterr().out
    with pytest.raises(ValueError, match="device"):
        torch_util.pick_device("tpu")


def test_setup_caps_threads_and_seeds() -> None:
    torch_util.setup(seed=7, threads=1)
    assert torch.get_num_threads() == 1
    a = torch.rand(3)
    torch_util.setup(seed=7, threads=1)
    assert torch.equal(a, torch.rand(3))


def test_a_seeded_mlp_trains_and_exports_identically() -> None:
    sys.path.insert(0, str(JOBS / "torch_mlp"))
    import train as torch_mlp  # training_jobs/torch_mlp/train.py

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    x[::7, 1] = np.nan  # missing values are imputed inside the graph
    x[:, 2] = rng.integers(0, 3, 60)
    y = ((x[:, 0] + (x[:, 2] == 1)) > 0.5).astype(float)
    inputs = [{"name": "a", "type": "number"}, {"name": "b", "type": "number"},
              {"name": "c", "type": "category", "categories": ["p", "q", "r"]}]  # fmt: skip

    def once() -> tuple[bytes, np.ndarray]:
        torch_util.setup(seed=3, threads=1)
        model = torch_mlp.TabularMLP(inputs, x, [8], "binary", 1)
        torch_mlp.fit(model, x, y, "binary", {"epochs": "5", "seed": "3"}, "cpu")
        return torch_util.export_onnx(model, 3), torch_mlp.predict(model, x, "cpu")

    (a, pa), (b, pb) = once(), once()
    assert a == b and np.array_equal(pa, pb)
    assert torch_mlp.onnx_diff(a, x, pa) < 1e-6
