"""The `retrain_check` Lambda (handler: `functions.retrain_check.handler.handler`)."""
