"""Online decisions: experiments (AB, Bandit, Contextual), their learners, rewards and sequential statistics.

The capability's public functions: `experiments` (create, read with results, lifecycle), `serve`
(`decide`, `feedback`, `rebuild`). Learning state is a checkpoint document rebuilt exactly from the
logged rewards; the decide path reads it through a per-process cache (`cache`), never per call.
See docs/decisions.md.
"""
