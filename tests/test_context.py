"""The context stage: box features, its training, its export and how the recogniser uses it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from digitpad.classifier import Classifier
from digitpad.context import FEATURES, N_FEATURES, WIDTH, box_features, context_input
from digitpad.errors import ModelError
from digitpad.recognise_service import PageReader, Recogniser, read_segmented
from digitpad.segment import segment
from digitpad.training.context import collect, train_context
from digitpad.training.data import truth_reading
from digitpad.training.export import export_onnx
from digitpad.training.model import ContextConfig, ContextNet, ModelConfig
from digitpad.training.train import TrainConfig, train
from digitpad.types import CLASSES, CONTEXT_WIDTH, Box, SynthPage

TINY = ModelConfig(widths=(4, 8, 8), convs=(1, 1, 1), hidden=16)
F = {name: k for k, name in enumerate(FEATURES)}


def _sure(label: int, n: int = 1, p: float = 0.97) -> np.ndarray:
    probs = np.full((n, len(CLASSES)), (1 - p) / (len(CLASSES) - 1), np.float32)
    probs[:, label] = p
    return probs


def _tiny_checkpoint(context: dict | None = None) -> dict:
    X = np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)
    y = np.arange(16) % len(CLASSES)
    ckpt = train(X, y, TrainConfig(epochs=1, batch_size=8, model=TINY, augment=False))
    if context is not None:
        ckpt["context"] = context
    return ckpt


def _stage(net: ContextNet) -> dict:
    return {"config": net.config.to_dict(), "state_dict": net.state_dict(), "metrics": {}}


def test_the_row_width_counts_the_probabilities_and_every_feature() -> None:
    assert WIDTH == CONTEXT_WIDTH == len(CLASSES) + N_FEATURES == len(CLASSES) + len(FEATURES)


def test_features_of_a_dot_beside_digits_of_a_row() -> None:
    ink = np.zeros((100, 300), np.uint8)
    digits = [Box(10 + 40 * k, 20, 35 + 40 * k, 70) for k in range(4)]
    dot = Box(180, 62, 186, 70)
    for b in [*digits, dot]:
        ink[b.y0 : b.y1, b.x0 : b.x1] = 200
    whole = [*digits, dot]
    probs = np.concatenate([_sure(3, 4), _sure(0, 1, 0.5)])
    feats = box_features(ink, whole, whole, probs)
    assert feats.shape == (5, N_FEATURES) and feats.dtype == np.float32
    assert np.allclose(feats[:4, F["log_height_vs_page"]], 0.0)
    assert feats[4, F["log_height_vs_page"]] == pytest.approx(np.log(8 / 50))
    assert feats[4, F["bottom_vs_row"]] == pytest.approx(0.0)  # sits on the row's base line
    assert feats[4, F["top_vs_row"]] == pytest.approx(42 / 50)
    assert np.allclose(feats[:, F["ink_fill"]], 1.0)
    assert np.allclose(feats[:, F["ink_strength"]], 200 / 255)
    assert feats[0, F["neighbour_gap"]] == pytest.approx(15 / 50)
    assert feats[4, F["neighbour_gap"]] == pytest.approx(25 / 8)  # the last digit, 25 px away
    assert feats[0, F["sure_share"]] == pytest.approx(0.8)
    assert not feats[:, F["is_part"]].any()


def test_parts_are_flagged_and_a_page_without_sure_digits_still_has_a_scale() -> None:
    ink = np.full((40, 60), 255, np.uint8)
    whole = [Box(0, 0, 30, 40)]
    parts = [Box(0, 0, 15, 40), Box(15, 0, 30, 40)]
    unsure = _sure(7, 1, 0.4)
    feats = box_features(ink, [*whole, *parts], whole, unsure, np.array([True, False, False]))
    assert feats[:, F["is_part"]].tolist() == [0.0, 1.0, 1.0]
    assert np.isfinite(feats).all()
    assert feats[0, F["log_height_vs_page"]] == 0.0  # the median of all boxes: itself
    assert feats[0, F["neighbour_gap"]] == 10.0 and feats[0, F["neighbour_height"]] == 0.0
    assert box_features(ink, [], whole, unsure).shape == (0, N_FEATURES)


def test_context_input_puts_probabilities_before_features() -> None:
    probs, feats = _sure(2, 3), np.ones((3, N_FEATURES), np.float32)
    rows = context_input(probs, feats)
    assert rows.shape == (3, WIDTH) and rows.dtype == np.float32
    assert np.array_equal(rows[:, : len(CLASSES)], probs)


def test_a_fresh_stage_changes_nothing_and_training_learns_what_the_page_says() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    probs = _sure(1, n, 0.8)
    feats = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    rows = context_input(probs, feats)
    # the page says: a box far smaller than the page's digits is no "1", whatever it looks like
    labels = np.where(feats[:, F["log_height_vs_page"]] < -0.5, len(CLASSES) - 1, 1)
    with torch.no_grad():
        fresh = torch.softmax(ContextNet()(torch.from_numpy(rows)), dim=1).numpy()
    assert np.allclose(fresh, probs, atol=1e-6)
    stage = train_context(rows, labels)
    m = stage["metrics"]
    assert m["held_out_acc_classifier"] < 0.75 and m["held_out_acc"] > 0.95
    assert set(stage) >= {"config", "state_dict", "metrics"}
    with pytest.raises(ValueError):
        train_context(rows[:0], labels[:0])


def test_export_with_a_stage_gives_two_branches_and_the_same_probabilities(tmp_path) -> None:
    net = ContextNet(ContextConfig())
    with torch.no_grad():
        net.mlp[-1].bias[len(CLASSES) - 1] = 8.0  # this stage favours "not a digit"
    ckpt = _tiny_checkpoint(_stage(net))
    export_onnx(ckpt, tmp_path / "with.onnx", version="v9", metadata={})
    bare = {k: v for k, v in ckpt.items() if k != "context"}
    export_onnx(bare, tmp_path / "bare.onnx", version="v9", metadata={})
    with_, bare_ = Classifier.load(tmp_path / "with.onnx"), Classifier.load(tmp_path / "bare.onnx")
    assert with_.has_context and not bare_.has_context and "context" in with_.metadata
    x = np.random.default_rng(1).random((3, 1, 28, 28), dtype=np.float32)
    assert np.allclose(with_.predict(x), bare_.predict(x), atol=1e-6)
    rows = context_input(_sure(4, 2), np.zeros((2, N_FEATURES), np.float32))
    again = with_.rerank(rows)
    assert again.shape == (2, 11) and np.allclose(again.sum(axis=1), 1.0, atol=1e-5)
    assert (again[:, -1] > 0.5).all()
    assert np.array_equal(bare_.rerank(rows), rows[:, : len(CLASSES)])  # no stage: unchanged
    assert with_.rerank(rows[:0]).shape == (0, 11)


def test_a_model_with_a_wrong_context_width_is_refused(tmp_path) -> None:
    net = ContextNet(ContextConfig(n_features=N_FEATURES + 1))
    ckpt = _tiny_checkpoint(_stage(net))
    # export the mismatched graph by hand: export_onnx would build it from CONTEXT_WIDTH
    from digitpad.training.model import WithContext
    from digitpad.training.train import build_model

    graph = WithContext(build_model(ckpt), net).eval()
    path = tmp_path / "wide.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the exporter export_onnx uses
        torch.onnx.export(
            graph,
            (torch.zeros(1, 1, 28, 28), torch.zeros(1, WIDTH + 1)),
            str(path),
            input_names=["crops", "context"],
            output_names=["probs", "reranked"],
            dynamic_axes={"crops": {0: "n"}, "context": {0: "m"}},
            dynamo=False,
        )
    with pytest.raises(ModelError, match="context shape"):
        Classifier.load(path)


def test_fine_tuning_carries_the_stage_over() -> None:
    stage = _stage(ContextNet())
    ckpt = _tiny_checkpoint(stage)
    X = np.random.default_rng(2).random((8, 1, 28, 28), dtype=np.float32)
    tuned = train(X, np.arange(8), TrainConfig(epochs=1, batch_size=8), init=ckpt)
    assert tuned["context"] is stage
    assert "context" not in train(X, np.arange(8), TrainConfig(epochs=1, model=TINY))


@pytest.fixture(scope="module")
def page() -> SynthPage:
    from digitpad.synth.pages import generate_pages

    return next(iter(generate_pages(1, 4242)))


def test_the_reader_reads_whole_boxes_first_and_records_its_rows(page, tmp_path) -> None:
    ckpt = _tiny_checkpoint(_stage(ContextNet()))
    export_onnx(ckpt, tmp_path / "m.onnx", version="v9", metadata={})
    clf = Classifier.load(tmp_path / "m.onnx")
    seg = segment(page.image)
    reader = PageReader(clf, seg, record=True)
    read_segmented(seg, reader)
    first_boxes, first_rows = reader.rows[0]
    assert first_boxes == list(dict.fromkeys(seg.ink_boxes))
    assert not first_rows[:, len(CLASSES) + F["is_part"]].any()
    for boxes, rows in reader.rows[1:]:  # parts of cuts (and unions of fragments): flagged
        assert rows[:, len(CLASSES) + F["is_part"]].all() and len(rows) == len(boxes)
    # a stage that changes nothing reads the page as the classifier alone does
    bare = Classifier.load(_export_bare(ckpt, tmp_path))
    a = Recogniser(clf).recognise(page.image)
    b = Recogniser(bare).recognise(page.image)
    assert [(d.box, d.label) for d in a.digits] == [(d.box, d.label) for d in b.digits]


def _export_bare(ckpt: dict, tmp_path) -> str:
    path = tmp_path / "bare.onnx"
    export_onnx({k: v for k, v in ckpt.items() if k != "context"}, path, version="v9", metadata={})
    return str(path)


def test_collect_labels_every_box_read_from_the_truth(page) -> None:
    clf = Classifier.load("models/digitpad-v1.onnx")
    rows, labels = collect(clf, [page])
    assert rows.shape[1] == WIDTH and len(rows) == len(labels) > 0
    seg = segment(page.image)
    whole = list(dict.fromkeys(seg.ink_boxes))
    h, w = page.image.shape[:2]
    truth, _ = truth_reading([seg.to_page(b, w, h) for b in whole], page.annotations)
    assert np.array_equal(labels[: len(whole)], truth.argmax(axis=1))
    assert set(labels.tolist()) > {len(CLASSES) - 1}  # digits and "not a digit"


def test_stage_pages_mix_full_pages_with_plain_lone_and_sparse_ones() -> None:
    from digitpad.training.context import FULL_PAGES_IN_TEN, stage_pages

    pages = list(stage_pages(30, 7))
    plain = [p for i, p in enumerate(pages) if i % 10 >= FULL_PAGES_IN_TEN]
    assert all(p.meta.get("source") == "drawn" for p in plain)
    assert all(p.meta.get("source") != "drawn" for i, p in enumerate(pages) if i % 10 < 7)
    digits = [sum(a.is_digit for a in p.annotations) for p in plain]
    assert 1 in digits and max(digits) > 1
    again = list(stage_pages(30, 7))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(pages, again, strict=True))


def test_the_recogniser_reads_through_the_stage(page, tmp_path) -> None:
    """A stage that is sure nothing is a digit leaves the recogniser no digits: the stage's
    output, not the classifier's, is what the recogniser decides on."""
    net = ContextNet()
    with torch.no_grad():
        net.mlp[-1].bias[len(CLASSES) - 1] = 30.0
    export_onnx(_tiny_checkpoint(_stage(net)), tmp_path / "no.onnx", version="v9", metadata={})
    assert Recogniser(Classifier.load(tmp_path / "no.onnx")).recognise(page.image).digits == ()
    assert Recogniser(Classifier.load("models/digitpad-v1.onnx")).recognise(page.image).digits


