"""The process-wide cache of loaded predictors, keyed by the artifact's sha256.

Loading means fetching model.tar.gz from blobs, checking its sha256 against the version record
(an artifact changed behind the registry's back is refused, never served), unpacking it and
building the runtime's arrays: tens of milliseconds for a 200-tree model, so it happens once per
process and artifact. Keyed by content, not by version id, so two versions (or two deployments)
of the same bytes share one predictor. Bounded (LRU) because a Lambda has a fixed memory size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import Conflict, InvalidInput
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact, sha256_hex
from optiloop.models.runtimes import Predictor
from optiloop.models.signature import Signature

MAX_ENTRIES = 16


@dataclass(frozen=True)
class Loaded:
    sha256: str
    signature: Signature
    predictor: Predictor


def blob_key(artifact_key: str) -> str:
    """A version's artifact key as the blob store names it (`s3://bucket/key` -> `key`)."""
    if artifact_key.startswith("s3://"):
        return artifact_key[5:].split("/", 1)[1] if "/" in artifact_key[5:] else ""
    return artifact_key


class PredictorCache:
    """A bounded LRU of `Loaded` by sha256; loads of one artifact by concurrent requests happen once."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.loads = 0  # how many artifacts were read (tests, the benchmark)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get(self, key: str, load: Callable[[], Loaded]) -> Loaded:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                hit = self._items.get(key)
            if hit is None:
                hit = load()
                with self._lock:
                    self.loads += 1
                    self._items[key] = hit
                    self._items.move_to_end(key)
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
                    self._loading.pop(key, None)
        return hit

    def artifact(self, deps: Deps, variant: dict[str, Any]) -> Loaded:
        """The predictor of an in-process variant (`trees`, `onnx`), loaded from blobs once."""
        sha = str(variant["artifact_sha256"])
        return self.get(sha, lambda: load_artifact(deps, variant))


def load_artifact(deps: Deps, variant: dict[str, Any]) -> Loaded:
    vid = variant["model_version_id"]
    data = deps.blobs.get(blob_key(str(variant["artifact_key"])))
    if data is None:
        raise Conflict(
            f"the artifact of model version '{vid}' is missing from the artifact store",
            details=[{"field": "model_version_id", "reason": "artifact missing"}],
        )
    actual = sha256_hex(data)
    # the registry records `sha256:<hex>` (the prefix names the algorithm); compare the digests
    if actual != str(variant["artifact_sha256"]).removeprefix("sha256:"):
        raise Conflict(
            f"the artifact of model version '{vid}' does not match its recorded sha256; refusing to serve it",
            details=[{"field": "model_version_id", "reason": f"artifact sha256 is {actual}"}],
        )
    try:
        art = read_artifact(data)
        return Loaded(sha256=actual, signature=art.signature, predictor=runtimes.load(art))
    except InvalidInput as e:
        raise Conflict(
            f"the artifact of model version '{vid}' cannot be served: {e.message}",
            details=[{"field": "model_version_id", "reason": e.message}],
        ) from e


PREDICTORS = PredictorCache()
"""The one cache of this process (a Lambda container, an `optiloop serve` worker)."""
