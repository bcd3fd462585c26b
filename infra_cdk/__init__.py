"""OptiLoop's AWS shape as a CDK v2 app: one construct per concern, one Stage per tenant.

A package (not loose scripts) so the tests build exactly the constructs `app.py` synthesizes.
"""
