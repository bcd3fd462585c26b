"""Glue every Lambda shares: Powertools set-up, HTTP wrapping, write tallies for metrics.

Shipped inside every function's code package (see layers/build.py), never in a layer, because it
changes with the handlers, not with the dependencies.
"""
