"""OptiLoop: closed optimisation loops (suggest -> run -> ingest -> learn) as a service."""

__version__ = "0.1.0"
