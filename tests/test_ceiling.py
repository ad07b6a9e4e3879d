"""The ceiling benchmark: truth readings of boxes, the unswapped variant equal to the
recogniser, and a clean error for a bad model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.ceiling import KINDS, main, mixed_reader, truth_reading
from benchmarks.recognise_bench import synthetic_accuracy
from digitpad.classifier import Classifier
from digitpad.home import shipped_model_path
from digitpad.recognise_service import PageReader, Recogniser, plan_candidates
from digitpad.segment import segment
from digitpad.synth.pages import generate_page, page_seed
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
    assert main(["--seeds", "9600000", "--pages", "10", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    exact = result["sets"]["9600000"]
    rec = Recogniser(Classifier.load(shipped_model_path()))
    # nothing swapped reads exactly what the recogniser itself reads
    assert exact["model"] == synthetic_accuracy(rec, 10, 9_600_000)["page_exact"]
    assert exact["truth"] > exact["model"]  # 8 of 10 pages against 7 of 10
    assert set(exact) == {"model", "truth"} | {
        f"{s}:{k}" for s in ("whole", "part") for k in ("digit", "two", "other")
    }
    assert result["gain_over_model"]["model"] == 0.0


def test_ceiling_bad_model_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ceiling.json"
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ceiling:") and "\n" not in err and not out.exists()


def test_mixed_reader_swaps_only_the_asked_stage() -> None:
    page = generate_page(page_seed(9_600_000, 0))  # 25 boxes, 2 touching digits: cuts to read
    seg = segment(page.image)
    h, w = page.image.shape[:2]
    whole = list(dict.fromkeys(seg.ink_boxes))
    parts = list(
        dict.fromkeys(
            b for c in plan_candidates(seg) for r in c.readings[1:] for b in r if b not in whole
        )
    )
    assert parts
    clf = Classifier.load(shipped_model_path())
    # the model's readings, as the recogniser reads the page: its own boxes first, then parts
    reader = PageReader(clf, seg)
    model = {"whole": reader(whole), "part": reader(parts)}
    boxes = {"whole": whole, "part": parts}
    for stage, other in (("whole", "part"), ("part", "whole")):
        read = mixed_reader(seg, page, clf, frozenset((stage, k) for k in KINDS))
        got = {s: read(boxes[s]) for s in ("whole", "part")}  # in the recogniser's order
        pages = [seg.to_page(b, w, h) for b in boxes[stage]]
        assert np.array_equal(got[stage], truth_reading(pages, page.annotations)[0])
        assert np.array_equal(got[other], model[other])  # the other stage is the model's
    # one kind only: the whole boxes that are one digit
    truth, kinds = truth_reading([seg.to_page(b, w, h) for b in whole], page.annotations)
    got = mixed_reader(seg, page, clf, frozenset({("whole", "digit")}))(whole)
    is_digit = np.array([k == "digit" for k in kinds])
    assert is_digit.any() and not is_digit.all()
    assert np.array_equal(got[is_digit], truth[is_digit])
    assert np.array_equal(got[~is_digit], model["whole"][~is_digit])
