"""A box the segmenter grouped from pieces of ink that do not touch is also read as those
pieces, one box each (``segment.component_parts``): a dash beside a 9 whose tail curls under
it was one box that read "not a digit", and the 9 was lost."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import digitpad.recognise_service as recognise_service
from digitpad.recognise_service import Recogniser, plan_candidates, read_segmented
from digitpad.segment import MIN_HEIGHT, component_parts, segment
from digitpad.types import NOT_DIGIT_INDEX, Box


def _dash_and_nine() -> np.ndarray:
    """ "35" in a font, then a short thick dash and a drawn 9 whose tail curls back under the
    dash without touching it: the dash is too stubby to be dropped as one, and the tail's
    overlap across merges the two into one box."""
    img = np.full((200, 400, 3), 255, np.uint8)
    cv2.putText(img, "35", (40, 120), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (0, 0, 0), 4)
    cv2.line(img, (200, 96), (214, 96), (0, 0, 0), 8)
    cv2.ellipse(img, (248, 80), (16, 18), 0, 0, 360, (0, 0, 0), 4)
    tail = np.array([[264, 80], [264, 110], [256, 124], [236, 128], [200, 126]])
    cv2.polylines(img, [tail], False, (0, 0, 0), 4)
    return img


def _merged(img: np.ndarray) -> tuple[Box, np.ndarray]:
    seg = segment(img)
    (box,) = [b for b in seg.ink_boxes if b.x0 > 150]
    return box, seg.ink_u8


def test_dash_merged_with_a_nine_is_read_apart_and_the_nine_kept(recogniser: Recogniser) -> None:
    img = _dash_and_nine()
    box, ink = _merged(img)
    assert box.x0 <= 200 and box.x1 >= 264  # the segmenter merged the dash and the 9
    dash, nine = component_parts(ink, box)
    assert dash.height <= 10 and dash.x1 < 225
    assert nine.height >= 65 and nine.x0 <= 202  # the 9 keeps its tail
    digits = recogniser.recognise(img).digits
    assert [d.label for d in digits] == ["3", "5", "9"]
    assert digits[2].box.x0 >= nine.x0 - 1 and digits[2].box.height >= 65


def test_without_the_strokes_read_apart_the_nine_is_lost(
    recogniser: Recogniser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recognise_service, "component_parts", lambda ink, box: None)
    assert [d.label for d in recogniser.recognise(_dash_and_nine()).digits] == ["3", "5"]


def test_training_reading_offers_no_strokes_apart() -> None:
    img = _dash_and_nine()
    box, ink = _merged(img)
    seg = segment(img)
    apart = component_parts(ink, box)
    (with_parts,) = plan_candidates(seg, boxes=[box])
    (without,) = plan_candidates(seg, boxes=[box], components=False)
    assert apart in with_parts.readings
    assert apart not in without.readings
    assert with_parts.readings[: len(without.readings)] == without.readings
    # a settled box gets its whole reading only, strokes or not
    (settled,) = plan_candidates(seg, frozenset([box]), [box])
    assert settled.readings == ((box,),)


def test_pages_read_as_the_stage_was_trained_read_no_strokes_apart() -> None:
    img = _dash_and_nine()
    box, ink = _merged(img)
    apart = set(component_parts(ink, box))
    seg = segment(img)

    def boxes_read(unions: bool) -> set[Box]:
        seen: set[Box] = set()

        def read(boxes: list[Box]) -> np.ndarray:
            seen.update(boxes)
            probs = np.zeros((len(boxes), NOT_DIGIT_INDEX + 1), np.float32)
            probs[:, 9] = 0.4  # every box unsure, so no box is settled whole
            probs[:, NOT_DIGIT_INDEX] = 0.6
            return probs

        read_segmented(seg, read, unions=unions)
        return seen

    assert apart <= boxes_read(True)
    # the context stage's training rows are read with unions=False (training/context.py)
    assert not apart & boxes_read(False)


def test_component_parts_counts_strokes_not_specks(ink_map) -> None:
    box = Box(0, 0, 80, 60)
    assert component_parts(ink_map((10, 5, 20, 55)), box) is None  # one stroke: nothing apart
    two = component_parts(ink_map((50, 5, 60, 55), (5, 25, 30, 32)), box)
    assert two == (Box(5, 25, 30, 32), Box(50, 5, 60, 55))  # left to right, own boxes
    # specks (under MIN_AREA) and bits under COMPONENT_MIN of the height are not strokes
    specks = ink_map((50, 5, 60, 55), (5, 25, 30, 32), (70, 2, 72, 4), (30, 50, 32, 57))
    assert component_parts(specks, box) == two
    four = ink_map((2, 5, 8, 55), (20, 5, 26, 55), (40, 5, 46, 55), (60, 5, 66, 55))
    assert component_parts(four, box) is None  # a scribble or a word, not two marks merged
    low = Box(0, 0, 80, MIN_HEIGHT - 1)
    assert component_parts(ink_map((5, 1, 20, 4), (40, 1, 60, 4)), low) is None


def test_component_parts_never_offers_the_box_again_and_survives_empty_boxes(ink_map) -> None:
    box = Box(0, 0, 80, 60)
    ring = ink_map((0, 0, 80, 2), (0, 58, 80, 60), (0, 0, 2, 60), (78, 0, 80, 60), (30, 10, 40, 50))
    assert component_parts(ring, box) is None  # the ring's box is the box: nothing apart
    ink = ink_map((50, 5, 60, 55), (5, 25, 30, 32))
    assert component_parts(ink, Box(10, 0, 10, 50)) is None  # no width
    assert component_parts(ink, Box(0, 60, 60, 80)) is None  # off the ink map
