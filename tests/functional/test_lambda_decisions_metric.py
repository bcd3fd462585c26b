"""A drift firing reaches CloudWatch: the decisions handler logs one embedded-metric-format line
`DriftFired` per invocation that fired, with the dimensions the tenant's DecisionDrift alarm reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events.harness import load_handlers
from optiloop.decisions import adapt


def test_the_handler_logs_drift_fired_only_when_a_detector_fired(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = load_handlers(["decisions"])["decisions"]
    adapt.take_fired()  # start from zero whatever ran before

    def fires_twice(event: Any, context: Any) -> dict[str, Any]:
        adapt.note_fired()
        adapt.note_fired()
        return {"statusCode": 200}

    monkeypatch.setenv("OPTILOOP_TENANT", "acme")
    monkeypatch.setattr(fn, "asgi", fires_twice)
    assert fn.handler({}, None) == {"statusCode": 200}
    [line] = capsys.readouterr().out.strip().splitlines()
    doc = json.loads(line)
    [spec] = doc["_aws"]["CloudWatchMetrics"]
    assert spec["Namespace"] == "OptiLoop" and spec["Dimensions"] == [["service", "tenant"]]
    assert spec["Metrics"] == [{"Name": "DriftFired", "Unit": "Count"}]
    assert (doc["service"], doc["tenant"], doc["DriftFired"]) == ("decisions", "acme", 2)
    assert adapt.take_fired() == 0

    monkeypatch.setattr(fn, "asgi", lambda event, context: {"statusCode": 200})
    fn.handler({}, None)
    assert capsys.readouterr().out == ""  # quiet when nothing fired
