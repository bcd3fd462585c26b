"""Regressions found by running the issues' measured flows against a real server from outside.

Each test is one bad input that an outside evaluator sent over HTTP and that got a wrong answer: it
must be a 4xx in the API's error shape naming the field, and nothing may be written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


@pytest.mark.parametrize("name", ["bad\x00name", "ab\u202ecd", "zero\u200bwidth"])
def test_a_multipart_dataset_name_with_control_or_format_characters_is_refused(api: Api, name: str) -> None:
    pid = api.project()
    before = api.audit_count()
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        data={"project_id": pid, "name": name},
        files={"file": ("t.csv", b"a,b\n1,2\n3,4\n", "text/csv")},
    )
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["name"]
    assert api.audit_count() == before  # no dataset.ingested: nothing stored
