"""What every torch entry point does the same way: pick the device, cap threads, seed, export.

Imported only by torch jobs (the XGBoost image has no torch). The platform serves what these jobs
train without torch: the networks are exported to ONNX (onnxruntime, `runtime: onnx`) or as plain
weight matrices (numpy), so torch stays on the training side.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
from typing import Any

import numpy as np

# cuBLAS needs this set before CUDA initialises for deterministic matmuls (torch's reproducibility notes)
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch

ONNX_OPSET = 17


def pick_device(requested: str = "auto") -> str:
    """`cuda` when a GPU is visible (a SageMaker GPU instance), else `cpu`; `requested` may force
    `cpu` (or ask for `cuda`, which falls back to cpu with a log line when there is none)."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        print("device: cuda was asked for but no GPU is visible; training on cpu", flush=True)
    return "cpu"


def setup(seed: int, threads: int) -> None:
    """Seed every generator and cap torch's threads (the local trainer's per-job cap arrives as
    SM_NUM_CPUS): a job must not take the cores the API serves from."""
    torch.set_num_threads(max(1, threads))
    with contextlib.suppress(RuntimeError):  # allowed once, before any parallel work
        torch.set_num_interop_threads(1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def export_onnx(module: Any, n_inputs: int) -> bytes:
    """The module (on CPU, in eval mode) as an ONNX graph: one float32 input `x` (rows x n_inputs),
    one output `y` (rows x outputs), any number of rows. TorchScript exporter (`dynamo=False`):
    no onnxscript dependency, and the graphs here are plain MLPs."""
    module = module.to("cpu").eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            module,
            (torch.zeros(1, n_inputs, dtype=torch.float32),),
            buf,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "rows"}, "y": {0: "rows"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    return buf.getvalue()
