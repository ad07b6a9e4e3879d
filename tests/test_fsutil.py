"""digitpad.fsutil: atomic writes keep content, get ordinary modes and leave no temp files."""

from __future__ import annotations

import os
import stat

import pytest

from digitpad import fsutil


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set a umask for one test and restore the old one afterwards."""
    old = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(old)


def test_writes_content_and_replaces_old_file(tmp_path):
    target = tmp_path / "a.json"
    fsutil.atomic_write_bytes(target, b"first")
    fsutil.atomic_write_bytes(target, b"second, longer")
    assert target.read_bytes() == b"second, longer"
    fsutil.atomic_write_text(target, "héllo\n", sync_dir=False)
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_mode_is_0644_under_umask_022_not_mkstemp_private(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "model.onnx"
    fsutil.atomic_write_bytes(target, b"x")
    assert _mode(target) == 0o644


def test_mode_respects_a_stricter_umask(tmp_path, umask):
    umask(0o077)
    target = tmp_path / "private.json"
    fsutil.atomic_write_bytes(target, b"x")
    assert _mode(target) == 0o600


def test_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "registry.json"
    target.write_bytes(b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fsutil.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        fsutil.atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]


def test_failure_while_writing_leaves_no_temp(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(TypeError):
        fsutil.atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_an_error_unless_asked_to_create(tmp_path):
    target = tmp_path / "sub" / "deeper" / "f.txt"
    with pytest.raises(FileNotFoundError):
        fsutil.atomic_write_bytes(target, b"x")
    fsutil.atomic_write_bytes(target, b"x", make_parents=True)
    assert target.read_bytes() == b"x"


def test_temp_names_are_hidden_unique_and_beside_the_target(tmp_path):
    target = tmp_path / "registry.json"
    names = {fsutil.temp_name(target) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.parent == tmp_path
        assert name.name.startswith(".registry.json.") and name.name.endswith(".tmp")


def test_fsync_dir_tolerates_a_missing_folder(tmp_path):
    fsutil.fsync_dir(tmp_path)
    fsutil.fsync_dir(tmp_path / "nope")  # no exception: best effort by contract
