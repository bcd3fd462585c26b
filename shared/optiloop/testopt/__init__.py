"""Test optimisation: suggest feasible, diverse tests in a constrained space and learn from their runs.

Sub-packages: `space/` (the parameter space and its constraint language), `sampling/` (feasible
sampling, repair, satisfiability), `coverage/` (input-space bins, t-way coverage, the coverage
report), `diversity/` (distances, k-center, DPP), `strategies/` (generators, operators, the batch
pipeline, learned state), `surrogate/` (the port and the in-process RFF model), `sut/` (simulated
systems-under-test), `pytest_plugin/` (`@optiloop.parametrize`: suggestions as pytest cases,
outcomes ingested at the end of the session). Use cases at this level: constraints, suggest, ingest,
history, queries.
"""
