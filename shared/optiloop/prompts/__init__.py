"""Prompt optimisation: templates and versions, evaluations, guardrails, providers and generation."""
