"""The PyTorch MLP candidate: trained on the worker, served by numpy (`optiloop.mlp/1`), with its
ONNX export in the same artifact.

Why two exports: `optiloop.mlp/1` is what serves it — numpy, so the network (and any ensemble it is
part of) runs in the predict Lambda, where onnxruntime cannot load (see
optiloop.models.runtimes.mlp). The ONNX graph (file `model.onnx`, named by the manifest's
`onnx_file`; written node by node from the numpy document by optiloop.automl.export.mlp_onnx, which
costs a millisecond where tracing with `torch.onnx.export` cost 110–850 ms a trial) travels with it
for whoever serves ONNX (a SageMaker endpoint, another platform); it is checked against torch like
the numpy document.

The network carries its own preprocessing, so both read the signature's encoding as is
(category codes, 0/1 booleans, NaN for missing) — the same rows every other runtime reads:

    numeric input  NaN -> training mean, then (x - mean) / std      (IsNaN, Where, Sub, Div)
    category code  -> one-hot over its n categories; NaN -> zeros   (Equal against 0..n-1)

The statistics are `LinearPrep.fit`'s (the linear runtime's own preprocessing), so the MLP and
logistic regression see identical inputs. Then `layers` x (Linear, ReLU, Dropout) and a head whose
link is part of the graph: sigmoid (binary: the positive class's probability), softmax (multiclass),
identity with the target's standardisation undone (regression).

Reproducible: the initial weights and the batch order come from the trial's seed, fits run on one
thread, and the export is checked against the trained network like every other trial's.
torch is imported only here, only by the worker (the `torch` extra); the search leaves the family
out where torch is not installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.models.runtimes.linear import LinearPrep


def suggest(trial: Any, ctx: Any) -> dict[str, Any]:
    return {
        "mlp.layers": trial.suggest_int("mlp.layers", 1, 3),
        "mlp.width": trial.suggest_int("mlp.width", 16, 256, log=True),
        "mlp.lr": trial.suggest_float("mlp.lr", 1e-4, 3e-2, log=True),
        "mlp.weight_decay": trial.suggest_float("mlp.weight_decay", 1e-6, 1e-1, log=True),
        "mlp.dropout": trial.suggest_float("mlp.dropout", 0.0, 0.4),
        "mlp.epochs": trial.suggest_int("mlp.epochs", 20, 200, step=20),
        "mlp.batch_size": trial.suggest_categorical("mlp.batch_size", [32, 64, 128, 256]),
    }


def default(ctx: Any) -> dict[str, Any]:
    return {
        "mlp.layers": 2,
        "mlp.width": 64,
        "mlp.lr": 1e-3,
        "mlp.weight_decay": 1e-4,
        "mlp.dropout": 0.0,
        "mlp.epochs": 100,
        "mlp.batch_size": 64,
    }


def _network(prep: LinearPrep, kw: dict[str, Any], n_out: int, task: str, y_center: float,
             y_scale: float) -> Any:  # fmt: skip
    import torch
    from torch import nn

    class Encode(nn.Module):
        """Signature encoding -> the expanded, standardised columns (LinearPrep's layout)."""

        def __init__(self) -> None:
            super().__init__()
            self.prep = prep
            num = [j for j, f in enumerate(prep.features) if f["kind"] == "numeric"]
            self.register_buffer("num_idx", torch.tensor(num, dtype=torch.long))
            self.register_buffer(
                "impute", torch.tensor([prep.features[j]["impute"] for j in num], dtype=torch.float32)
            )
            self.register_buffer(
                "center", torch.tensor([prep.features[j]["center"] for j in num], dtype=torch.float32)
            )
            self.register_buffer(
                "scale", torch.tensor([prep.features[j]["scale"] for j in num], dtype=torch.float32)
            )
            self.parts: list[tuple[str, int, int]] = []
            hot_k = 0
            for j, f in enumerate(prep.features):
                if f["kind"] == "numeric":
                    self.parts.append(("num", num.index(j), 0))
                else:
                    self.register_buffer(f"codes{hot_k}", torch.arange(int(f["n"]), dtype=torch.float32))
                    self.parts.append(("hot", j, hot_k))
                    hot_k += 1

        def forward(self, x: Any) -> Any:
            cols = []
            num_idx, impute, center, scale = self.num_idx, self.impute, self.center, self.scale
            assert isinstance(num_idx, torch.Tensor) and isinstance(impute, torch.Tensor)
            assert isinstance(center, torch.Tensor) and isinstance(scale, torch.Tensor)
            v = x.index_select(1, num_idx) if num_idx.numel() else None
            if v is not None:
                v = torch.where(torch.isnan(v), impute, v)
                v = (v - center) / scale
            for kind, a, b in self.parts:
                if kind == "num":
                    assert v is not None
                    cols.append(v[:, a : a + 1])
                else:
                    codes = getattr(self, f"codes{b}")
                    cols.append((x[:, a : a + 1] == codes).to(torch.float32))
            return torch.cat(cols, dim=1)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encode = Encode()
            self.y_center, self.y_scale = y_center, y_scale
            layers: list[nn.Module] = []
            width_in = prep.width
            for _ in range(int(kw["layers"])):
                layers += [nn.Linear(width_in, int(kw["width"])), nn.ReLU()]
                if float(kw["dropout"]) > 0:
                    layers.append(nn.Dropout(float(kw["dropout"])))
                width_in = int(kw["width"])
            layers.append(nn.Linear(width_in, n_out))
            self.body = nn.Sequential(*layers)

        def margin(self, x: Any) -> Any:
            return self.body(self.encode(x))

        def forward(self, x: Any) -> Any:
            z = self.margin(x)
            if task == "binary":
                return torch.sigmoid(z)
            if task == "multiclass":
                return torch.softmax(z, dim=1)
            return z * y_scale + y_center

    return Net()


class MlpModel:
    """fit / predict_outputs like the other families; `net_` is the trained torch module."""

    def __init__(self, params: dict[str, Any], kinds: list[tuple[str, int]], task: str, n_classes: int,
                 seed: int) -> None:  # fmt: skip
        self.kw = {k[len("mlp.") :]: v for k, v in params.items() if k.startswith("mlp.")}
        self.kinds = kinds
        self.task = task
        self.n_out = n_classes if task == "multiclass" else 1
        self.seed = seed
        self.net_: Any = None

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> MlpModel:
        import torch
        from torch import nn

        torch.set_num_threads(1)
        torch.manual_seed(self.seed)
        prep = LinearPrep.fit(x, self.kinds)
        y_center, y_scale = 0.0, 1.0
        if self.task == "regression":
            y_center = float(np.mean(y))
            y_scale = float(np.std(y)) or 1.0
        self.net_ = _network(prep, self.kw, self.n_out, self.task, y_center, y_scale)
        xt = torch.tensor(x, dtype=torch.float32)
        if self.task == "multiclass":
            yt = torch.tensor(y, dtype=torch.long)
            loss_fn: Any = nn.CrossEntropyLoss(reduction="none")
        elif self.task == "binary":
            yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
            loss_fn = nn.BCEWithLogitsLoss(reduction="none")
        else:
            yt = torch.tensor((y - y_center) / y_scale, dtype=torch.float32).reshape(-1, 1)
            loss_fn = nn.MSELoss(reduction="none")
        wt = torch.tensor(np.ones(y.size) if sample_weight is None else sample_weight, dtype=torch.float32)
        opt = torch.optim.AdamW(
            self.net_.parameters(), lr=float(self.kw["lr"]), weight_decay=float(self.kw["weight_decay"])
        )
        gen = torch.Generator().manual_seed(self.seed)
        batch = int(self.kw["batch_size"])
        with torch.no_grad():  # row by row and parameter-free: encoded once, not once a step
            encoded = self.net_.encode(xt)
        self.net_.train()
        for _ in range(int(self.kw["epochs"])):
            order = torch.randperm(y.size, generator=gen)
            for start in range(0, y.size, batch):
                idx = order[start : start + batch]
                loss = loss_fn(self.net_.body(encoded[idx]), yt[idx]).reshape(idx.numel(), -1).mean(dim=1)
                loss = (loss * wt[idx]).sum() / wt[idx].sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net_.eval()
        return self

    def predict_outputs(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.net_(torch.tensor(x, dtype=torch.float32))
        return np.asarray(out.numpy(), dtype=np.float64).reshape(x.shape[0], -1)


def export_numpy(model: MlpModel) -> dict[str, Any]:
    """The trained network as `optiloop.mlp/1` (numpy), the runtime it is served by: the same
    preprocessing statistics, the Linear layers in torch's (out x in) layout with ReLU between them,
    and for regression the target's standardisation folded into the last layer."""
    from optiloop.models.runtimes.mlp import mlp_document

    net = model.net_
    linears = [m for m in net.body if m.__class__.__name__ == "Linear"]
    layers: list[dict[str, Any]] = []
    for k, lin in enumerate(linears):
        w = lin.weight.detach().numpy().astype(np.float64)
        b = lin.bias.detach().numpy().astype(np.float64)
        last = k == len(linears) - 1
        if last and model.task == "regression":
            w, b = w * net.y_scale, b * net.y_scale + net.y_center
        layers.append({"weight": w, "bias": b, "activation": "identity" if last else "relu"})
    link = {"binary": "logistic", "multiclass": "softmax", "regression": "identity"}[model.task]
    return mlp_document(net.encode.prep.features, layers, n_outputs=model.n_out, link=link)
