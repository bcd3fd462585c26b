"""Everything one suggest call works with, assembled once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiloop.testopt.history import History
from optiloop.testopt.rl.registered import RegisteredPolicy
from optiloop.testopt.space import Space
from optiloop.testopt.strategies.state import ProjectState
from optiloop.testopt.surrogate.port import Surrogate
from optiloop.testopt.surrogate.trained import TrainedSurrogate

MIN_RUNS_FOR_MODEL = 16


@dataclass
class SuggestContext:
    space: Space
    history: History
    state: ProjectState
    rng: np.random.Generator
    seed: int

    # the registered failure model, set only when it is at least as good as the in-process one
    # on the runs it has not seen (optiloop.testopt.surrogate.trained)
    trained: TrainedSurrogate | None = None
    # the registered RL policy, set only when it was trained on this space's params
    # (optiloop.testopt.strategies.rl): the `rl` generator and hybrid's `rl` arm need it
    rl_policy: RegisteredPolicy | None = None

    _sur: dict[str, Surrogate] | None = None

    @property
    def surrogates(self) -> dict[str, Surrogate] | None:
        """None until enough runs exist for a model to beat the model-free scores."""
        if self.state.n_runs < MIN_RUNS_FOR_MODEL:
            return None
        if self._sur is None:
            self._sur = self.state.surrogates(self.history)
        return self._sur
