"""JSON columns: compact text, parsed back to plain dicts/lists on read."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    # Compact and non-ASCII kept as is: the text is only ever read back by json.loads.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


loads = json.loads
