"""Helpers every training script shares; shipped inside each job's source bundle as `_lib/`.

Nothing here imports optiloop: SageMaker's framework images do not have it. Where the platform
has a rule the scripts must follow (how an instance is encoded, how a baseline is binned), the few
lines are repeated here and a unit test checks both sides agree (tests/unit/models/training/).
"""
