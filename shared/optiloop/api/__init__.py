"""HTTP surface: routers, request/response models, and the one place domain errors become HTTP."""
