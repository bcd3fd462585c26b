"""A Bandit's memory adapts when its reward stream drifts: a Page-Hinkley detector per arm watches the
utilities it is given, and when one fires that arm's learner restarts (its epoch advances and the
learner forgets the arm's earlier rewards), so a variant that got worse — or better — is re-explored
instead of coasting on an outdated posterior. Results keep every reward: only the learner forgets.

State is the epoch per arm, the current epoch's sums (what `Policy` reads through
`LearnerState.learner`) and the detector's six numbers, all in the checkpoint. Each reward record
carries the epoch it counted in and the epoch it left open, so `rebuild` recovers the epochs and the
current sums exactly; the detector's internals depend on order and are rebuilt by replaying the
current epoch's rewards in the order they were rewarded. Restarts are audited (chain append: rare).
Opt-in per experiment (`drift`); Contextual experiments do not restart (their Gram matrices would
need a second copy, past the checkpoint's size bound).
"""

from __future__ import annotations

from typing import Any

from optiloop.decisions.drift import PageHinkley
from optiloop.decisions.state import LearnerState


def detector(spec: dict[str, Any]) -> PageHinkley:
    cfg = spec["drift"]
    return PageHinkley(delta=cfg["delta"], threshold=cfg["threshold"], min_items=cfg["min_items"])


def fold(state: LearnerState, spec: dict[str, Any], arm: int, reward: float, u: float) -> tuple[int, bool]:
    """Count the reward in the arm's current epoch and feed the detector; returns (the epoch it counted
    in, whether the detector fired and the arm restarted)."""
    if state.cur is None or state.epoch is None or state.detector is None:
        return 0, False
    epoch = int(state.epoch[arm])
    state.cur[:, arm] += (1.0, reward, reward * reward)
    det = detector(spec).load(state.detector[arm])
    fired = det.update(u)
    state.detector[arm] = det.to_array()
    if fired:
        state.epoch[arm] += 1
        state.cur[:, arm] = 0.0
    return epoch, fired


def rebuild(state: LearnerState, spec: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Epochs, current sums and detectors from the reward records (each with arm, reward, utility,
    epoch, opened, rewarded_at)."""
    if state.cur is None or state.epoch is None or state.detector is None:
        return
    k = len(state.n)
    for r in records:
        state.epoch[r["arm"]] = max(state.epoch[r["arm"]], float(r.get("opened", 0)))
    current = [r for r in records if float(r.get("epoch", 0)) == state.epoch[r["arm"]]]
    state.cur[:] = 0.0
    for r in current:
        state.cur[:, r["arm"]] += (1.0, r["reward"], r["reward"] ** 2)
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
    return {"restarts": state.epoch.astype(int).tolist(), "remembered": state.cur[0].astype(int).tolist()}
