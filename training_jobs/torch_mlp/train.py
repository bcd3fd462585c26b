"""A tabular MLP in PyTorch, exported so the platform serves it without torch: numpy or ONNX.

Channel `train`: the rows tabular_xgb reads (golden-set examples or a CSV / JSON Lines table whose
label column is the `target` hyperparameter), the same inferred signature and encoding, the same
seeded validation split and the same held-out metrics. What the serving path needs is inside the
graph: the encoded row (float32, NaN for a missing value) is standardised with the training means
(missing -> the mean), each category input becomes its one-hot (an unseen or missing category is
all zeros), then the MLP and its link (sigmoid, softmax, or the label's scale for regression). So
`runtime: onnx` answers what `runtimes.Predictor` promises, and onnxruntime alone serves it.

The same network is also written as `optiloop.mlp/1` (the same preprocessing as arrays, the dense
layers and the link, evaluated by numpy: optiloop.models.runtimes.mlp), which is what the artifact
serves by default (`runtime` hyperparameter: mlp): numpy runs everywhere the platform does, the
predict Lambda included, where onnxruntime cannot load. `runtime=onnx` serves the graph instead. Both
files are in every artifact and both are checked against torch before anything is written.

Device: `cuda` when torch sees a GPU (a SageMaker GPU instance), CPU otherwise, logged as
`device: <name>` and kept in the manifest's params. Threads are capped at SM_NUM_CPUS, every
generator is seeded, and the export is checked: the ONNX graph's answers on the validation rows
against torch's (`metric: onnx_max_abs_diff=...`, when onnxruntime is installed), and a few rows
with torch's outputs go to SM_OUTPUT_DATA_DIR/export_check.json for anyone to check again.

Hyperparameters (all strings): target ("target"), task (auto | binary | multiclass | regression),
hidden ("64,64": widths of the hidden layers), epochs (100), batch_size (64), learning_rate
(0.003), weight_decay (0.0001), validation_fraction (0.2), seed (0), device (auto | cpu | cuda),
id_fields (comma-separated fields echoed back by predictions, not features), runtime (mlp | onnx: which
file the artifact serves).

Writes to SM_MODEL_DIR: model.mlp.json, model.onnx, optiloop-model.json, baseline.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # _lib/ sits beside train.py in the bundle, above it here

import numpy as np  # noqa: E402
from _lib import sm as _sm  # noqa: E402

_sm.require("torch", _sm.TORCH_INSTALL)
import torch  # noqa: E402
from _lib import encoding, evaluate, sm  # noqa: E402
from _lib.model_files import write_artifact  # noqa: E402
from _lib.tabular import load_table  # noqa: E402
from _lib.torch_util import export_onnx, pick_device, setup  # noqa: E402
from torch import nn  # noqa: E402

CHECK_ROWS = 20
MODEL_FILES = {"mlp": "model.mlp.json", "onnx": "model.onnx"}  # runtime -> the file it serves


class TabularMLP(nn.Module):
    """Encoded row -> outputs after the link; the preprocessing is part of the graph."""

    def __init__(self, inputs: list[dict], x: np.ndarray, hidden: list[int], task: str, n_out: int,
                 y_scale: tuple[float, float] = (0.0, 1.0)) -> None:  # fmt: skip
        super().__init__()
        num = [c for c, i in enumerate(inputs) if i["type"] != "category"]
        cats = [(c, len(i["categories"])) for c, i in enumerate(inputs) if i["type"] == "category"]
        cols = x[:, num] if num else np.zeros((len(x), 0))
        mean = np.nan_to_num(np.nanmean(cols, axis=0), nan=0.0) if len(cols) else np.zeros(len(num))
        std = np.nan_to_num(np.nanstd(cols, axis=0), nan=1.0) if len(cols) else np.ones(len(num))
        std = np.where(std > 1e-12, std, 1.0)
        self.has_num = bool(num)  # a Python constant: the traced graph has no branch on it
        self.register_buffer("num_idx", torch.tensor(num, dtype=torch.long))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.cats = cats
        for k, (_, n) in enumerate(cats):
            self.register_buffer(f"codes{k}", torch.arange(n, dtype=torch.float32))
        width = len(num) + sum(n for _, n in cats)
        layers: list[nn.Module] = []
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_out))
        self.net = nn.Sequential(*layers)
        self.task = task
        self.register_buffer("y_scale", torch.tensor(y_scale, dtype=torch.float32))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.has_num:
            z = (torch.index_select(x, 1, self.num_idx) - self.mean) / self.std
            parts.append(torch.where(torch.isnan(z), torch.zeros_like(z), z))
        for k, (c, _) in enumerate(self.cats):
            codes = getattr(self, f"codes{k}")
            parts.append((x[:, c : c + 1] == codes).to(x.dtype))  # NaN equals nothing: all zeros
        return torch.cat(parts, dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.logits(x)
        if self.task == "binary":
            return torch.sigmoid(z)
        if self.task == "multiclass":
            return torch.softmax(z, dim=1)
        return z * self.y_scale[1] + self.y_scale[0]


def mlp_document(model: TabularMLP, inputs: list[dict]) -> dict:
    """The network as `optiloop.mlp/1`: the graph's preprocessing as the linear runtime's feature list
    (numeric: NaN -> mean, then standardised; category: one-hot of the code, anything else all zeros —
    what `features()` computes), the Linear/ReLU stack with its first layer's columns reordered from
    the graph's layout (numerics first, then each category's block) to the document's (input order),
    and the link (a regression's label scale folded into the last layer)."""
    num = [int(c) for c in model.num_idx.tolist()]
    mean, std = model.mean.tolist(), model.std.tolist()
    offset, block = len(num), {}
    for c, n in model.cats:
        block[c] = (offset, n)
        offset += n
    features: list[dict] = []
    columns: list[int] = []  # the graph's column behind each of the document's expanded columns
    for j, _ in enumerate(inputs):
        if j in block:
            start, n = block[j]
            features.append({"kind": "onehot", "n": n})
            columns.extend(range(start, start + n))
        else:
            k = num.index(j)
            features.append({"kind": "numeric", "impute": mean[k], "center": mean[k], "scale": std[k]})
            columns.append(k)
    linears = [m for m in model.net if isinstance(m, nn.Linear)]
    layers = []
    for i, lin in enumerate(linears):
        w = lin.weight.detach().double().cpu().numpy()
        b = lin.bias.detach().double().cpu().numpy()
        if i == 0:
            w = w[:, columns]
        last = i == len(linears) - 1
        if last and model.task == "regression":
            lo, scale = (float(v) for v in model.y_scale.tolist())
            w, b = w * scale, b * scale + lo
        activation = "identity" if last else "relu"
        layers.append({"weight": w.tolist(), "bias": b.tolist(), "activation": activation})
    link = {"binary": "logistic", "multiclass": "softmax"}.get(model.task, "identity")
    return {"format": "optiloop.mlp/1", "n_features": len(inputs), "n_outputs": len(layers[-1]["bias"]),
            "link": link, "features": features, "layers": layers}  # fmt: skip


def mlp_diff(doc: dict, x: np.ndarray, expected: np.ndarray) -> float:
    """Max |numpy document - torch| on the rows, by the platform's own runtime when it is importable
    (always beside the repository), else by the same arithmetic here."""
    try:
        from optiloop.models.runtimes.mlp import MLPPredictor

        got = MLPPredictor(doc).predict(x)
    except ImportError:  # a SageMaker image without the optiloop package
        got = _numpy_forward(doc, x)
    return float(np.max(np.abs(got - expected))) if len(x) else 0.0


def _numpy_forward(doc: dict, x: np.ndarray) -> np.ndarray:
    cols = []
    for j, f in enumerate(doc["features"]):
        v = x[:, j]
        if f["kind"] == "numeric":
            cols.append(((np.where(np.isnan(v), f["impute"], v) - f["center"]) / f["scale"])[:, None])
        else:
            cols.append((v[:, None] == np.arange(f["n"])[None, :]).astype(np.float64))
    h = np.concatenate(cols, axis=1)
    for layer in doc["layers"]:
        h = h @ np.asarray(layer["weight"]).T + np.asarray(layer["bias"])
        if layer["activation"] == "relu":
            h = np.maximum(h, 0.0)
    if doc["link"] == "logistic":
        return 1.0 / (1.0 + np.exp(-h))
    if doc["link"] == "softmax":
        e = np.exp(h - h.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return h


def fit(model: TabularMLP, x: np.ndarray, y: np.ndarray, task: str, hp: dict[str, str], device: str) -> None:
    epochs, batch = int(hp.get("epochs", "100")), int(hp.get("batch_size", "64"))
    opt = torch.optim.Adam(
        model.parameters(),
        lr=float(hp.get("learning_rate", "0.003")),
        weight_decay=float(hp.get("weight_decay", "0.0001")),
    )
    xt = torch.tensor(x, dtype=torch.float32, device=device)
    if task == "binary":
        yt = torch.tensor(y, dtype=torch.float32, device=device).reshape(-1, 1)
        loss_fn: nn.Module = nn.BCEWithLogitsLoss()
    elif task == "multiclass":
        yt = torch.tensor(y, dtype=torch.long, device=device)
        loss_fn = nn.CrossEntropyLoss()
    else:
        lo, scale = model.y_scale.tolist()
        yt = torch.tensor((y - lo) / scale, dtype=torch.float32, device=device).reshape(-1, 1)
        loss_fn = nn.MSELoss()
    gen = torch.Generator(device="cpu").manual_seed(int(hp.get("seed", "0")))
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(batch):
            idx = idx.to(device)
            opt.zero_grad()
            loss_fn(model.logits(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()


def predict(model: TabularMLP, x: np.ndarray, device: str) -> np.ndarray:
    with torch.no_grad():
        out = model(torch.tensor(x, dtype=torch.float32, device=device))
    return out.double().cpu().numpy()


def onnx_diff(onnx_bytes: bytes, x: np.ndarray, expected: np.ndarray) -> float | None:
    """Max |ONNX - torch| on the rows, or None without onnxruntime (the SageMaker images lack it)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"])
    got = sess.run(["y"], {"x": x.astype(np.float32)})[0]
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - expected))) if len(x) else 0.0


def main() -> None:
    hp = sm.hyperparameters()
    runtime = hp.get("runtime", "mlp")
    if runtime not in MODEL_FILES:  # refused before the data is read or a network trained
        sm.fail(f"runtime must be mlp or onnx, got {runtime!r}")
    seed = int(hp.get("seed", "0"))
    threads = sm.num_cpus()
    setup(seed, threads)
    device = pick_device(hp.get("device", "auto"))
    print(f"device: {device}; threads: {threads}; torch {torch.__version__}", flush=True)

    t = load_table("torch_mlp", hp)
    rows, inputs, task, classes = t.rows, t.inputs, t.task, t.classes
    x, y, train, val = t.x, t.y, t.train, t.val

    try:
        hidden = [int(h) for h in hp.get("hidden", "64,64").split(",") if h.strip()]
    except ValueError:
        sm.fail(f"hidden must be comma-separated layer widths, got {hp.get('hidden')!r}")
    n_out = len(classes) if task == "multiclass" else 1
    y_scale = (float(y[train].mean()), float(y[train].std() or 1.0)) if task == "regression" else (0.0, 1.0)
    model = TabularMLP(inputs, x[train], hidden, task, n_out, y_scale).to(device)
    t0 = time.perf_counter()
    fit(model, x[train], y[train], task, hp, device)
    print(f"timing: fit_seconds={time.perf_counter() - t0:.4f}")  # not a metric: benchmarks read it

    metrics: dict[str, float] = {}
    held = val if len(val) else train
    if task == "regression":
        metrics.update(evaluate.regression(y[held], predict(model, x[held], device)))
        metrics["train.rmse"] = evaluate.regression(y[train], predict(model, x[train], device))["rmse"]
    else:
        metrics.update(evaluate.classification(task, y[held], predict(model, x[held], device)))
        metrics["train.logloss"] = evaluate.classification(task, y[train], predict(model, x[train], device))[
            "logloss"
        ]

    onnx_bytes = export_onnx(model, len(inputs))  # moves the model to the CPU
    torch_out = predict(model, x[held], "cpu")
    scale = max(1.0, float(np.abs(torch_out).max())) if len(torch_out) else 1.0
    diff = onnx_diff(onnx_bytes, x[held], torch_out)
    if diff is not None:
        metrics["onnx_max_abs_diff"] = diff
        if diff > 1e-4 * scale:
            sm.fail(f"the ONNX export disagrees with torch by {diff:.3g} on the validation rows")
    mlp = mlp_document(model, inputs)
    metrics["mlp_max_abs_diff"] = mlp_diff(mlp, x[held], torch_out)
    if metrics["mlp_max_abs_diff"] > 1e-4 * scale:
        off = metrics["mlp_max_abs_diff"]
        sm.fail(f"the numpy export disagrees with torch by {off:.3g} on the validation rows")
    for name, value in metrics.items():
        sm.metric(name, value)
    out_data = Path(os.environ.get("SM_OUTPUT_DATA_DIR", sm.output_dir() / "data"))
    out_data.mkdir(parents=True, exist_ok=True)
    check = {"x": np.where(np.isnan(x[held][:CHECK_ROWS]), None, x[held][:CHECK_ROWS]).tolist(),
             "torch": torch_out[:CHECK_ROWS].tolist()}  # fmt: skip
    (out_data / "export_check.json").write_text(json.dumps(check))

    signature = t.signature()
    exports = {"onnx": onnx_bytes, "mlp": json.dumps(mlp, separators=(",", ":"), allow_nan=False).encode()}
    sm.model_dir().mkdir(parents=True, exist_ok=True)
    for other in exports.keys() - {runtime}:  # rides along: either runtime can be chosen later
        (sm.model_dir() / MODEL_FILES[other]).write_bytes(exports[other])
    write_artifact(
        sm.model_dir(),
        MODEL_FILES[runtime],
        exports[runtime],
        signature,
        framework="pytorch",
        runtime=runtime,
        params={**hp, "device": device, "n_rows": len(rows), "n_train": len(train), "n_validation": len(val)},
        metrics=metrics,
        data_fingerprint=sm.data_fingerprint(sm.channels()),
        baseline=encoding.baseline(inputs, x, predict(model, x, "cpu"), task, classes),
        extra={"onnx_output": "y"},
    )
    print(f"wrote model.mlp.json, model.onnx (serving: {runtime}), optiloop-model.json, baseline.json")


if __name__ == "__main__":
    main()
