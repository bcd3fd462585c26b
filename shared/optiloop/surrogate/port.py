"""The surrogate port: what strategies need from a learned model, whoever trained it.

In process today (`RFFSurrogate`, numpy only, so it can live on the Lambda hot path); a model
trained on SageMaker slots in by implementing the same three methods over its artifact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

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
    def to_bytes(self) -> bytes:
        """A small portable artifact (npz) for the blob store."""
