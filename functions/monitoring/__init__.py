"""The `monitoring` HTTP Lambda (handler: `functions.monitoring.handler.handler`)."""
