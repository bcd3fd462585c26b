"""Prompt optimisation: templates and versions, evaluations, guardrails, providers and generation."""

from optiloop.prompts import approval as approval  # registers prompt_version with the approvals kernel
