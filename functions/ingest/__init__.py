"""The `ingest` Lambda (handler: `functions.ingest.handler.handler`)."""
