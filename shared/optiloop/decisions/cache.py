"""The per-process cache that keeps `decide` off the store's read path.

Each entry holds an experiment's spec and status and the `Policy` built from its checkpoint. An entry
older than `REFRESH_S` is re-validated with two point reads (experiment and checkpoint); the policy is
rebuilt only if the checkpoint's rev moved. So another process's rewards reach this one's decisions
within about a second (a stale policy explores a little more, it never loses an update: updates go to
the store under rev guards), and a pause in another process stops this one's decisions within the same
second. Writes in this process (`feedback`, lifecycle) update or drop their entry at once.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.decisions.policies import Policy
from optiloop.decisions.spec import is_online
from optiloop.decisions.state import STATE, LearnerState
from optiloop.deps import Deps
from optiloop.errors import NotFound

REFRESH_S = 1.0


@dataclass
class Entry:
    experiment: dict[str, Any]
    state_rev: int
    policy: Policy
    rng: np.random.Generator
    checked_at: float


class PolicyCache:
    def __init__(self, refresh_s: float = REFRESH_S) -> None:
        self.refresh_s = refresh_s
        self._entries: dict[tuple[int, str], Entry] = {}
        self._lock = threading.Lock()

    def get(self, deps: Deps, experiment_id: str) -> Entry:
        key = (id(deps.store), experiment_id)
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and now - entry.checked_at < self.refresh_s:
            return entry
        exp = deps.store.docs.get("experiment", experiment_id)
        st = deps.store.docs.get(STATE, experiment_id)
        if exp is None or st is None or not is_online(exp.data):
            self.invalidate(deps, experiment_id)
            raise NotFound(
                f"no online experiment '{experiment_id}'",
                details=[{"field": "experiment_id", "reason": "no such online experiment"}],
            )
        if entry is not None and entry.state_rev == st.rev:
            entry.experiment, entry.checked_at = exp.data, now
            return entry
        return self.put(deps, exp.data, st.rev, st.data, entry.rng if entry else None)

    def put(
        self,
        deps: Deps,
        experiment: dict[str, Any],
        rev: int,
        state: dict[str, Any],
        rng: np.random.Generator | None = None,
    ) -> Entry:
        """The policy for this state, drawing from the process's random stream for the experiment.

        The stream outlives the entry: a reward replaces the entry, and a generator seeded afresh
        each time would replay the same draws after every reward, so Thompson sampling would pick
        the same arm again and again instead of exploring."""
        if rng is None:
            held = self._entries.get((id(deps.store), experiment["id"]))
            rng = held.rng if held is not None else None
        if rng is None:
            seed = experiment.get("seed")
            rng = np.random.default_rng(seed if seed is not None else zlib.crc32(experiment["id"].encode()))
        entry = Entry(
            experiment, rev, Policy(experiment, LearnerState.from_data(state)), rng, time.monotonic()
        )
        with self._lock:
            self._entries[(id(deps.store), experiment["id"])] = entry
        return entry

    def invalidate(self, deps: Deps, experiment_id: str) -> None:
        with self._lock:
            self._entries.pop((id(deps.store), experiment_id), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = PolicyCache()
