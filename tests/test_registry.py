"""Model registry: versions, promotion, rollback, fallback, atomicity, the shipped model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from digitpad import fsutil
from digitpad import registry as reg
from digitpad.errors import ModelError
from digitpad.registry import ModelFallbackWarning, ModelRegistry, active_model_path

REPO = Path(__file__).resolve().parents[1]


def fake_onnx(path: Path, tag: bytes = b"") -> Path:
    """A file with an ONNX protobuf header (0x08 = ir_version) and some distinct payload."""
    path.write_bytes(b"\x08\x07\x12\x07pytorch" + tag + bytes(range(200)))
    return path


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A stand-in for the checkout's shipped model, so tests never depend on or touch it."""
    d = tmp_path / "checkout_models"
    d.mkdir()
    p = fake_onnx(d / "digitpad-v1.onnx", b"shipped")
    (d / "digitpad-v1.pt").write_bytes(b"ckpt-v1")
    monkeypatch.setattr(reg, "shipped_model_path", lambda: p)
    return p


def add(r: ModelRegistry, version: int, tag: bytes = b"", parent: int = 1):
    staged = fake_onnx(r.models_dir / f".staging-{version}.onnx", tag or str(version).encode())
    ckpt = r.models_dir / f".staging-{version}.pt"
    ckpt.write_bytes(b"ckpt")
    return r.add_candidate(version, staged, ckpt, parent=parent, metrics={"heldout_acc": 0.9})


def test_fresh_home_has_only_the_shipped_model(home, shipped):
    r = ModelRegistry(home.models_dir)
    entries = r.list()
    assert [(e.version, e.status) for e in entries] == [(1, "active")]
    assert r.active().path == shipped
    assert r.active().checkpoint_path == shipped.with_suffix(".pt")
    assert active_model_path(home) == shipped
    assert r.next_version() == 2


def test_candidate_promote_and_rollback(home, shipped):
    r = ModelRegistry(home.models_dir)
    e2 = add(r, 2)
    assert e2.status == "candidate" and e2.path == home.models_dir / "digitpad-v2.onnx"
    assert e2.checkpoint_path == home.models_dir / "digitpad-v2.pt"
    assert r.active().version == 1  # registering does not promote
    r.promote(2)
    assert r.active().version == 2
    assert {e.version: e.status for e in r.list()} == {1: "retired", 2: "active"}
    add(r, 3, parent=2)
    r.promote("v3")
    r.use("v1")  # roll back to the shipped model
    assert r.active().version == 1
    assert {e.version: e.status for e in r.list()} == {1: "active", 2: "retired", 3: "retired"}
    r.use(3)
    assert r.active().version == 3 and r.get(3).parent == 2
    assert r.get("v2").metrics == {"heldout_acc": 0.9}
    doc = json.loads(r.registry_path.read_text())
    assert doc["active"] == 3 and doc["history"][-1] == 3


def test_shipped_model_is_never_overwritten(home, shipped):
    before = shipped.read_bytes()
    r = ModelRegistry(home.models_dir)
    staged = fake_onnx(home.models_dir / ".staging.onnx")
    with pytest.raises(ModelError, match="never overwritten"):
        r.add_candidate(1, staged, None, parent=None)
    add(r, 2)
    r.promote(2)
    r.use(1)
    assert shipped.read_bytes() == before
    assert not (home.models_dir / "digitpad-v1.onnx").exists()  # v1 resolves to the shipped file


def test_version_taken_or_not_onnx_is_refused(home, shipped):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    with pytest.raises(ModelError, match="already exists"):
        add(r, 2)
    junk = home.models_dir / ".junk.onnx"
    junk.write_bytes(b"<html>" * 50)
    with pytest.raises(ModelError, match="not an ONNX model"):
        r.add_candidate(3, junk, None, parent=1)
    with pytest.raises(ModelError, match="no model v9"):
        r.use(9)
    with pytest.raises(ModelError, match="not a model version"):
        r.use("latest")


@pytest.mark.parametrize("damage", ["missing", "corrupt", "truncated"])
def test_broken_active_falls_back_to_last_good_with_warning(home, shipped, damage):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    r.promote(2)
    add(r, 3, parent=2)
    r.promote(3)
    path = r.get(3).path
    if damage == "missing":
        path.unlink()
    elif damage == "corrupt":
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF  # same size, same header: only the hash can tell
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(path.read_bytes()[:30])
    with pytest.warns(ModelFallbackWarning, match="v3 cannot be used"):
        entry = r.active()
    assert entry.version == 2 and entry.warning and "using v2" in entry.warning
    # The broken version is recorded, so the warning is given once, not on every start.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r.active().version == 2
    assert r.get(3).status == "broken"
    with pytest.raises(ModelError, match="cannot use v3"):
        r.use(3)


def test_fallback_reaches_shipped_and_then_gives_a_clear_error(home, shipped):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    r.promote(2)
    r.get(2).path.unlink()
    with pytest.warns(ModelFallbackWarning):
        assert r.active().version == 1
    shipped.unlink()
    with pytest.raises(ModelError, match="no usable model") as err:
        r.active()
    # the remedy offered must be one that restores the shipped model (make model builds beside it)
    assert "git checkout models/" in str(err.value) and "make model" not in str(err.value)


