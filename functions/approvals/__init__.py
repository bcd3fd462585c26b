"""The `approvals` Lambda (handler: `functions.approvals.handler.handler`)."""