def test_a_page_reader_refuses_to_start_with_other_boxes(page) -> None:
    seg = segment(page.image)
    reader = PageReader(Classifier.load("models/digitpad-v1.onnx"), seg)
    whole = list(dict.fromkeys(seg.ink_boxes))
    with pytest.raises(ValueError, match="own boxes first"):
        reader(whole[1:])
    assert reader(whole).shape == (len(whole), len(CLASSES))
    assert reader(whole[:2]).shape == (2, len(CLASSES))  # later calls read any boxes


def test_features_reuse_given_integrals_and_a_blend_keeps_the_stage(tmp_path) -> None:
    from digitpad.context import ink_integrals
    from digitpad.retrain.run import blend_weights

    ink = (np.random.default_rng(3).random((60, 80)) * 255).astype(np.uint8)
    boxes = [Box(0, 0, 20, 30), Box(30, 5, 50, 40), Box(31, 6, 40, 40)]
    probs = _sure(5, 3)
    a = box_features(ink, boxes, boxes[:2], probs[:2], np.array([True, True, False]))
    b = box_features(
        ink, boxes, boxes[:2], probs[:2], np.array([True, True, False]), ink_integrals(ink)
    )
    assert np.array_equal(a, b)
    stage = _stage(ContextNet())
    before = _tiny_checkpoint(stage)
    X = np.random.default_rng(4).random((8, 1, 28, 28), dtype=np.float32)
    tuned = train(X, np.arange(8), TrainConfig(epochs=1, batch_size=8), init=before)
    export_onnx(blend_weights(before, tuned, 0.5), tmp_path / "v2.onnx", version="v2", metadata={})
    assert Classifier.load(tmp_path / "v2.onnx").has_context


def test_masked_median_matches_nanmedian() -> None:
    import warnings

    from digitpad.context import _masked_median

    rng = np.random.default_rng(5)
    for t in range(300):
        # numpy's nanmedian takes another path from 600 columns on; fractions lock the rounding
        n, m = int(rng.integers(0, 6)), int(rng.integers(0, 12) if t % 10 else 700)
        values = rng.integers(0, 200, m).astype(np.float32)
        if t % 3 == 0:
            values = (rng.random(m) * 150).astype(np.float32)
        mask = rng.random((n, m)) < 0.5
        fallback = rng.integers(1, 50, n).astype(np.float32) if t % 2 else 7.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            v = np.where(mask, values[None, :], np.nan)
            ref = np.nanmedian(v, axis=1) if m else np.full(n, np.nan)
        want = np.where(np.isnan(ref), fallback, ref)
        got = _masked_median(values, mask, fallback)
        assert got.dtype == want.dtype and np.array_equal(got, want)
