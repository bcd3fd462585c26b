"""The client's namespaces, one module per capability; each written once for sync and async."""
