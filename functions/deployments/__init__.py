"""The `deployments` Lambda (handler: `functions.deployments.handler.handler`)."""
