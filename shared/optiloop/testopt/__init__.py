"""Test optimisation use cases: projects, constraints, suggest, ingest, coverage."""
