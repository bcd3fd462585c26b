"""Input-space coverage: bins per parameter, t-way (pairwise) combination coverage, novelty."""
