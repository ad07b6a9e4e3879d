"""Training smoke test: tiny train, export to ONNX, load through the inference Classifier."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import onnx
import pytest

from digitpad.classifier import Classifier
from digitpad.errors import ModelError
from digitpad.preprocess import preprocess_crop
from digitpad.training.data import (
    bitmap_from_counts,
    crops_for_boxes,
    crops_from_pages,
    label_boxes,
)
from digitpad.training.drawn import SYMBOLS, draw_page, draw_symbol
from digitpad.training.export import export_onnx, load_checkpoint, save_checkpoint
from digitpad.training.model import ModelConfig
from digitpad.training.train import TrainConfig, predict_proba, train
from digitpad.types import CONTEXT_WIDTH, NOT_DIGIT, Annotation, Box

TINY = ModelConfig(widths=(4, 8, 8), convs=(1, 1, 1), hidden=16)


@pytest.fixture(scope="module")
def crops() -> tuple[np.ndarray, np.ndarray]:
    return crops_from_pages(draw_page(s, n_digits=15, distractors=3) for s in range(6))


def test_crops_are_labelled_from_ground_truth(crops) -> None:
    X, y = crops
    assert X.shape[1:] == (1, 28, 28) and X.dtype == np.float32
    assert len(X) == len(y) and len(set(y.tolist())) >= 6
    assert (y == 10).any()  # distractors become not_digit
    assert X.min() >= 0.0 and X.max() <= 1.0


def test_label_boxes_by_iou() -> None:
    anns = [
        Annotation(Box(0, 0, 10, 20), "7"),
        Annotation(Box(50, 0, 60, 20), NOT_DIGIT, "dot"),
        Annotation(Box(200, 0, 203, 20), NOT_DIGIT, "quote"),
    ]
    boxes = [
        Box(0, 0, 10, 20),  # the 7
        Box(0, 0, 10, 9),  # half of it: ambiguous
        Box(50, 0, 60, 20),  # the drawn mark
        Box(100, 0, 110, 20),  # unmatched
        Box(150, 0, 153, 20),  # an unmatched thin stroke looks like a 1: skipped
        Box(200, 0, 203, 20),  # a thin drawn mark stays not-a-digit
    ]
    assert label_boxes(boxes, anns).tolist() == [7, -1, 10, 10, -1, 10]
    pair = [Annotation(Box(0, 0, 10, 20), "1"), Annotation(Box(9, 0, 16, 20), "1")]
    assert label_boxes([Box(0, 0, 16, 20)], pair).tolist() == [10]  # "11" kept whole


def test_crops_for_boxes_matches_page_pixels() -> None:
    page = draw_page(1, n_digits=5)
    X = crops_for_boxes(page.image, [a.box for a in page.digits])
    assert X.shape == (len(page.digits), 1, 28, 28)
    assert (X.reshape(len(X), -1).max(axis=1) > 0.5).all()


def test_train_export_load_predict(crops, tmp_path) -> None:
    X, y = crops
    events = []
    ckpt = train(
        X,
        y,
        TrainConfig(epochs=2, batch_size=64, seed=1, model=TINY),
        X_val=X[:50],
        y_val=y[:50],
        progress=events.append,
    )
    assert {"model_config", "state_dict", "train_config", "epoch", "metrics"} <= ckpt.keys()
    assert ckpt["epoch"] == 2 and events and events[-1].epoch == 2
    assert 0.0 <= ckpt["metrics"]["val_acc"] <= 1.0

    pt = tmp_path / "m.pt"
    save_checkpoint(ckpt, pt)
    again = load_checkpoint(pt)
    assert np.allclose(predict_proba(again, X[:8]), predict_proba(ckpt, X[:8]), atol=1e-5)

    path = tmp_path / "m.onnx"
    export_onnx(ckpt, path, version="v7", metadata={"data": "drawn test pages"})
    assert not list(tmp_path.glob(".m.onnx.*"))  # no temp file left behind
    clf = Classifier.load(path)
    assert clf.version == "v7" and clf.metadata["data"] == "drawn test pages"
    assert "created" in clf.metadata and clf.metadata["classes"].startswith("0,1,2")
    probs = clf.predict(X[:8])
    assert probs.shape == (8, 11)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(probs, predict_proba(ckpt, X[:8]), atol=1e-4)  # ONNX == torch


def test_fine_tune_from_checkpoint_and_stop(crops) -> None:
    X, y = crops
    base = train(X[:200], y[:200], TrainConfig(epochs=1, model=TINY))
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    tuned = train(X, y, TrainConfig(epochs=3), init=base, should_stop=stop)
    assert tuned["metrics"]["stopped"] == "cancelled"
    assert (
        tuned["model_config"]["widths"] == list(TINY.widths)
        or tuple(tuned["model_config"]["widths"]) == TINY.widths
    )


def test_bad_checkpoint_is_a_model_error(tmp_path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError):
        load_checkpoint(bad)
    with pytest.raises(ModelError):
        load_checkpoint(tmp_path / "missing.pt")


def test_exported_model_is_small(crops, tmp_path) -> None:
    X, y = crops
    ckpt = train(X[:64], y[:64], TrainConfig(epochs=1))  # the default (shipped) architecture
    path = tmp_path / "full.onnx"
    export_onnx(ckpt, path, version="v1", metadata={})
    assert path.stat().st_size <= 5 * 1024 * 1024
    onnx.checker.check_model(str(path))


def test_bitmap_from_counts_rebuilds_the_strokes() -> None:
    # a thick "7" on a 32x32 bitmap, reduced as optdigits does: ink pixels per 4x4 block
    bitmap = np.zeros((32, 32), np.uint8)
    cv2.line(bitmap, (6, 3), (26, 3), 1, 4)
    cv2.line(bitmap, (26, 3), (12, 30), 1, 4)
    counts = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float64)
    original = preprocess_crop(bitmap.astype(np.float32))
    for seed in range(5):
        rng = np.random.default_rng(seed)
        rebuilt = preprocess_crop(bitmap_from_counts(counts, rng))
        # the same digit up to a writer's slant and pen width; a transposed one is unrelated
        assert np.corrcoef(original.ravel(), rebuilt.ravel())[0, 1] > 0.6
        flipped = preprocess_crop(bitmap_from_counts(counts.T, rng))
        assert np.corrcoef(original.ravel(), flipped.ravel())[0, 1] < 0.3


def test_bitmap_from_counts_keeps_strokes_at_the_edge() -> None:
    # a bar down the bitmap's left edge, as in optdigits (digits are stretched to their box):
    # the widest stretch and shear must not push it off the canvas
    counts = np.zeros((8, 8))
    counts[:, 0] = 16
    for seed in range(40):
        rng = np.random.default_rng(seed)
        out = bitmap_from_counts(counts, rng)
        assert out[:, 0].max() < 0.15 and out[0].max() < 0.15
        assert out[:, -1].max() < 0.15 and out[-1].max() < 0.15


def test_build_data_renders_each_sklearn_digit_as_often_as_asked() -> None:
    from digitpad.progress import null_sink
    from digitpad.training.build_shipped import build_data

    X, y, counts = build_data(2, 5, null_sink, digit_variants=2)
    n = counts["sklearn_digits"]
    assert n == 2 * 1797 and len(y) == sum(counts.values()) == len(X)
    first, second = X[-n : -n // 2], X[-n // 2 :]
    assert np.array_equal(y[-n : -n // 2], y[-n // 2 :])  # the same digits, in the same order...
    assert not np.array_equal(first, second)  # ...rendered with other pens and slants


def test_build_takes_the_network_shape(tmp_path) -> None:
    from digitpad.progress import null_sink
    from digitpad.training.build_shipped import build

    summary = build(
        tmp_path,
        pages=2,
        epochs=1,
        digit_variants=1,
        convs=(1, 2, 2),
        context_pages=0,
        progress=null_sink,
    )
    ckpt = load_checkpoint(tmp_path / "digitpad-v1.pt")
    assert tuple(ckpt["model_config"]["convs"]) == (1, 2, 2)
    # what the weights' rounding depends on travels with them, in the checkpoint and the file
    env = ckpt["built_with"]
    assert env["torch_cpu_capability"] and env["torch"] and env["cpu"]
    assert json.loads(Classifier.load(summary["onnx"]).metadata["built_with"]) == env
    probs = Classifier.load(summary["onnx"]).predict(np.zeros((2, 1, 28, 28), np.float32))
    assert probs.shape == (2, 11)
    assert not Classifier.load(summary["onnx"]).has_context  # context_pages=0: none
    # the letter and ones pages are part of the recipe (HISTORY, 2026-12-07)
    assert {"letter_pages", "ones_pages"} <= set(summary["sources"])


@pytest.mark.parametrize("bad", ["1,2", "1,0,2", "a,b,c"])
def test_build_refuses_a_bad_network_shape(bad: str, capsys) -> None:
    from digitpad.training.build_shipped import main

    with pytest.raises(SystemExit) as stop:
        main(["--convs", bad])
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--convs" in last and bad in last


def test_build_refuses_to_compare_with_the_checkpoint_it_writes(tmp_path, capsys) -> None:
    from digitpad.training.build_shipped import main

    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path), "--compare", str(tmp_path / "digitpad-v1.pt")])
    assert stop.value.code == 2
    assert "--compare" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not any(tmp_path.iterdir())  # refused before building anything


def test_build_refuses_an_unreadable_classifier_before_building(tmp_path, capsys) -> None:
    from digitpad.training.build_shipped import main

    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "out"), "--classifier", str(tmp_path / "none.pt")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("--classifier: checkpoint not found: " + str(tmp_path / "none.pt"))
    assert not (tmp_path / "out").exists()


def test_build_refuses_an_out_that_is_a_file_before_building(tmp_path, capsys) -> None:
    from digitpad.training.build_shipped import main

    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "taken"), "--pages", "2"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m digitpad.training.build_shipped: error: --out:")
    assert "Traceback" not in "\n".join(err)


@pytest.mark.parametrize("content", [None, b"junk"])
def test_build_refuses_a_missing_or_damaged_compare_before_building(
    tmp_path, capsys, content: bytes | None
) -> None:
    from digitpad.training.build_shipped import main

    target = tmp_path / "shipped.pt"
    if content is not None:
        target.write_bytes(content)
    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "out"), "--compare", str(target)])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    why = "not a readable checkpoint" if content else f"checkpoint not found: {target}"
    assert err[-1].startswith("python -m digitpad.training.build_shipped: error: --compare: ")
    assert why in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "out").exists()  # refused before building anything


def test_build_is_deterministic(tmp_path, capsys) -> None:
    """The same code and seed give the same weights, context stage included: what lets `make
    model` reproduce the shipped model (a full build is the same call with more pages), and
    what its check against the shipped checkpoint reports."""
    import torch

    from digitpad.progress import null_sink
    from digitpad.training.build_shipped import build, main
    from digitpad.training.provenance import compare_with

    build(tmp_path / "a", pages=2, epochs=1, digit_variants=1, context_pages=3, progress=null_sink)
    # b is checked against a copy of a with one weight nudged by a rounding step
    shipped = load_checkpoint(tmp_path / "a" / "digitpad-v1.pt")
    name, first = next(iter(shipped["state_dict"].items()))
    nudged = first.clone().reshape(-1)
    nudged[0] = torch.nextafter(nudged[0], torch.tensor(9.0))
    shipped["state_dict"][name] = nudged.reshape(first.shape)
    save_checkpoint(shipped, tmp_path / "nudged.pt")
    tiny = ["--pages", "2", "--epochs", "1", "--digit-variants", "1", "--context-pages", "3"]
    assert (
        main([*tiny, "--out", str(tmp_path / "b"), "--compare", str(tmp_path / "nudged.pt")]) == 0
    )
    report = capsys.readouterr().out.strip().splitlines()[-6:]
    assert report[0].endswith(f"in 1 of its weights (classifier: {name})")
    assert report[0].startswith("not reproduced:") and "recipe: the same" in report[3]
    same, text = compare_with(tmp_path / "b" / "digitpad-v1.pt", tmp_path / "a" / "digitpad-v1.pt")
    assert same and text.startswith("reproduced:")
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    ca = Classifier.load(tmp_path / "a" / "digitpad-v1.onnx")
    cb = Classifier.load(tmp_path / "b" / "digitpad-v1.onnx")
    assert ca.has_context and cb.has_context
    assert np.array_equal(ca.predict(x), cb.predict(x))
    rows = np.random.default_rng(1).random((5, CONTEXT_WIDTH), dtype=np.float32)
    assert np.array_equal(ca.rerank(rows), cb.rerank(rows))


def test_symbol_pages_label_every_printed_symbol_not_a_digit() -> None:
    page = draw_page(5, n_digits=6, distractors=8, mark=draw_symbol)
    marks = [a for a in page.annotations if not a.is_digit]
    assert marks and all(a.kind == "symbol" and a.label == NOT_DIGIT for a in marks)
    assert not set(SYMBOLS) & set("/|!()[]1")  # no mark a crop cannot tell from a 1
    default = draw_page(5, n_digits=6, distractors=8)
    assert {a.kind for a in default.annotations if not a.is_digit} <= {"letter", "dot", "dash"}


def test_letter_pages_label_every_handwritten_letter_not_a_digit() -> None:
    from digitpad.synth.letters import LETTERS
    from digitpad.training.data import synth_glyph, synth_letter

    page = draw_page(5, n_digits=6, distractors=10, glyph=synth_glyph, mark=synth_letter)
    marks = [a for a in page.annotations if not a.is_digit]
    assert len(marks) >= 5 and all(a.kind == "letter" and a.label == NOT_DIGIT for a in marks)
    # the generator's letters leave out every one written like a digit (O, l, S, Z, B...)
    assert not {lt.char for lt in LETTERS} & set("OoIlSZBgqЗбЧ")
    ink, kind = synth_letter(30, np.random.default_rng(3))
    assert kind == "letter" and ink.dtype == np.float32
    assert ink[0].max() > 0.05 and ink[:, 0].max() > 0.05  # cropped tight to its ink


def test_build_data_adds_letter_pages_only_when_asked() -> None:
    from digitpad.progress import null_sink
    from digitpad.training.build_shipped import build_data

    X, y, counts = build_data(10, 5, null_sink, digit_variants=1, letter_pages=True)
    n = counts["letter_pages"]
    assert n > 0 and len(y) == sum(counts.values()) == len(X)
    assert (y[-n:] == 10).mean() > 0.4  # about half the source's crops: letters and their parts
    X0, y0, without = build_data(10, 5, null_sink, digit_variants=1)
    assert "letter_pages" not in without
    assert {k: v for k, v in counts.items() if k != "letter_pages"} == without
    # the other sources' crops come first and are what they are without the letter pages
    assert np.array_equal(X[:-n], X0) and np.array_equal(y[:-n], y0)


def test_build_with_letter_and_ones_pages_says_so_in_the_model(tmp_path, capsys) -> None:
    from digitpad.training.build_shipped import main

    tiny = ["--pages", "2", "--epochs", "1", "--digit-variants", "1", "--context-pages", "0"]
    assert main([*tiny, "--letter-pages", "--ones-pages", "--out", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    data = Classifier.load(tmp_path / "digitpad-v1.onnx").metadata["data"]
    for source in ("letter_pages", "ones_pages"):
        assert summary["sources"][source] > 0
        assert f"{source}={summary['sources'][source]}" in data


def test_the_recipe_asks_for_letter_and_ones_pages_and_seven_renderings(
    tmp_path, monkeypatch
) -> None:
    import inspect

    from digitpad.training import build_shipped

    signature = inspect.signature(build_shipped.build)
    asked: list[dict] = []
    monkeypatch.setattr(build_shipped, "build", lambda out, **kw: asked.append(kw) or {})
    out = ["--out", str(tmp_path)]
    assert build_shipped.main(out) == 0
    assert (
        build_shipped.main([*out, "--no-letter-pages", "--no-ones-pages", "--digit-variants", "6"])
        == 0
    )
    keys = ("letter_pages", "ones_pages", "digit_variants")
    assert [tuple(kw[k] for k in keys) for kw in asked] == [(True, True, 7), (False, False, 6)]
    assert all(kw["symbol_pages"] for kw in asked)
    # the library's build() is the same recipe as `make model`
    defaults = {k: v.default for k, v in signature.parameters.items()}
    assert tuple(defaults[k] for k in keys) == (True, True, 7)


def test_draw_page_draws_its_digits_from_the_labels_given() -> None:
    ones = draw_page(5, n_digits=12, labels="1")
    assert [a.label for a in ones.annotations] == ["1"] * 12
    # the default is the ten digits, drawn exactly as before the option existed
    default, spelled = draw_page(5, n_digits=12), draw_page(5, n_digits=12, labels="0123456789")
    assert default.annotations == spelled.annotations
    assert np.array_equal(default.image, spelled.image)
    # what a26bb6b, before the option, drew for this page
    assert "".join(a.label for a in default.annotations) == "126884278966"
    assert hashlib.sha256(default.image.tobytes()).hexdigest()[:16] == "9c9ce80030892142"
    for bad in ("", "1a", ("1", "10")):
        with pytest.raises(ValueError, match="labels must be digits"):
            draw_page(5, labels=bad)


def test_build_data_adds_ones_pages_only_when_asked() -> None:
    from digitpad.progress import null_sink
    from digitpad.training.build_shipped import build_data

    X, y, counts = build_data(10, 5, null_sink, digit_variants=1, ones_pages=True)
    n = counts["ones_pages"]
    assert n > 0 and len(y) == sum(counts.values()) == len(X)
    digits = y[-n:][y[-n:] < 10]
    # a 1 seven times in sixteen: far more than any other digit's one in sixteen
    assert (digits == 1).mean() > 0.3
    assert np.bincount(digits, minlength=10).argmax() == 1
    assert (y[-n:] == 10).any()  # the letters beside them
    X0, y0, without = build_data(10, 5, null_sink, digit_variants=1)
    assert "ones_pages" not in without
    assert {k: v for k, v in counts.items() if k != "ones_pages"} == without
    assert np.array_equal(X[:-n], X0) and np.array_equal(y[:-n], y0)
