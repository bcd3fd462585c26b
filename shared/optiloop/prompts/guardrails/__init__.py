"""Guardrails for generate calls: PII detection/redaction and prompt-injection detection, with a policy.

Pure functions over strings (no store, no HTTP), cheap enough to run on every call: regexes compiled
at import, the injection model loaded once per process. See policy.py for how findings become an
action.
"""

from optiloop.prompts.guardrails.injection import InjectionVerdict, detect_injection
from optiloop.prompts.guardrails.pii import PII_KINDS, PiiScan, PiiSpan, find_pii, redact
from optiloop.prompts.guardrails.policy import (
    DEFAULT_INJECTION_THRESHOLD,
    Finding,
    GuardConfig,
    GuardVerdict,
    check_input,
    check_output,
)

__all__ = [
    "DEFAULT_INJECTION_THRESHOLD",
    "PII_KINDS",
    "Finding",
    "GuardConfig",
    "GuardVerdict",
    "InjectionVerdict",
    "PiiScan",
    "PiiSpan",
    "check_input",
    "check_output",
    "detect_injection",
    "find_pii",
    "redact",
]
