"""Local-folder specifics of the blob store: layout on disk, temp files, S3 differences."""

from __future__ import annotations

from pathlib import Path

import pytest

from optiloop.store.local_blobs import LocalBlobStore


def test_keys_map_to_files_under_the_root(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "b")
    blobs.put("projects/p1/surrogate/v3.npz", b"abc")
    assert (tmp_path / "b" / "projects" / "p1" / "surrogate" / "v3.npz").read_bytes() == b"abc"
    assert list((tmp_path / "b" / ".tmp").iterdir()) == []  # no temp file left behind
    assert blobs.list() == ["projects/p1/surrogate/v3.npz"]  # the temp area is never listed


def test_failed_write_keeps_the_old_blob_and_leaves_no_temp_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    blobs.put("k", b"old")
    with pytest.raises(TypeError):
        blobs.put("k", "not bytes")  # type: ignore[arg-type]
    assert blobs.get("k") == b"old"
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_stray_temp_files_are_invisible(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    (tmp_path / ".tmp" / "put-crashed").write_bytes(b"half")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".hidden").write_bytes(b"x")
    assert blobs.list() == []


@pytest.mark.parametrize("key", [".hidden", "a/.tmp/x", ".tmp/put-1", "C:/x", "a\x00b"])
def test_reserved_and_odd_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        LocalBlobStore(tmp_path).put(key, b"x")


def test_a_key_cannot_also_be_a_folder(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    blobs.put("a/b", b"1")
    with pytest.raises(ValueError):
        blobs.put("a/b/c", b"2")
    blobs.put("x/y/z", b"3")
    with pytest.raises(ValueError):
        blobs.put("x/y", b"4")
    assert blobs.list() == ["a/b", "x/y/z"]


def test_survives_reopening(tmp_path: Path) -> None:
    LocalBlobStore(tmp_path).put("p/k", b"v")
    assert LocalBlobStore(tmp_path).get("p/k") == b"v"
