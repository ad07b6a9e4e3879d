"""The ceiling benchmark: truth readings of boxes, the unswapped variant equal to the
recogniser, and a clean error for a bad model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.ceiling import main, truth_reading
from benchmarks.recognise_bench import synthetic_accuracy
from digitpad.classifier import Classifier
from digitpad.home import shipped_model_path
from digitpad.recognise_service import Recogniser
from digitpad.types import CLASSES, NOT_DIGIT, Annotation, Box


def test_truth_reading_labels_digits_pairs_and_the_rest() -> None:
    seven = Annotation(Box(10, 10, 30, 50), "7", touching=True)
    two = Annotation(Box(28, 10, 50, 50), "2", touching=True)
    letter = Annotation(Box(100, 10, 120, 50), NOT_DIGIT, kind="letter")
    boxes = [Box(11, 10, 30, 50), Box(10, 10, 50, 50), Box(100, 10, 120, 50), Box(12, 30, 20, 50)]
    probs, kinds = truth_reading(boxes, [seven, two, letter])
    assert kinds == ["digit", "two", "other", "other"]
    assert [CLASSES[i] for i in probs.argmax(axis=1)] == ["7", NOT_DIGIT, NOT_DIGIT, NOT_DIGIT]
    assert np.allclose(probs.sum(axis=1), 1.0) and np.all(probs.max(axis=1) == 1.0)


def test_model_variant_is_the_recogniser_and_truth_reads_more(tmp_path: Path) -> None:
    out = tmp_path / "ceiling.json"
    assert main(["--seeds", "9600000", "--pages", "6", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    exact = result["sets"]["9600000"]
    rec = Recogniser(Classifier.load(shipped_model_path()))
    # nothing swapped reads exactly what the recogniser itself reads
    assert exact["model"] == synthetic_accuracy(rec, 6, 9_600_000)["page_exact"]
    assert exact["truth"] >= exact["model"]
    assert set(exact) == {"model", "truth"} | {
        f"{s}:{k}" for s in ("whole", "part") for k in ("digit", "two", "other")
    }
    assert result["gain_over_model"]["model"] == 0.0


def test_ceiling_bad_model_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ceiling.json"
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ceiling:") and "\n" not in err and not out.exists()
