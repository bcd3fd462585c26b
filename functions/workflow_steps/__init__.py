"""The experiment workflow's task handler (`functions.workflow_steps.handler.handler`)."""
