"""ONNX models, evaluated by onnxruntime (imported on first use, so trees deployments never load it).

The graph takes one float32 input of shape (rows, n_inputs) in the signature's encoding (NaN for a
missing value) and answers, after the link, what `runtimes.Predictor` promises: (rows, n_outputs).
Which session output that is: `onnx_output` in the manifest when named, else the first float
tensor output. Converters differ in what they emit, so the shape is normalised here:

* binary: a (rows, 2) probability output becomes its positive column; (rows,) or (rows, 1) is
  taken as the positive class's probability already
* multiclass: (rows, n_classes) probabilities
* regression: (rows,) or (rows, 1) values

Non-tensor outputs (skl2onnx's ZipMap list of dicts) are refused with a reason: export with
`zipmap=False`. One thread per session: the serving process caps BLAS at one thread for the same
reason (many requests at once, each short).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.artifact import Artifact


def _bad(reason: str, field: str = "artifact.model_file") -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


class OnnxPredictor:
    def __init__(self, session: Any, input_name: str, output_name: str, n_features: int | None, task: str,
                 n_outputs: int) -> None:  # fmt: skip
        self._session = session
        self._input = input_name
        self._output = output_name
        self.n_features = n_features
        self.n_outputs = n_outputs
        self._task = task

    def predict(self, x: np.ndarray) -> np.ndarray:
        raw = self._session.run([self._output], {self._input: np.asarray(x, dtype=np.float32)})[0]
        out = np.asarray(raw, dtype=np.float64)
        rows = x.shape[0]
        if out.ndim == 1:
            out = out.reshape(rows, 1)
        out = out.reshape(rows, -1)
        if self._task == "binary" and out.shape[1] == 2:
            out = out[:, 1:2]
        if out.shape[1] != self.n_outputs:
            raise ValueError(
                f"the ONNX model answered {out.shape[1]} values a row, expected {self.n_outputs}"
            )
        return out


def load_onnx(artifact: Artifact) -> OnnxPredictor:
    try:
        import onnxruntime as ort
    except ImportError as e:  # pragma: no cover - onnxruntime is in the inference extra
        raise _bad("needs onnxruntime, which is not installed (pip install optiloop[inference])") from e
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(
            artifact.model_bytes, sess_options=opts, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf/... types
        raise _bad(f"is not a loadable ONNX model ({e.__class__.__name__}: {str(e)[:200]})") from e
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise _bad(f"the ONNX graph must take one input (rows x features), it takes {len(inputs)}")
    shape = inputs[0].shape
    n_features = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
    wanted = artifact.manifest.get("onnx_output")
    outputs = session.get_outputs()
    if wanted is not None:
        chosen = next((o for o in outputs if o.name == wanted), None)
        if chosen is None:
            raise _bad(f"the graph has no output {wanted!r}", "artifact.onnx_output")
    else:
        chosen = next((o for o in outputs if o.type in ("tensor(float)", "tensor(double)")), None)
        if chosen is None:
            raise _bad("the graph has no float tensor output (a ZipMap of dicts? export with zipmap=False)")
    sig = artifact.signature
    predictor = OnnxPredictor(session, inputs[0].name, chosen.name, n_features, sig.task, sig.n_outputs)
    if n_features is not None:  # one probe row: a wrong output shape is refused now, not per request
        try:
            predictor.predict(np.zeros((1, n_features)))
        except Exception as e:
            raise _bad(f"a probe row failed: {str(e)[:200]}", "artifact.signature") from e
    return predictor
