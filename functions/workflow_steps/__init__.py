"""Experiment-workflow task handlers (`functions.workflow_steps.handler.prepare_training`, ...)."""
