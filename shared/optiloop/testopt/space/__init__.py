"""Parameter spaces and the constraint language.

`build_space` turns constraint documents into a `Space`; a `Space` maps points of the unit
cube to typed parameter columns and says, vectorised, which points satisfy the hard relations.
"""

from optiloop.testopt.space.model import Batch, Param, Relation, Space
from optiloop.testopt.space.schema import build_space

__all__ = ["Batch", "Param", "Relation", "Space", "build_space"]