def test_unreadable_registry_file_is_rebuilt_from_model_files(home, shipped):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    r.promote(2)
    r.registry_path.write_text("{ not json")
    with pytest.warns(ModelFallbackWarning, match="unreadable"):
        entries = r.list()
    assert [e.version for e in entries] == [1, 2]
    with pytest.warns(ModelFallbackWarning):
        r.use(2)  # a write repairs the file
    assert json.loads(r.registry_path.read_text())["active"] == 2
    # ...and keeps the damaged one aside: what it knew is not on disk anywhere else
    (kept,) = r.registry_path.parent.glob("registry.json.damaged-*")
    assert kept.read_text() == "{ not json"


@pytest.mark.parametrize("active", [2, {"version": 2, "since": "x"}])
def test_a_registry_of_a_newer_format_is_refused_and_left_as_it_is(home, shipped, active):
    # whatever shape the newer format gives its fields: never rebuilt, never written over
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    r.promote(2)
    doc = json.loads(r.registry_path.read_text())
    doc.update(format=2, active=active)
    r.registry_path.write_text(json.dumps(doc))
    before = r.registry_path.read_bytes()
    for call in (r.list, lambda: r.use(1)):
        with pytest.raises(ModelError, match="newer digitpad"):
            call()
    assert r.registry_path.read_bytes() == before


def test_a_folder_in_place_of_the_registry_is_moved_aside_on_write(home, shipped):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    r.registry_path.unlink()
    r.registry_path.mkdir()
    with pytest.warns(ModelFallbackWarning):
        r.use(2)
    assert json.loads(r.registry_path.read_text())["active"] == 2
    (kept,) = r.registry_path.parent.glob("registry.json.damaged-*")
    assert kept.is_dir()


def test_crash_mid_promotion_leaves_old_active(home, shipped, monkeypatch):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    r.promote(2)
    add(r, 3, parent=2)
    before = r.registry_path.read_bytes()

    def crash(src, dst):
        raise OSError("disk gone")  # the temp file is written and fsynced, the rename never happens

    monkeypatch.setattr(fsutil.os, "replace", crash)
    with pytest.raises(OSError):
        r.promote(3)
    monkeypatch.undo()
    assert r.registry_path.read_bytes() == before
    assert r.active().version == 2
    assert not list(home.models_dir.glob(".registry.json.*"))  # no temp file left behind


_HAMMER = """
import sys
from pathlib import Path
from digitpad import registry as reg
reg.shipped_model_path = lambda: Path(sys.argv[2])
r = reg.ModelRegistry(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    r.promote(2)
    r.promote(3)
"""


def test_sigkill_during_promotions_never_damages_the_registry(home, shipped):
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    add(r, 3, parent=2)
    for i in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", _HAMMER, str(home.models_dir), str(shipped)],
            stdout=subprocess.PIPE,
            cwd=REPO,
        )
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.02 + 0.013 * i)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        doc = json.loads(r.registry_path.read_text())  # always whole, valid JSON
        assert doc["active"] in (2, 3)
        assert r.active().version in (2, 3)
        assert {e.version: e.status for e in r.list()}[1] == "retired"
    r.promote(2)  # the next write clears any temp file a killed writer left
    assert not list(home.models_dir.glob(".registry.json.*"))


def test_models_command_lists_and_switches(home, shipped, capsys, monkeypatch):
    from digitpad import cli
    from digitpad.classifier import Classifier

    monkeypatch.setattr(Classifier, "load", lambda path: None)  # fake files: see the next test
    r = ModelRegistry(home.models_dir)
    add(r, 2)
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:3] == ["*", "v1", "active"]
    assert "v2" in out and "candidate" in out and "90.0%" in out
    assert cli.main(["models", "use", "v2"]) == 0
    assert "v2 is now the active model" in capsys.readouterr().out
    assert cli.main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(x["version"], x["active"]) for x in rows] == [("v1", False), ("v2", True)]
    assert cli.main(["models", "use", "v7"]) == 1
    assert "no model v7" in capsys.readouterr().err
    assert cli.main(["models", "use"]) == 2
    r.get(2).path.unlink()  # the active model vanished: listing warns and falls back
    assert cli.main(["models"]) == 0
    captured = capsys.readouterr()
    assert "v2 cannot be used" in captured.err
    assert re.search(r"v2 +broken", captured.out)


def test_registry_file_is_readable_by_all(home, shipped):
    import stat

    old = os.umask(0o022)
    try:
        r = ModelRegistry(home.models_dir)
        add(r, 2)
        r.promote(2)
    finally:
        os.umask(old)
    assert stat.S_IMODE(r.registry_path.stat().st_mode) == 0o644  # not mkstemp's private 0600


def test_models_use_refuses_a_file_that_is_no_digit_classifier(home, capsys):
    # helper-51: a registry rebuilt from the files on disk records no hash; an ONNX file of
    # another kind was made active, and recognise and retrain then failed
    import onnx
    from onnx import TensorProto, helper

    from digitpad import cli

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "foreign",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    home.models_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(graph), str(home.models_dir / "digitpad-v5.onnx"))
    (home.models_dir / "registry.json").write_text("{damaged")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelFallbackWarning)
        assert [e.version for e in ModelRegistry(home.models_dir).list()] == [1, 5]
        assert cli.main(["models", "use", "v5"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("digitpad: error: cannot use v5: digitpad-v5.onnx")
        assert err.count("\n") == 1
        assert ModelRegistry(home.models_dir).active().version == 1
