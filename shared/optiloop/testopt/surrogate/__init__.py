"""Surrogate models of outcomes (coverage gain, failure, cost) behind one port."""
