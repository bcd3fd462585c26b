"""The `monitors` scheduled Lambda (handler: `functions.monitors.handler.handler`)."""
