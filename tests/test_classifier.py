"""Classifier: loading errors, metadata, batched prediction of the shipped model."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from digitpad.classifier import Classifier
from digitpad.errors import ModelError
from digitpad.home import shipped_model_path
from digitpad.preprocess import preprocess_crop
from digitpad.training.drawn import draw_glyph


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Classifier.load(tmp_path / "nope.onnx")
    with pytest.raises(ModelError, match="is a folder, not a model file"):
        Classifier.load(tmp_path)


def test_corrupt_model_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 100)
    with pytest.raises(ModelError) as err:
        Classifier.load(bad)
    assert "\n" not in str(err.value)
    truncated = tmp_path / "half.onnx"
    truncated.write_bytes(shipped_model_path().read_bytes()[:2000])
    with pytest.raises(ModelError):
        Classifier.load(truncated)


def test_shipped_model_metadata_and_predict() -> None:
    clf = Classifier.load(shipped_model_path())
    assert clf.version == "v1"
    for key in ("classes", "created", "data", "validation"):
        assert clf.metadata.get(key), key
    assert shipped_model_path().stat().st_size <= 5 * 1024 * 1024
    rng = np.random.default_rng(0)
    batch = np.zeros((5, 1, 28, 28), np.float32)
    batch[1, 0] = preprocess_crop(draw_glyph("7", 60, rng))
    batch[3, 0] = preprocess_crop(draw_glyph("0", 60, rng))
    probs = clf.predict(batch)
    assert probs.shape == (5, 11) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert probs[1].argmax() == 7 and probs[3].argmax() == 0
    assert probs[0].argmax() == 10  # an empty crop is not a digit
    assert clf.predict(np.zeros((0, 1, 28, 28), np.float32)).shape == (0, 11)


def test_loading_a_model_imports_neither_opencv_nor_torch(run_python) -> None:
    # model load is on the app's start path; OpenCV (~45 ms to import) and torch are not needed
    code = (
        "import sys\n"
        "from digitpad.classifier import Classifier\n"
        "from digitpad.home import shipped_model_path\n"
        "Classifier.load(shipped_model_path())\n"
        "print(sorted(m for m in ('cv2', 'torch') if m in sys.modules))\n"
    )
    assert run_python(code) == "[]"


def test_session_uses_two_threads_idle_between_calls_and_a_batch_reads_like_single_crops() -> None:
    # two threads halve a page's inference; between calls the workers must sleep, not spin, so
    # the UI thread and a retrain beside us keep the other core
    clf = Classifier.load(shipped_model_path())
    opts = clf._session.get_session_options()
    assert opts.intra_op_num_threads == min(2, os.cpu_count() or 1)
    rng = np.random.default_rng(3)
    batch = np.stack([preprocess_crop(draw_glyph(d, 60, rng))[None] for d in "0123456789" * 3])
    together = clf.predict(batch)
    idle_from = time.process_time()
    time.sleep(0.2)
    # workers left spinning after the run burn about 50 ms of CPU here (measured); stopped, none
    assert time.process_time() - idle_from < 0.02
    alone = np.concatenate([clf.predict(batch[i : i + 1]) for i in range(len(batch))])
    assert np.allclose(together, alone, atol=1e-5)
