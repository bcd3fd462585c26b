"""The served rows a monitor looks at: a window of capture documents, newest first, turned into arrays.

Serving writes one `inference_capture` document per captured request (scope the deployment, sort
`at#request_id`, see the package docstring). A window is either the last `minutes` (every captured
row since now - minutes) or the last `rows`; both are bounded (MAX_WINDOW_ROWS rows, MAX_DOCS
documents read) so one evaluation's cost does not grow with traffic, and say when they were cut.
Only rows of the monitored version, with as many columns as its signature, are kept: a canary's
rows, or rows of the version before a rollout, are not the distribution being judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from optiloop.deps import Deps

CAPTURE_KIND = "inference_capture"
MAX_WINDOW_ROWS = 50_000
MAX_DOCS = 20_000
PAGE = 200


@dataclass
class Window:
    x: np.ndarray  # rows x inputs, encoded features (NaN missing)
    outputs: np.ndarray  # rows x model outputs
    request_ids: list[str] = field(default_factory=list)  # per row
    indexes: list[int] = field(default_factory=list)  # per row: its position in its request
    first_at: str | None = None
    last_at: str | None = None
    truncated: bool = False

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])

    def describe(self) -> dict[str, object]:
        return {"rows": self.rows, "from": self.first_at, "to": self.last_at, "truncated": self.truncated}


def iso_minus(now: str, minutes: int) -> str:
    """`now` (the clock's ISO form, ...Z) minus minutes, in the same form so strings compare in order."""
    t = datetime.fromisoformat(now.replace("Z", "+00:00")) - timedelta(minutes=minutes)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_plus(now: str, minutes: int) -> str:
    return iso_minus(now, -minutes)


class _Collector:
    def __init__(self, n_inputs: int, version_id: str, limit: int) -> None:
        self.n_inputs, self.version_id, self.limit = n_inputs, version_id, limit
        self.x: list[list[float]] = []
        self.out: list[list[float]] = []
        self.rids: list[str] = []
        self.idx: list[int] = []
        self.ats: list[str] = []
        self.truncated = False

    def add(self, data: dict[str, object]) -> bool:
        """Take a capture's rows; False once the limit is reached."""
        if data.get("model_version_id") != self.version_id:
            return True
        feats, outs = data.get("features"), data.get("outputs")
        if not isinstance(feats, list) or not isinstance(outs, list) or len(feats) != len(outs):
            return True
        rid, at = str(data.get("request_id", "")), str(data.get("at", ""))
        for i, (row, out) in enumerate(zip(feats, outs, strict=True)):
            if len(self.x) >= self.limit:
                self.truncated = True
                return False
            if not isinstance(row, list) or len(row) != self.n_inputs or not isinstance(out, list):
                continue
            self.x.append([np.nan if v is None else float(v) for v in row])
            self.out.append([np.nan if v is None else float(v) for v in out])
            self.rids.append(rid)
            self.idx.append(i)
            self.ats.append(at)
        return True

    def window(self) -> Window:
        width = max((len(o) for o in self.out), default=1)
        out = np.full((len(self.out), width), np.nan)
        for r, o in enumerate(self.out):
            out[r, : len(o)] = o
        x = np.array(self.x, dtype=np.float64).reshape(len(self.x), self.n_inputs)
        return Window(
            x=x,
            outputs=out,
            request_ids=self.rids,
            indexes=self.idx,
            first_at=min(self.ats) if self.ats else None,
            last_at=max(self.ats) if self.ats else None,
            truncated=self.truncated,
        )


def recent(
    deps: Deps, deployment_id: str, version_id: str, n_inputs: int, window: dict[str, int], now: str
) -> Window:
    """The monitor's window: captures of the last `minutes`, or the last `rows` captured rows."""
    rows = min(int(window.get("rows", MAX_WINDOW_ROWS)), MAX_WINDOW_ROWS)
    since = iso_minus(now, int(window["minutes"])) if "minutes" in window else None
    col = _Collector(n_inputs, version_id, rows)
    after: str | None = None
    read = 0
    while read < MAX_DOCS:
        page = deps.store.docs.list(CAPTURE_KIND, deployment_id, after=after, limit=PAGE, descending=True)
        for doc in page:
            read += 1
            if since is not None and doc.sort < since:
                return col.window()
            if not col.add(doc.data):
                return col.window()
        if len(page) < PAGE:
            return col.window()
        after = page[-1].sort
    col.truncated = True
    return col.window()


def first_rows(deps: Deps, deployment_id: str, version_id: str, n_inputs: int, rows: int) -> Window:
    """The first `rows` captured rows of the version: the reference when its artifact has no baseline."""
    col = _Collector(n_inputs, version_id, min(rows, MAX_WINDOW_ROWS))
    after: str | None = None
    read = 0
    while read < MAX_DOCS:
        page = deps.store.docs.list(CAPTURE_KIND, deployment_id, after=after, limit=PAGE)
        for doc in page:
            read += 1
            if not col.add(doc.data):
                w = col.window()
                w.truncated = False  # a full reference is what was asked for
                return w
        if len(page) < PAGE:
            return col.window()
        after = page[-1].sort
    return col.window()
