"""`BlobStore` on a local folder: the embedded stand-in for S3.

Keys are S3-style ("projects/p1/surrogate/v3.npz") and map 1:1 to paths under the root. Because
keys may come from request data, anything that could address a file outside the root is refused
up front instead of being resolved and checked afterwards.

Writes go to a temp file in ``<root>/.tmp`` (same filesystem) and are then ``os.replace``d into
place, so a reader sees either the old bytes or the new bytes, never a torn file, and a crash
leaves at most a stray temp file. Segments starting with "." are reserved, which keeps "." and
".." out and the temp area unaddressable.

One difference from S3 that a folder cannot hide: a key cannot also be a "directory" of other keys
("a/b" and "a/b/c" cannot both exist); `put` raises ValueError for that.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from optiloop.store.ports import BlobStore

_TMP = ".tmp"


def _check_segments(segments: list[str], what: str) -> None:
    for seg in segments:
        if not seg:
            raise ValueError(f"blob {what} has an empty segment")
        if seg.startswith("."):
            raise ValueError(f"blob {what} segment {seg!r} starts with '.' (reserved)")


def validate_key(key: str) -> list[str]:
    """The key's path segments, or ValueError if it is not a safe relative key."""
    if not isinstance(key, str) or not key:
        raise ValueError("blob key must be a non-empty string")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"blob key {key!r} contains a backslash or NUL")
    if key.startswith("/") or (len(key) > 1 and key[0].isalpha() and key[1] == ":"):  # C:/...
        raise ValueError(f"blob key {key!r} is absolute")
    segments = key.split("/")
    _check_segments(segments, f"key {key!r}")
    return segments


def validate_prefix(prefix: str) -> list[str]:
    """The whole folder segments of a listing prefix, or ValueError if it could escape the root.

    Shared with the S3 adapter so that both refuse exactly the same prefixes (and keys)."""
    if not isinstance(prefix, str) or "\\" in prefix or "\x00" in prefix or prefix.startswith("/"):
        raise ValueError(f"blob prefix {prefix!r} is not a relative key prefix")
    folder_part, _, _ = prefix.rpartition("/")
    folder_segments = folder_part.split("/") if folder_part else []
    _check_segments(folder_segments, f"prefix {prefix!r}")
    return folder_segments


class LocalBlobStore(BlobStore):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / _TMP
        self._tmp.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ValueError(f"blob key {key!r}: a prefix of it is already a blob") from exc
        if path.is_dir():
            raise ValueError(f"blob key {key!r} is a prefix of other blobs")
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())  # the rename must not become visible before the bytes are durable
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def delete(self, key: str) -> None:
        """Deleting a missing key is a no-op, as on S3, so retries are safe."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            path.unlink()

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with `prefix` (a plain string prefix, as on S3, not only whole segments)."""
        # Walk only the deepest folder the prefix pins down, then filter by the string prefix.
        start = self.root.joinpath(*validate_prefix(prefix))
        if not start.is_dir():
            return []
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if rel == "." else rel + "/"
            keys.extend(
                base + f for f in filenames if not f.startswith(".") and (base + f).startswith(prefix)
            )
        return sorted(keys)
