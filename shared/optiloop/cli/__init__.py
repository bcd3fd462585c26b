"""The `optiloop` command: serve the API, manage keys on a data dir, run the demo."""
