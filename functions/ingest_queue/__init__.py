"""The `ingest_queue` Lambda (handler: `functions.ingest_queue.handler.handler`)."""
