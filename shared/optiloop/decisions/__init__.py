"""Online decisions: experiments (AB, Bandit, Contextual, Canary, Bayesian), their learners, rewards,
statistics, drift and promotion.

The capability's public functions: `experiments` (create, read with results, lifecycle), `serve`
(`decide`, `feedback`, `rebuild`), `promote` (winners through approvals), `attach` (generate consulting
an experiment on a prompt label), `dashboard` (the generate traces' series). Learning state is a
checkpoint document rebuilt exactly from the logged rewards; the decide path reads it through a
per-process cache (`cache`), never per call. Statistics: `sequential` (mSPRT), `stats` (fixed
horizon, Holm, CUPED, SRM), `guardrails`; learners: `policies`, `bayes`, `canary`, `adapt` (drift
restarts over `drift`'s detectors); `ope` (off-policy evaluation). See docs/decisions.md.
"""
