"""A learner's memory adapts when an arm's reward stream drifts: a Page-Hinkley detector per arm watches
the utilities it is given, and when one fires that arm's memory is restarted (`response` "restart":
its epoch advances and the learner forgets the arm's earlier rewards) or discounted ("discount": the
epoch advances and the memory is scaled by `keep`, so old evidence still counts, less — steadier than a
restart when a detector fires on noise). A variant that got worse — or better — is re-explored instead
of coasting on an outdated posterior. Results keep every reward: only the learner forgets.

Bandits: the learner reads the current sums (`LearnerState.learner`), scaled on firing. Contextual
experiments: the arm's Gram matrix and sum(u x) are scaled in place (no second copy: results never read
them, so the checkpoint's size bound holds). A reward counted in epoch e weighs keep^(E - e) in an arm
now at epoch E (0^0 = 1: a restart keeps only the current epoch), which is how `rebuild` recovers the
sums from the records (equal to the incremental ones up to float rounding); the detector's internals
depend on order and are rebuilt by replaying the current epoch's rewards in the order they were
rewarded. Each reward record carries the epoch it counted in and the epoch it left open. Firing is
audited and emitted as an `experiment.drift` webhook event (`optiloop.decisions.drift_events`).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from optiloop.decisions.drift import PageHinkley
from optiloop.decisions.state import LearnerState

_fired = 0  # firings since the process's handler last took them (the decisions Lambda's DriftFired metric)
_lock = threading.Lock()


def note_fired() -> None:
    """Count a committed firing for the process's metrics (`take_fired`)."""
    global _fired
    with _lock:
        _fired += 1


def take_fired() -> int:
    """Firings since the last call, and reset: the decisions handler emits them as `DriftFired`."""
    global _fired
    with _lock:
        n, _fired = _fired, 0
    return n


def detector(spec: dict[str, Any]) -> PageHinkley:
    cfg = spec["drift"]
    return PageHinkley(delta=cfg["delta"], threshold=cfg["threshold"], min_items=cfg["min_items"])


def fold(
    state: LearnerState, spec: dict[str, Any], arm: int, reward: float, u: float, x: np.ndarray | None = None
) -> tuple[int, bool]:
    """Count the reward in the arm's current epoch and feed the detector; returns (the epoch it counted
    in, whether the detector fired and the arm's memory was restarted or discounted). Call after
    `state.add` (the Gram matrix already holds `x`)."""
    if state.cur is None or state.epoch is None or state.detector is None:
        return 0, False
    epoch = int(state.epoch[arm])
    state.cur[:, arm] += (1.0, reward, reward * reward)
    det = detector(spec).load(state.detector[arm])
    fired = det.update(u)
    state.detector[arm] = det.to_array()
    if fired:
        keep = float(spec["drift"].get("keep", 0.0))
        state.epoch[arm] += 1
        state.cur[:, arm] *= keep
        if state.gram is not None and state.xu is not None:
            state.gram[arm] *= keep
            state.xu[arm] *= keep
    return epoch, fired


def rebuild(state: LearnerState, spec: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Epochs, current sums (and a Contextual learner's Gram sums) and detectors from the reward records
    (each with arm, reward, utility, x, epoch, opened, rewarded_at)."""
    if state.cur is None or state.epoch is None or state.detector is None:
        return
    k = len(state.n)
    keep = float(spec["drift"].get("keep", 0.0))
    for r in records:
        state.epoch[r["arm"]] = max(state.epoch[r["arm"]], float(r.get("opened", 0)))
    state.cur[:] = 0.0
    if state.gram is not None and state.xu is not None:
        state.gram[:] = 0.0
        state.xu[:] = 0.0
    for r in records:
        arm = r["arm"]
        w = keep ** (state.epoch[arm] - float(r.get("epoch", 0)))
        if w == 0.0:
            continue
        state.cur[:, arm] += (w, w * r["reward"], w * r["reward"] ** 2)
        if state.gram is not None and state.xu is not None and r.get("x") is not None:
            x = np.asarray(r["x"], dtype=float)
            state.gram[arm] += w * np.outer(x, x)
            state.xu[arm] += w * float(r["utility"]) * x
    current = [r for r in records if float(r.get("epoch", 0)) == state.epoch[r["arm"]]]
    for arm in range(k):
        det = detector(spec)
        mine = sorted(
            (r for r in current if r["arm"] == arm), key=lambda r: (r["rewarded_at"], r["decision_id"])
        )
        for r in mine:
            det.update(float(r["utility"]))
        state.detector[arm] = det.to_array()


def summary(state: LearnerState) -> dict[str, Any] | None:
    """What results report: restarts per arm and the rewards the learner currently remembers."""
    if state.epoch is None or state.cur is None:
        return None
    return {"restarts": state.epoch.astype(int).tolist(), "remembered": np.round(state.cur[0], 3).tolist()}
