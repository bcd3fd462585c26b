"""Feasible samplers: candidate proposals in the unit cube, filtered and repaired by the space."""
