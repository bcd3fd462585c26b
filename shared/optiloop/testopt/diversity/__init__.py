"""Batch selection that trades score against spread: k-center (farthest-first) and DPP."""
