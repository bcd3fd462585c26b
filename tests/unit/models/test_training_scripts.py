"""The training scripts' copies of platform rules agree with the platform (they cannot import it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from optiloop.models.monitoring.baseline import build_baseline
from optiloop.models.signature import parse_signature

JOBS = Path(__file__).resolve().parents[3] / "training_jobs"
if str(JOBS) not in sys.path:
    sys.path.insert(0, str(JOBS))

from _lib import encoding, evaluate  # noqa: E402
from _lib.data import read_rows  # noqa: E402

ROWS = [
    {"amount": 12.5, "country": "pt", "vip": True, "n": 3},
    {"amount": 3, "country": "no", "vip": False, "n": 1},
    {"amount": None, "country": "pe", "vip": True, "n": 2},
    {"amount": 80.0, "country": "pt", "n": 0, "notes": {"a": 1}},
    {"amount": 41.0, "country": 7, "vip": False, "n": 9},
]


def test_inferred_signature_is_valid_and_encodes_as_signature_encode_does() -> None:
    inputs, dropped = encoding.infer_inputs(ROWS)
    assert dropped == ["notes"]
    assert [(i["name"], i["type"], i["required"]) for i in inputs] == [
        ("amount", "number", False),
        ("country", "category", True),
        ("vip", "boolean", False),
        ("n", "integer", True),
    ]
    assert inputs[1]["categories"] == ["7", "no", "pe", "pt"]  # sorted strings: code = index
    sig = parse_signature({"task": "regression", "inputs": inputs})
    ours = encoding.encode(inputs, ROWS)
    theirs = sig.encode([{k: v for k, v in r.items() if k != "notes"} for r in ROWS])
    np.testing.assert_array_equal(ours, theirs)  # NaN where missing, on both sides
    unseen = [{"amount": 1.0, "country": "xx", "n": 1}]
    np.testing.assert_array_equal(encoding.encode(inputs, unseen), sig.encode(unseen))


def test_baseline_matches_the_monitoring_convention() -> None:
    rng = np.random.default_rng(0)
    rows = [
        {"a": float(rng.normal()), "c": str(rng.choice(["x", "y"])), "b": bool(rng.random() < 0.3)}
        for _ in range(300)
    ]
    inputs, _ = encoding.infer_inputs(rows)
    x = encoding.encode(inputs, rows)
    scores = rng.random((300, 1))
    ours = encoding.baseline(inputs, x, scores, "binary", [0, 1])
    sig = parse_signature({"task": "binary", "inputs": inputs, "classes": [0, 1]})
    theirs = build_baseline(sig, x, scores)
    assert ours["inputs"] == {k: v for k, v in theirs.items() if k != "prediction"}
    assert ours["prediction"] == theirs["prediction"]


@pytest.mark.parametrize(
    ("labels", "task", "classes"),
    [
        ([True, False, True], "binary", [False, True]),
        (["stay", "churn", "stay"], "binary", ["churn", "stay"]),
        (["a", "b", "c"], "multiclass", ["a", "b", "c"]),
        ([0, 1, 1], "binary", [0, 1]),
        ([0.5, 2, 7], "regression", []),
    ],
)
def test_task_and_classes_from_labels(labels: list, task: str, classes: list) -> None:
    assert encoding.infer_task(labels) == (task, classes)


def test_rows_from_golden_sets_csv_and_jsonl_tables(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "e1", "input": {"x": 1}, "expected": "yes"}) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"x": 2, "y": 1, "key": "k"}) + "\n")
    (tmp_path / "c.csv").write_text("x,y,key,flag\n3.5,0,k2,true\n,1,k3,\n4,,k4,false\n")
    rows, labels = read_rows(tmp_path, "y", ("key",))
    assert labels == ["yes", 1, 0, 1]
    assert rows == [{"x": 1}, {"x": 2}, {"x": 3.5, "flag": True}, {"x": None, "flag": None}]


def test_auc_counts_ties_as_half() -> None:
    y = np.array([0, 0, 1, 1])
    assert evaluate.auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert evaluate.auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert np.isnan(evaluate.auc(np.array([1, 1]), np.array([0.2, 0.3])))
    train, val = evaluate.split(20, 0.25, seed=3)
    assert len(val) == 5 and sorted([*train, *val]) == list(range(20))
    assert np.array_equal(evaluate.split(20, 0.25, seed=3)[1], val)  # seeded


def test_a_missing_framework_fails_the_job_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from _lib import sm

    monkeypatch.setenv("SM_OUTPUT_DIR", str(tmp_path))
    sm.require("json", "never shown")  # present: nothing happens
    with pytest.raises(SystemExit):
        sm.require("no_such_framework_xyz", sm.TORCH_INSTALL)
    reason = (tmp_path / "failure").read_text()
    assert "needs no_such_framework_xyz" in reason and "optiloop[torch]" in reason
