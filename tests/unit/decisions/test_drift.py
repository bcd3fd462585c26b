"""Drift and anomaly detectors: each finds a 0.2 -> 0.5 shift soon and raises few false alarms on a
stationary stream; the point detectors flag a spike and not ordinary values."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.decisions import drift


def stream(seed: int, change: int = 1000, after: int = 1000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.r_[rng.random(change) < 0.2, rng.random(after) < 0.5].astype(float)


@pytest.mark.parametrize("name", sorted(drift.CHANGE))
def test_change_detectors_find_a_shift_and_stay_quiet_before(name: str) -> None:
    delays, alarms = [], 0
    for seed in range(10):
        det = drift.CHANGE[name]()
        for t, v in enumerate(stream(seed)):
            if det.update(float(v)):
                if t >= 1000:
                    delays.append(t - 1000)
                    break
                alarms += 1
    assert len(delays) == 10
    assert np.median(delays) < 200
    assert alarms <= 3  # over 10,000 stationary items


def test_adwin_drops_the_stale_part_of_its_window() -> None:
    det = drift.Adwin()
    for v in stream(3):
        det.update(float(v))
    assert det.mean == pytest.approx(0.5, abs=0.08)
    assert len(det.window) < 1100  # the 1,000 items after the change and a few before at most


def test_reset_forgets() -> None:
    det = drift.PageHinkley()
    for v in stream(4)[:500]:
        det.update(float(v))
    det.reset()
    assert det.n == 0 and det.up == 0.0


@pytest.mark.parametrize("name", sorted(drift.ANOMALY))
def test_point_detectors_flag_a_spike_only(name: str) -> None:
    rng = np.random.default_rng(5)
    det = drift.ANOMALY[name]()
    normal = rng.normal(100.0, 10.0, 300)
    flagged = sum(det.update(float(v)) for v in normal)
    assert flagged <= 2
    assert det.update(400.0)
    assert not det.update(105.0)
