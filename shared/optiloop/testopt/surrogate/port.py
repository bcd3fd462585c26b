"""The surrogate port: what strategies need from a learned model, whoever trained it.

In process today (`RFFSurrogate`, numpy only, so it can live on the Lambda hot path); a model
trained on SageMaker slots in by implementing the same three methods over its artifact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np


class Surrogate(ABC):
    @abstractmethod
    def partial_fit(self, X: np.ndarray, y: np.ndarray) -> Surrogate:
        """Fold in more observations; returns self (sklearn-style)."""

    @abstractmethod
    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at X."""

    @property
    @abstractmethod
    def n_obs(self) -> int: ...

    @abstractmethod
    def copy(self) -> Surrogate:
        """An independent copy: the state folds chunk-aligned runs into a base model and the
        unaligned tail into a throwaway copy (see strategies/state.py)."""

    @abstractmethod
    def to_bytes(self) -> bytes:
        """A small portable artifact (npz) for the blob store."""


SurrogateFactory = Callable[[int], Surrogate]
"""Makes an empty model for inputs of the given dimension; the three targets of one project
(coverage, failure, cost) are made by the same factory."""
