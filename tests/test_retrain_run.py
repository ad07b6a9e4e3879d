"""Retrain end to end on a tiny store with a tiny model: progress lines, the final line contract,
the gate's verdict, no-corrections, and cancel (SIGTERM of a real subprocess)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitpad import cli
from digitpad import registry as reg
from digitpad.registry import ModelRegistry
from digitpad.retrain import run as rrun
from digitpad.retrain.data import DataConfig
from digitpad.retrain.gate import GateRules

REPO = Path(__file__).resolve().parents[1]
TINY_DATA = DataConfig(min_replay=110)
TINY_REGRESSION_PAGES = 2


@pytest.fixture(scope="session")
def tiny_v1(tmp_path_factory) -> Path:
    """A tiny "shipped" model trained in a few seconds on drawn pages (onnx + checkpoint)."""
    from digitpad.training.data import crops_from_pages
    from digitpad.training.drawn import draw_page
    from digitpad.training.export import export_onnx, save_checkpoint
    from digitpad.training.model import ModelConfig
    from digitpad.training.train import TrainConfig, train

    X, y = crops_from_pages(draw_page(s, distractors=3) for s in range(12))
    config = TrainConfig(
        epochs=2, threads=1, model=ModelConfig(widths=(4, 8, 8), convs=(1, 1, 1), hidden=16)
    )
    ckpt = train(X, y, config)
    out = tmp_path_factory.mktemp("shipped")
    export_onnx(ckpt, out / "digitpad-v1.onnx", version="v1", metadata={"data": "test"})
    save_checkpoint(ckpt, out / "digitpad-v1.pt")
    return out / "digitpad-v1.onnx"


def fill_store(home, model_path: Path, pages: int = 6) -> int:
    """Save simulated reviews of drawn pages, read by ``model_path``; returns the box count."""
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import Recogniser
    from digitpad.retrain.simulate import review_payload
    from digitpad.store import CorrectionStore
    from digitpad.training.drawn import draw_page

    rec = Recogniser(Classifier.load(model_path))
    n = 0
    with CorrectionStore.open(home) as store:
        for s in range(pages):
            page = draw_page(500 + s, n_digits=10, distractors=2, width=700, height=300)
            payload = review_payload(page.image, page.annotations, rec.recognise(page.image))
            store.save_review(payload)
            n += len(payload.boxes)
    return n


@pytest.fixture
def tiny(monkeypatch, tiny_v1):
    monkeypatch.setattr(reg, "shipped_model_path", lambda: tiny_v1)
    monkeypatch.setattr(rrun, "DEFAULT_DATA", TINY_DATA)
    monkeypatch.setattr(rrun, "DEFAULT_REGRESSION_PAGES", TINY_REGRESSION_PAGES)
    return tiny_v1


def models_files(home) -> list[str]:
    return sorted(p.name for p in home.models_dir.iterdir() if p.name != "cache")


def test_retrain_json_progress_and_final_line(home, tiny, capfd):
    n_boxes = fill_store(home, tiny)
    rc = cli.main(["retrain", "--progress", "json", "--epochs", "2"])
    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]  # every line is one JSON object
    assert rc == 0
    phases = [x["phase"] for x in lines]
    assert {"loading", "regression", "replay", "train", "evaluating"} <= set(phases)
    train = [x for x in lines if x["phase"] == "train"]
    assert train[-1]["epoch"] == 2 and train[-1]["step"] == train[-1]["total"]
    assert all(k in train[-1] for k in ("loss", "eta_s"))
    evaluating = [x for x in lines if x["phase"] == "evaluating"]
    assert "val_acc" in evaluating[0] and evaluating[0]["message"].startswith("v2 blended 100%")
    last = lines[-1]
    assert last["phase"] == "done" and last["version"] == "v2"
    assert isinstance(last["promoted"], bool) and last["message"]
    assert last["reason"] in ("promoted", "not_promoted")
    r = ModelRegistry(home.models_dir)
    v2 = r.get(2)
    counts = v2.data_counts
    assert v2.parent == 1 and counts["corrections"] + counts["fragments_skipped"] == n_boxes
    assert v2.metrics["regression_n"] > 0 and v2.metrics["from_scratch"] is False
    assert v2.metrics["blend"] == v2.metrics["blends_tried"][-1]
    assert v2.metrics["stage"] is None  # the tiny v1 has no context stage to fit
    assert v2.metrics["blends_tried"] == [1.0, 0.7, 0.5, 0.3][: len(v2.metrics["blends_tried"])]
    assert r.active().version == (2 if last["promoted"] else 1)
    assert models_files(home) == [
        ".registry.lock",
        ".retrain.lock",
        "digitpad-v2.onnx",
        "digitpad-v2.pt",
        "registry.json",
    ]
    from digitpad.classifier import Classifier

    assert Classifier.load(v2.path).version == "v2"


def _with_stage(tiny: Path, folder: Path) -> Path:
    """The tiny v1 with a tiny context stage, as a new shipped model in ``folder``."""
    from digitpad.training.context import ContextTrainConfig, context_stage
    from digitpad.training.export import export_onnx, load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(tiny.with_suffix(".pt"))
    ckpt["context"] = context_stage(ckpt, ContextTrainConfig(pages=8, epochs=1), seed=0)
    path = folder / "digitpad-v1.onnx"
    export_onnx(ckpt, path, version="v1", metadata={"data": "test"})
    save_checkpoint(ckpt, path.with_suffix(".pt"))
    return path


def test_a_retrain_fits_the_context_stage_of_a_model_that_has_one(
    home, tiny, monkeypatch, tmp_path
):
    import torch

    from digitpad.classifier import Classifier
    from digitpad.retrain.stage import StageConfig
    from digitpad.training.export import load_checkpoint
    from digitpad.types import CONTEXT_WIDTH

    staged_v1 = _with_stage(tiny, tmp_path)
    ckpt = load_checkpoint(staged_v1.with_suffix(".pt"))
    monkeypatch.setattr(reg, "shipped_model_path", lambda: staged_v1)
    monkeypatch.setattr(
        rrun, "DEFAULT_STAGE", StageConfig(pages=4, check_pages=3, epochs=1, max_extra_fixes=100)
    )
    fill_store(home, staged_v1, pages=3)
    events = []
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1), progress=events.append)
    assert res.phase == "done"
    v2 = ModelRegistry(home.models_dir).get(2)
    stage = v2.metrics["stage"]
    assert stage["adapted"] is True and stage["rows_person"] > 0
    assert any(e.phase == "stage" and "fitted to your pages" in (e.message or "") for e in events)
    assert "; context stage fitted to your pages (100% of the fit" in res.message
    fitted = load_checkpoint(v2.checkpoint_path)["context"]["state_dict"]
    assert any(not torch.equal(fitted[k], ckpt["context"]["state_dict"][k]) for k in fitted)
    # the exported file carries the fitted stage: it reads the same context rows differently
    rows = np.random.default_rng(0).uniform(0, 1, (16, CONTEXT_WIDTH)).astype(np.float32)
    v1_read = Classifier.load(staged_v1).rerank(rows)
    v2_read = Classifier.load(v2.path).rerank(rows)
    assert not np.allclose(v1_read, v2_read)
    assert "context stage fitted to 3 reviewed pages" in Classifier.load(v2.path).metadata["data"]


def test_a_cancel_while_the_stage_is_fitted_leaves_the_models_folder(
    home, tiny, monkeypatch, tmp_path
):
    from digitpad.retrain import stage as rstage
    from digitpad.retrain.stage import StageConfig

    staged_v1 = _with_stage(tiny, tmp_path)
    monkeypatch.setattr(reg, "shipped_model_path", lambda: staged_v1)
    monkeypatch.setattr(
        rrun, "DEFAULT_STAGE", StageConfig(pages=4, check_pages=3, epochs=1, max_extra_fixes=100)
    )
    fill_store(home, staged_v1, pages=3)
    fitting = []
    real = rstage._fit_and_check
    monkeypatch.setattr(rstage, "_fit_and_check", lambda *a: fitting.append(1) or real(*a))
    before = models_files(home)
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1), should_stop=lambda: bool(fitting))
    assert (res.phase, res.reason) == ("failed", "cancelled") and fitting
    assert models_files(home) in (before, [".retrain.lock"], [".registry.lock", ".retrain.lock"])
    assert ModelRegistry(home.models_dir).active().version == 1


def test_gate_keeps_a_worse_model_as_candidate_and_force_promotes(home, tiny):
    fill_store(home, tiny, pages=3)
    impossible = GateRules(max_regression_drop=-1.0)  # would need +100 points: never met
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1, rules=impossible))
    assert (res.phase, res.reason, res.promoted, res.version) == (
        "done",
        "not_promoted",
        False,
        "v2",
    )
    assert res.message.startswith("not promoted: regression set fell from")
    r = ModelRegistry(home.models_dir)
    assert r.active().version == 1 and r.get(2).status == "candidate"
    assert r.get(2).metrics["blends_tried"] == [1.0, 0.7, 0.5, 0.3]  # backed off, still refused
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1, rules=impossible, force=True))
    assert (res.reason, res.promoted, res.version) == ("forced", True, "v3")
    assert "(forced)" in res.message
    assert r.active().version == 3 and r.get(3).parent == 1
    assert r.get(3).metrics["blends_tried"] == [1.0]  # --force takes the first blend
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1, from_scratch=True, force=True))
    assert r.get(4).parent == 3 and r.get(4).metrics["from_scratch"] is True
    assert r.get(4).metrics["blends_tried"] == [1.0]  # nothing to blend with


def test_a_model_made_active_while_a_retrain_runs_stays_active(home, tiny):
    # helper-51: `models use v1` during a retrain, then the retrain promoted v3 over v2 anyway
    fill_store(home, tiny, pages=3)
    r = ModelRegistry(home.models_dir)
    rrun.retrain(home, rrun.RetrainOptions(epochs=1, force=True))
    assert r.active().version == 2

    def roll_back(event):
        if event.phase == "evaluating":
            r.use("v1")

    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1, force=True), progress=roll_back)
    assert (res.phase, res.reason, res.promoted, res.version) == (
        "done",
        "not_promoted",
        False,
        "v3",
    )
    assert res.active == "v1"
    assert "not promoted: v1 was made active while this ran, so v3 stays a candidate" in res.message
    assert r.active().version == 1 and r.get(3).status == "candidate"


def test_no_corrections_says_so_and_exits_cleanly(home, tiny, capfd):
    assert cli.main(["retrain", "--progress", "none"]) == 0
    assert capfd.readouterr().out.startswith("no corrections yet")
    assert cli.main(["retrain", "--progress", "json"]) == 0
    last = json.loads(capfd.readouterr().out.splitlines()[-1])
    assert last["phase"] == "failed" and last["reason"] == "no_corrections"
    assert last["promoted"] is False and last["version"] is None
    assert not home.store_path.exists()  # looking did not create an empty store
    assert ModelRegistry(home.models_dir).list()[-1].version == 1


def test_cancel_before_anything_is_registered(home, tiny):
    fill_store(home, tiny, pages=2)
    calls = []

    def stop_after_some_calls() -> bool:
        calls.append(1)
        return len(calls) > 3

    res = rrun.retrain(home, should_stop=stop_after_some_calls)
    assert (res.phase, res.reason, res.promoted) == ("failed", "cancelled", False)
    assert "v1 stays active" in res.message
    assert ModelRegistry(home.models_dir).active().version == 1
    assert models_files(home) == [".registry.lock", ".retrain.lock"] or models_files(home) == [
        ".retrain.lock"
    ]


_CHILD = """
import sys
from pathlib import Path
from digitpad import cli, registry
from digitpad.retrain import run
from digitpad.retrain.data import DataConfig
registry.shipped_model_path = lambda: Path(sys.argv[1])
run.DEFAULT_DATA = DataConfig(min_replay=110)
run.DEFAULT_REGRESSION_PAGES = 2
sys.exit(cli.main(["retrain", "--progress", "json", "--epochs", "500", "--max-seconds", "120"]))
"""


def test_sigterm_cancels_cleanly_and_leaves_the_active_model(home, tiny):
    fill_store(home, tiny, pages=3)
    r = ModelRegistry(home.models_dir)
    before = (r.registry_path.read_bytes() if r.registry_path.exists() else None, r.active())
    env = {**os.environ, "DIGITPAD_HOME": str(home.root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tiny)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env,
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(json.loads(line))
            if lines[-1]["phase"] == "train":
                proc.send_signal(signal.SIGTERM)  # mid-training, as the app's Cancel does
                break
        rest = proc.stdout.read()
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += [json.loads(x) for x in rest.splitlines()]
    assert lines[-1]["phase"] == "failed" and lines[-1]["reason"] == "cancelled"
    assert lines[-1]["promoted"] is False and "v1 stays active" in lines[-1]["message"]
    assert rc == 130
    after = r.registry_path.read_bytes() if r.registry_path.exists() else None
    assert after == before[0] and r.active() == before[1]
    # nothing half-written: no new version, no staging or temp files
    assert [n for n in models_files(home) if not n.endswith(".lock")] == (
        ["registry.json"] if after is not None else []
    )


def test_a_retrain_cut_by_its_time_limit_says_so(home, tiny):
    fill_store(home, tiny, pages=3)
    # max_seconds 0: the loop stops after its first step, as on a machine far too busy
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=3, max_seconds=0.0))
    assert res.version == "v2"
    assert re.search(r" \(training stopped at its 0 s limit after 1 of \d+ steps\)$", res.message)
    assert res.to_event().extra["stopped_at_time_limit"] is True
    entry = ModelRegistry(home.models_dir).get(2)
    assert entry.metrics["stopped_at_time_limit"] is True and entry.metrics["epochs"] == 1
    assert entry.message == res.message
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1, max_seconds=None, force=True))
    assert "training stopped" not in res.message
    assert res.to_event().extra["stopped_at_time_limit"] is False
    assert ModelRegistry(home.models_dir).get(3).metrics["stopped_at_time_limit"] is False


def test_a_time_limit_passing_with_the_last_step_is_no_stop():
    from digitpad.training.model import ModelConfig
    from digitpad.training.train import TrainConfig, train

    X = np.zeros((8, 1, 28, 28), np.float32)
    y = np.arange(8) % 11
    tiny_net = ModelConfig(widths=(4, 8, 8), hidden=8)
    cut = train(X, y, TrainConfig(epochs=2, batch_size=4, max_seconds=0.0, model=tiny_net))
    assert cut["metrics"]["stopped"] == "time"
    assert (cut["metrics"]["steps"], cut["metrics"]["total_steps"]) == (1, 4)
    # one step in all: the limit passes with the last step, which leaves nothing undone
    whole = train(
        X[:4], y[:4], TrainConfig(epochs=1, batch_size=4, max_seconds=0.0, model=tiny_net)
    )
    assert "stopped" not in whole["metrics"]


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf", "soon"])
def test_a_time_limit_that_is_no_time_is_a_usage_error(seconds, tmp_path, capsys):
    # -1 once trained one step and promoted it; nan never stopped
    with pytest.raises(SystemExit) as exc:
        cli.main(["--home", str(tmp_path), "retrain", "--max-seconds", seconds])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--max-seconds" in err and err.count("\n") == 1
    assert not (tmp_path / "models").exists()


def test_the_leftovers_of_a_killed_retrain_are_cleared_and_nothing_else(tmp_path):
    # mkstemp names a staging file's temp "." + ".staging-..." + random + ".tmp"
    leftovers = [
        "..staging-v2-9346.onnx.dlkn0d2v.tmp",
        ".staging-v2-9346.pt",
        ".digitpad-v2.onnx.x1y2z3.tmp",
    ]
    kept = ["digitpad-v1.onnx", "digitpad-v2.onnx", "registry.json", ".registry.lock"]
    for name in leftovers + kept:
        (tmp_path / name).write_bytes(b"x")
    rrun._clear_staging(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def test_a_full_disk_ends_the_json_protocol_with_a_failed_line(home, monkeypatch, capfd):
    # the app reads the last line; an OSError from writing a model must still give it one
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(home.models_dir / "digitpad-v2.onnx"))

    monkeypatch.setattr(rrun, "retrain", full)
    assert cli.main(["retrain", "--progress", "json"]) == 1
    last = json.loads(capfd.readouterr().out.splitlines()[-1])
    assert last["phase"] == "failed" and last["reason"] == "error"
    assert last["message"].startswith("No space left on device: ")
    assert "\n" not in last["message"]
    monkeypatch.setattr(rrun, "retrain", full)
    assert cli.main(["retrain", "--progress", "none"]) == 1
    err = capfd.readouterr().err
    assert err.startswith("digitpad: error: No space left on device") and err.count("\n") == 1


def test_a_second_ctrl_c_still_ends_the_json_protocol(home, monkeypatch, capfd):
    # helper-51: the second SIGINT's KeyboardInterrupt left a "train" line last
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rrun, "retrain", interrupted)
    assert cli.main(["retrain", "--progress", "json"]) == 130
    last = json.loads(capfd.readouterr().out.splitlines()[-1])
    assert (last["phase"], last["reason"]) == ("failed", "interrupted")
    assert "`digitpad models` shows which model is active" in last["message"]
    monkeypatch.setattr(rrun, "retrain", interrupted)
    assert cli.main(["retrain", "--progress", "none"]) == 130  # people see "interrupted"


def test_a_damaged_checkpoint_says_what_to_do(home, tiny, capfd):
    fill_store(home, tiny, pages=2)
    rrun.retrain(home, rrun.RetrainOptions(epochs=1, force=True))
    (home.models_dir / "digitpad-v2.pt").write_bytes(b"not a checkpoint")
    assert cli.main(["retrain", "--progress", "json"]) == 1
    last = json.loads(capfd.readouterr().out.splitlines()[-1])
    assert last["message"] == (
        "digitpad-v2.pt: not a readable checkpoint (UnpicklingError); retrain with "
        "--from-scratch, or make another version active (`digitpad models use`)"
    )
    res = rrun.retrain(home, rrun.RetrainOptions(epochs=1, from_scratch=True, force=True))
    assert res.promoted and res.version == "v3"


def test_a_page_file_that_cannot_be_read_is_left_out_with_a_warning(home, tiny, capfd):
    # helper-51: one damaged or missing page file stopped every retrain, and nothing could
    # drop it; now its boxes are left out of the retrain and the person is told
    fill_store(home, tiny, pages=3)
    pages = sorted((home.store_path.parent / "pages").iterdir())
    pages[0].unlink()
    assert cli.main(["retrain", "--progress", "json", "--epochs", "1"]) == 0
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    warned = [e["message"] for e in lines if e["phase"] == "warning"]
    assert len(warned) == 1 and warned[0].endswith("its boxes are left out")
    assert pages[0].stem[:12] in warned[0]
    assert lines[-1]["phase"] == "done"
