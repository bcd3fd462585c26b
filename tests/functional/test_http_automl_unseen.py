"""Regressions from the REST flow run as an outside evaluator on tables nobody tuned for
(tests/benchmarks/automl_rest_unseen.py; docs/benchmarks.md, "AutoML on unseen tables over REST").
Each test is the smallest table that reproduces what that run hit."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def test_an_infinity_in_an_uploaded_column_is_missing_and_reported(api: Api) -> None:
    """A CSV's `inf` made its whole column categorical, and a Parquet infinity was kept as a value that
    serving then refused: one rule now (`optiloop.models.spellings`), and the report says so."""
    pid = api.project()
    csv = "ratio,y\n" + "".join(f"{'inf' if i == 3 else i * 0.5},{i % 2}\n" for i in range(12))
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        data={"project_id": pid, "name": "ratios"},
        files={"file": ("t.csv", csv.encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert {c["name"]: c["type"] for c in body["schema"]}["ratio"] == "numeric"
    ratio = next(c for c in body["report"]["columns"] if c["name"] == "ratio")
    assert ratio["missing"] == 1 and ratio["max"] == 5.5
    assert {"column": "ratio", "kind": "non_finite", "reason": "1 infinite values read as missing"} in body[
        "report"
    ]["warnings"]
