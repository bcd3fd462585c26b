"""The permission table, enumerated: a change to the policy must change this test on purpose."""

from __future__ import annotations

import itertools

import pytest

from optiloop.auth import Action, Principal, authorize, can
from optiloop.auth.roles import PERMISSIONS, ROLE_RANK, outranks
from optiloop.errors import Forbidden

READS = {
    Action.PROJECT_READ,
    Action.CONSTRAINT_READ,
    Action.TEST_READ,
    Action.COVERAGE_READ,
    Action.AUDIT_READ,
    Action.PROMPT_READ,
    Action.TRACE_READ,
    Action.MODEL_READ,
}
CONTRIB = READS | {
    Action.TEST_SUGGEST,
    Action.RUN_INGEST,
    Action.PROJECT_CREATE,
    Action.PROMPT_WRITE,
    Action.APPROVAL_SUBMIT,
    Action.DEPLOY,  # protected environments still need an approved version
    Action.EVAL_RUN,
    Action.GENERATE,
    Action.MODEL_WRITE,
}
ADMIN = set(Action)
EXPECTED = {"viewer": READS, "contributor": CONTRIB, "admin": ADMIN, "owner": ADMIN}


@pytest.mark.parametrize(("role", "action"), list(itertools.product(EXPECTED, Action)))
def test_global_key_table(role: str, action: Action) -> None:
    p = Principal("u", role, None, "k")
    assert can(p, action, "prj_a") is (action in EXPECTED[role])


@pytest.mark.parametrize(("role", "action"), list(itertools.product(EXPECTED, Action)))
def test_scoped_key_never_acts_elsewhere_nor_globally(role: str, action: Action) -> None:
    p = Principal("u", role, "prj_a", "k")
    assert can(p, action, "prj_b") is False
    expected = action in EXPECTED[role] and action not in (Action.PROJECT_CREATE, Action.PROJECT_DELETE)
    assert can(p, action, "prj_a") is expected


def test_table_is_what_the_module_exports() -> None:
    assert {r: set(a) for r, a in PERMISSIONS.items()} == EXPECTED
    assert sorted(ROLE_RANK, key=ROLE_RANK.get) == ["viewer", "contributor", "admin", "owner"]
    assert outranks("admin", "owner") and not outranks("owner", "admin") and not outranks("admin", "admin")


def test_forbidden_names_the_reason() -> None:
    with pytest.raises(Forbidden) as e:
        authorize(Principal("u", "viewer", None, "k"), Action.RUN_INGEST, "prj_a")
    assert e.value.details[0]["field"] == "role"
    with pytest.raises(Forbidden) as e:
        authorize(Principal("u", "owner", "prj_a", "k"), Action.RUN_INGEST, "prj_b")
    assert e.value.details[0]["field"] == "project_id"
