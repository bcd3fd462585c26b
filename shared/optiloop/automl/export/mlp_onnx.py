"""An `optiloop.mlp/1` document written out as an ONNX graph, node by node.

Why not `torch.onnx.export`: tracing the network took 110–140 ms per trial warm and 850 ms the first
time (tests/benchmarks/automl_overhead.py), more than the whole of issue 10's platform-overhead
budget per trial (< 100 ms), for a graph whose every node is known in advance. Written from the
document that serves the model, the graph is the served model by construction, costs about a
millisecond, and is still checked against the trained network like every export
(optiloop.automl.search.runner).

The graph, one float32 input `x` (rows x n_features, the signature's encoding) and one output `y`:

    numeric   Gather -> IsNaN/Where (impute) -> Sub (center) -> Div (scale)
    one-hot   Gather the code column -> Equal against 0..n-1 -> Cast (NaN matches nothing: zeros)
    Concat in the document's feature order (optiloop.linear/1's expanded layout)
    per layer Gemm (weight out x in, transB) -> its activation
    link      Sigmoid (logistic) | Softmax (softmax, axis 1) | none (identity)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

OPSET = 17
IR_VERSION = 8  # opset 17's IR version: what every onnxruntime since 1.13 loads


def onnx_from_mlp(doc: dict[str, Any]) -> bytes:
    """The document's network as serialized ONNX (float32 weights, as torch trained them)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    count = [0]

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name=name))
        return name

    def node(op: str, inputs: list[str], **attrs: Any) -> str:
        count[0] += 1
        out = f"{op.lower()}_{count[0]}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    features = doc["features"]
    num = [j for j, f in enumerate(features) if f["kind"] == "numeric"]
    pieces: list[str] = []
    scaled = ""
    if num:
        values = node("Gather", ["x", const("num_idx", np.asarray(num, dtype=np.int64))], axis=1)
        f32 = [[float(features[j][k]) for j in num] for k in ("impute", "center", "scale")]
        impute, center, scale = (np.asarray(v, dtype=np.float32) for v in f32)
        filled = node("Where", [node("IsNaN", [values]), const("impute", impute), values])
        scaled = node("Div", [node("Sub", [filled, const("center", center)]), const("scale", scale)])
    position = {j: k for k, j in enumerate(num)}
    j = 0
    while j < len(features):  # consecutive numeric features are one slice of the scaled block
        if features[j]["kind"] == "numeric":
            end = j
            while end + 1 < len(features) and features[end + 1]["kind"] == "numeric":
                end += 1
            lo, hi = position[j], position[end] + 1
            if lo == 0 and hi == len(num):
                pieces.append(scaled)
            else:
                start, stop, axis = (const(f"s{j}_{n}", np.asarray([v], dtype=np.int64))
                                     for n, v in (("start", lo), ("stop", hi), ("axis", 1)))  # fmt: skip
                pieces.append(node("Slice", [scaled, start, stop, axis]))
            j = end + 1
            continue
        column = node("Gather", ["x", const(f"col{j}", np.asarray([j], dtype=np.int64))], axis=1)
        codes = const(f"codes{j}", np.arange(int(features[j]["n"]), dtype=np.float32).reshape(1, -1))
        pieces.append(node("Cast", [node("Equal", [column, codes])], to=TensorProto.FLOAT))
        j += 1
    h = pieces[0] if len(pieces) == 1 else node("Concat", pieces, axis=1)
    for k, layer in enumerate(doc["layers"]):
        w = const(f"w{k}", np.asarray(layer["weight"], dtype=np.float32))
        b = const(f"b{k}", np.asarray(layer["bias"], dtype=np.float32).reshape(-1))
        h = node("Gemm", [h, w, b], transB=1)
        h = _activation(node, const, h, layer.get("activation", "identity"), k)
    link = doc["link"]
    if link == "logistic":
        h = node("Sigmoid", [h])
    elif link == "softmax":
        h = node("Softmax", [h], axis=1)
    nodes.append(helper.make_node("Identity", [h], ["y"]))
    graph = helper.make_graph(
        nodes,
        "optiloop_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", len(features)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", int(doc["n_outputs"])])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="optiloop")
    model.ir_version = IR_VERSION
    return bytes(model.SerializeToString())


def _activation(node: Any, const: Any, h: str, name: str, k: int) -> str:
    if name == "relu":
        return str(node("Relu", [h]))
    if name == "tanh":
        return str(node("Tanh", [h]))
    if name == "sigmoid":
        return str(node("Sigmoid", [h]))
    if name == "gelu":  # torch.nn.GELU's erf form: 0.5 z (1 + erf(z / sqrt 2)); opset 17 has no Gelu
        half = const(f"half{k}", np.asarray(0.5, dtype=np.float32))
        one = const(f"one{k}", np.asarray(1.0, dtype=np.float32))
        root = const(f"root{k}", np.asarray(math.sqrt(2.0), dtype=np.float32))
        erf = node("Erf", [node("Div", [h, root])])
        return str(node("Mul", [node("Mul", [h, half]), node("Add", [erf, one])]))
    return h  # identity
