"""Approvals for the whole platform: requests, four-eyes decisions and policy-as-code gates.

Prompt versions go through it now; model versions, test policies and deployments are reserved
entity types that will use the same path (requests for them are validated and answered 501)."""
