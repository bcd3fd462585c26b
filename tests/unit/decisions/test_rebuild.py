"""Rewards arrive late and out of order, from several writers at once; the checkpoint the incremental
updates reach equals the state rebuilt from the logged rewards, and no update is lost."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.decisions import experiments, serve
from optiloop.decisions.cache import CACHE
from optiloop.decisions.state import STATE, LearnerState
from optiloop.deps import Deps
from optiloop.store.records import Project

ADMIN = Principal(name="tester", role="admin", project_id=None, key_id="k")


def _running(deps: Deps, **body: Any) -> str:
    deps.store.projects.add(
        Project(id="prj_d", name="d", description="", created_at="2026-01-01T00:00:00Z", created_by="t")
    )
    exp = experiments.create(deps, ADMIN, {"project_id": "prj_d", "name": "e", **body})
    experiments.transition(deps, ADMIN, exp["id"], "start")
    return str(exp["id"])


def test_delayed_out_of_order_rewards_rebuild_to_the_incremental_state(deps: Deps) -> None:
    exp_id = _running(
        deps, type="Contextual", algorithm="lin_ts", variants=[{"id": "a"}, {"id": "b"}, {"id": "c"}],
        context={"numeric": ["size"], "categorical": ["tier"], "dimension": 8},
    )  # fmt: skip
    rng = np.random.default_rng(0)
    decisions = [
        serve.decide(
            deps, ADMIN, exp_id, f"u{i}", {"size": float(i % 7), "tier": "gold" if i % 3 else "free"}
        )
        for i in range(60)
    ]
    order = rng.permutation(len(decisions))[:45]  # some never get a reward
    for i in order:
        serve.feedback(deps, ADMIN, decisions[i]["decision_id"], float(rng.random()), None)
    st = deps.store.docs.get(STATE, exp_id)
    assert st is not None
    incremental = LearnerState.from_data(st.data)
    rebuilt = serve.rebuild(deps, exp_id)
    assert incremental.total == rebuilt.total == 45
    assert np.array_equal(incremental.n, rebuilt.n)
    assert np.allclose(incremental.s, rebuilt.s, rtol=1e-12)
    assert incremental.gram is not None and rebuilt.gram is not None
    assert np.allclose(incremental.gram, rebuilt.gram, rtol=1e-12)
    serve.rebuild(deps, exp_id, checkpoint=True)


def test_concurrent_feedback_loses_no_update(deps: Deps) -> None:
    exp_id = _running(deps, type="Bandit", variants=[{"id": "a"}, {"id": "b"}])
    decisions = [serve.decide(deps, ADMIN, exp_id, f"u{i}", None)["decision_id"] for i in range(40)]
    errors: list[BaseException] = []

    def send(ids: list[str]) -> None:
        try:
            for d in ids:
                serve.feedback(deps, ADMIN, d, 1.0, None)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(decisions[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    CACHE.clear()
    st = deps.store.docs.get(STATE, exp_id)
    assert st is not None and LearnerState.from_data(st.data).total == 40 == serve.rebuild(deps, exp_id).total
