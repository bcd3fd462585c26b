"""What a generate trace says about names (issue 14): `POST /v1/generate` runs the PII scan with names
off unless `guardrails.names` asks for them, so such a trace must say names were not checked — a
reader must never take "no [NAME]" for "no names" — while the kinds that are checked (here an e-mail
and a phone) are redacted in the trace; with `names` on, the name is redacted too."""

from __future__ import annotations

from typing import Any

from optiloop.prompts.guardrails.pii import WARN_NAMES_OFF
from test_http_generate import gen
from test_http_guardrails_structural import version


def test_trace_says_names_were_not_checked_and_redacts_what_was(api: Any) -> None:
    vid = version(api, "Q: {{ q }}\nA:", {"q": "str"})
    q = "Forward this to Ishanvi Ramachandran, ishanvi@example.org, or reach her at 935847886."
    r = gen(api, prompt_version_id=vid, variables={"q": q})
    assert r.status_code == 200, r.text
    assert r.json()["guardrails"]["input"] == "redact"
    trace = api.client.get(f"/v1/traces/{r.json()['trace_id']}", headers=api.admin).json()
    verdict = trace["guardrails"]["input"]
    assert WARN_NAMES_OFF in verdict["warnings"] and verdict["names_checked"] is False
    assert {f["kind"] for f in verdict["findings"]} == {"email", "phone"}
    assert "[EMAIL]" in trace["variables"]["q"] and "[PHONE]" in trace["variables"]["q"]
    assert "935847886" not in trace["prompt"]


def test_names_on_redacts_the_name_and_says_names_were_checked(api: Any) -> None:
    vid = version(api, "Q: {{ q }}\nA:", {"q": "str"})
    q = "Forward this to Ishanvi Ramachandran, ishanvi@example.org."
    r = gen(api, prompt_version_id=vid, variables={"q": q}, guardrails={"names": True})
    assert r.status_code == 200, r.text
    trace = api.client.get(f"/v1/traces/{r.json()['trace_id']}", headers=api.admin).json()
    verdict = trace["guardrails"]["input"]
    assert verdict["names_checked"] is True and WARN_NAMES_OFF not in verdict["warnings"]
    assert {f["kind"] for f in verdict["findings"]} == {"email", "name"}
    assert "Ramachandran" not in trace["prompt"] and "[NAME]" in trace["variables"]["q"]


def test_names_must_be_a_boolean(api: Any) -> None:
    vid = version(api, "Q: {{ q }}\nA:", {"q": "str"})
    r = gen(api, prompt_version_id=vid, variables={"q": "hi"}, guardrails={"names": "sometimes"})
    assert r.status_code == 422 and "names" in r.text
