"""A "1" drawn over the edge of its neighbour is one box with it, read "not a digit" or as the
neighbour alone; a cut beside the stem (``segment.stem_cuts``) is then a fallback reading
(``choose.decide``)."""

from __future__ import annotations

import numpy as np
import pytest

import digitpad.choose as choose
import digitpad.recognise_service as recognise_service
from digitpad.choose import (
    STEM_BESIDE_ONE,
    STEM_REST_DOUBT,
    STEM_REST_SURE,
    STEM_WHOLE_MAX,
    Candidate,
    decide,
    stem_boxes,
)
from digitpad.recognise_service import Recogniser, plan_candidates, read_segmented
from digitpad.segment import MIN_HEIGHT, segment, split_candidates, stem_cuts
from digitpad.segment.split import STEM_MAX_ASPECT, STEM_MIN_SPAN
from digitpad.synth.pages import generate_page, page_seed
from digitpad.types import NOT_DIGIT_INDEX, Box

# generated pages where a "1" stands inside its neighbour's box, which the shipped model reads
# exactly only with the stem cuts: (seed, page index, ink on paper). They depend on the model,
# so a new shipped model needs them chosen again (the search and the pages of the model before:
# benchmarks/HISTORY.md, 2026-12-07 evening)
LOST_ONES = [(13200000, 17, "black on squared"), (13200000, 37, "black on ruled")]
# a "1" drawn over the stem of a 4 (the pair looks like "1k"): the model shipped before
# 2026-12-07 (evening) read it, at 0.32; the one shipped since reads its stem part "not a
# digit". Kept as a known loss, so that a model that reads it again says so.
LOST_WITH_THIS_MODEL = pytest.param(
    13200000,
    24,
    "blue on ruled",
    marks=pytest.mark.xfail(strict=True, reason="the 1 of '1k' is lost (HISTORY, 2026-12-07)"),
)


def test_stem_cuts_part_a_stem_at_either_side(ink_map) -> None:
    box = Box(0, 0, 80, 60)
    # a stem at the left, then a digit's bowl joined to it by a thin bar
    left = ink_map((4, 2, 10, 58), (10, 30, 22, 32), (22, 10, 70, 50))
    cuts = stem_cuts(left, box)
    assert cuts, "a stem beside the rest is cut off"
    for stem, rest in cuts:
        assert stem.x0 == 4 and stem.width <= STEM_MAX_ASPECT * stem.height
        assert stem.height >= STEM_MIN_SPAN * box.height and rest.x1 == 70
    # the same mirrored: the stem is the right part, parts still left to right
    right = stem_cuts(left[:, ::-1].copy(), box)
    assert right
    for rest, stem in right:
        assert stem.x1 == 76 and rest.x0 == 10


def test_stem_cuts_keep_only_stems(ink_map) -> None:
    box = Box(0, 0, 80, 60)
    # a short mark at the side (under STEM_MIN_SPAN of the box) is no stem
    assert stem_cuts(ink_map((4, 30, 10, 58), (10, 40, 22, 42), (22, 10, 70, 50)), box) == []
    # a box too narrow for two digits, or too low, gets none
    narrow = ink_map((4, 2, 10, 58), (10, 30, 22, 32), (22, 10, 30, 50))
    assert stem_cuts(narrow, Box(0, 0, 30, 60)) == []
    low = Box(0, 0, 80, MIN_HEIGHT - 1)
    assert stem_cuts(ink_map((4, 0, 6, MIN_HEIGHT - 1), (10, 2, 70, 5)), low) == []
    # off the ink map: no cut of either kind (the ink profile of an empty crop is no profile)
    assert stem_cuts(ink_map((4, 2, 10, 58)), Box(100, 0, 160, 60)) == []
    assert split_candidates(ink_map((4, 2, 10, 58)), Box(100, 0, 160, 60)) == []


def test_stem_cuts_leave_a_letters_corner(ink_map) -> None:
    box = Box(0, 0, 80, 60)
    # a П: the rest (bar and right leg) meets the stem only at its top
    pe = ink_map((4, 2, 10, 58), (10, 2, 60, 8), (54, 2, 60, 58))
    assert stem_cuts(pe, box) == []
    # a Ш upside down is the same at the bottom; a bar met halfway down is no corner
    assert stem_cuts(pe[::-1].copy(), box) == []
    assert stem_cuts(pe[:, ::-1].copy(), box) == []  # the corner at the right side
    assert stem_cuts(ink_map((4, 2, 10, 58), (10, 28, 60, 34), (54, 2, 60, 58)), box)


def _probs(*rows: dict[int, float]) -> np.ndarray:
    out = np.full((len(rows), NOT_DIGIT_INDEX + 1), 0.001, np.float32)
    for i, row in enumerate(rows):
        for k, p in row.items():
            out[i, k] = p
    return out


def test_a_stem_cut_is_read_only_when_the_box_loses_ink_and_both_parts_read_surely() -> None:
    whole, stem, rest = Box(0, 0, 40, 40), Box(0, 0, 8, 40), Box(8, 0, 40, 40)
    cand = Candidate(whole, ((whole,),), fallbacks=((stem, rest),))
    boxes = [whole, stem, rest]
    nd = NOT_DIGIT_INDEX
    lost = _probs({nd: 0.95}, {1: 0.45, nd: 0.5}, {3: 0.99})
    assert [b for b, _ in decide([cand], boxes, lost)] == [stem, rest]
    # the box read as a digit loses nothing: the fallback is never tried for lost ink (and the
    # rest reads less surely than the whole, so it is no "1" beside the 3 either)
    read = _probs({3: 0.99}, {1: 0.99}, {3: 0.98})
    assert [b for b, _ in decide([cand], boxes, read)] == [whole]
    # the rest under STEM_REST_SURE, or the stem read best as another digit: no fallback
    unsure = _probs({nd: 0.95}, {1: 0.9}, {3: STEM_REST_SURE - 0.05, nd: 0.04})
    assert [b for b, _ in decide([cand], boxes, unsure)] == [whole]
    seven = _probs({nd: 0.95}, {7: 0.6, 1: 0.3}, {3: 0.99})
    assert [b for b, _ in decide([cand], boxes, seven)] == [whole]
    # without fallbacks a candidate reads as it always did
    assert [b for b, _ in decide([Candidate(whole, ((whole,),))], boxes, lost)] == [whole]


def test_stem_boxes_are_those_not_read_surely_as_one_digit() -> None:
    sure, unsure, lost = Box(0, 0, 9, 9), Box(10, 0, 19, 9), Box(20, 0, 29, 9)
    nd = NOT_DIGIT_INDEX
    probs = _probs({3: STEM_WHOLE_MAX + 0.001}, {3: STEM_WHOLE_MAX - 0.001}, {nd: 0.9})
    assert stem_boxes([sure, unsure, lost], probs) == frozenset([unsure, lost])


def test_a_one_beside_the_digit_a_box_reads_whole_is_cut_off() -> None:
    whole, stem, rest = Box(0, 0, 40, 40), Box(32, 0, 40, 40), Box(0, 0, 30, 40)
    cand = Candidate(whole, ((whole,),), fallbacks=((rest, stem),))
    boxes = [whole, stem, rest]
    nd = NOT_DIGIT_INDEX

    def read(
        whole_p: dict[int, float], stem_p: dict[int, float], rest_p: dict[int, float]
    ) -> list[tuple[Box, np.ndarray]]:
        return decide([cand], boxes, _probs(whole_p, stem_p, rest_p))

    # "21": read "2" whole, the rest "2" more surely, the stem "1" though doubted
    parts = read({2: 0.96}, {1: STEM_BESIDE_ONE + 0.05, nd: 0.8}, {2: 0.99})
    assert [b for b, _ in parts] == [rest, stem]
    assert parts[1][1][nd] == 0.0 and parts[0][1][2] == pytest.approx(0.99)
    # the rest reads less surely than the whole: the stem was the digit's own (a 4's upright);
    # or hardly more surely, with more than STEM_REST_DOUBT of the whole's doubt
    assert [b for b, _ in read({4: 0.99}, {1: 0.6}, {4: 0.95})] == [whole]
    doubt = STEM_REST_DOUBT * (1.0 - 0.9)
    assert [b for b, _ in read({4: 0.9}, {1: 0.6}, {4: 1.0 - 1.2 * doubt})] == [whole]
    assert [b for b, _ in read({4: 0.9}, {1: 0.6}, {4: 1.0 - 0.8 * doubt})] == [rest, stem]
    # the rest reads another digit, or under STEM_REST_SURE; the stem reads "7" best, or "1"
    # under STEM_BESIDE_ONE: kept whole
    for whole_p, stem_p, rest_p in [
        ({2: 0.6, 0: 0.3}, {1: 0.5}, {0: 0.99}),
        ({2: 0.6}, {1: 0.5}, {2: STEM_REST_SURE - 0.01}),
        ({2: 0.6}, {7: 0.5, 1: 0.3}, {2: 0.99}),
        ({2: 0.6}, {1: STEM_BESIDE_ONE - 0.01, nd: 0.9}, {2: 0.99}),
    ]:
        assert [b for b, _ in read(whole_p, stem_p, rest_p)] == [whole]


def test_of_several_stems_beside_the_digit_the_surest_is_cut_off() -> None:
    # "121" read "2": a stem at either side; each alone qualifies, the surer cut wins
    whole, left, rest_l = Box(0, 0, 60, 40), Box(0, 0, 8, 40), Box(10, 0, 60, 40)
    right, rest_r = Box(52, 0, 60, 40), Box(0, 0, 50, 40)
    cand = Candidate(whole, ((whole,),), fallbacks=((left, rest_l), (rest_r, right)))
    boxes = [whole, left, rest_l, right, rest_r]
    probs = _probs({2: 0.8}, {1: 0.3}, {2: 0.95}, {1: 0.6}, {2: 0.97})
    assert [b for b, _ in decide([cand], boxes, probs)] == [rest_r, right]
    probs = _probs({2: 0.8}, {1: 0.9}, {2: 0.99}, {1: 0.6}, {2: 0.97})
    assert [b for b, _ in decide([cand], boxes, probs)] == [left, rest_l]
    # a split that wins is kept: the stem cut replaces only the box kept whole
    a, b = Box(0, 0, 28, 40), Box(30, 0, 60, 40)
    split = Candidate(whole, ((whole,), (a, b)), fallbacks=((left, rest_l),))
    probs = _probs({2: 0.8}, {1: 0.9}, {2: 0.99}, {1: 0.99}, {2: 0.99})
    assert [x for x, _ in decide([split], [whole, left, rest_l, a, b], probs)] == [a, b]


def _page(seed: int, index: int):
    return generate_page(page_seed(seed, index))


@pytest.mark.parametrize(("seed", "index", "kind"), [*LOST_ONES, LOST_WITH_THIS_MODEL])
def test_a_one_inside_its_neighbours_box_is_read(
    recogniser: Recogniser, monkeypatch: pytest.MonkeyPatch, seed: int, index: int, kind: str
) -> None:
    page = _page(seed, index)
    assert f"{page.meta['ink']} on {page.meta['ruling']}" == kind

    def found_all() -> bool:
        digits = recogniser.recognise(page.image).digits
        return all(
            any(d.label == t.label and d.box.iou(t.box) >= 0.5 for d in digits) for t in page.digits
        )

    assert found_all()
    monkeypatch.setattr(recognise_service, "stem_cuts", lambda ink, box: [])
    assert not found_all()


# generated pages where a "1" that its neighbour's stroke runs into is read as part of it unless
# the stem is cut off (STEM_BESIDE_ONE): "21" with the 2's tail under the 1, and a page of the
# fresh sets. Chosen with the shipped model, like LOST_ONES.
ONES_IN_DIGITS = [(32000000, 126, "black on squared"), (9600000, 29, "blue on ruled")]


@pytest.mark.parametrize(("seed", "index", "kind"), ONES_IN_DIGITS)
def test_a_one_that_a_digit_runs_into_is_read(
    recogniser: Recogniser, monkeypatch: pytest.MonkeyPatch, seed: int, index: int, kind: str
) -> None:
    page = _page(seed, index)
    assert f"{page.meta['ink']} on {page.meta['ruling']}" == kind

    def found(label: str | None = None) -> int:
        digits = recogniser.recognise(page.image).digits
        return sum(
            any(d.label == t.label and d.box.iou(t.box) >= 0.5 for d in digits)
            for t in page.digits
            if label in (None, t.label)
        )

    ones = sum(t.label == "1" for t in page.digits)
    assert found() == len(page.digits)  # the page reads exactly: no digit lost, none added
    assert len(recogniser.recognise(page.image).digits) == len(page.digits)
    monkeypatch.setattr(choose._Scores, "stem_beside", lambda self, box, fallbacks: None)
    assert found("1") < ones


def test_training_reading_offers_no_stem_cuts(monkeypatch: pytest.MonkeyPatch) -> None:
    seg = segment(_page(*LOST_ONES[0][:2]).image)
    asked: list[Box] = []

    def counting(ink: np.ndarray, box: Box) -> list[tuple[Box, Box]]:
        asked.append(box)
        return stem_cuts(ink, box)

    def read(boxes: list[Box]) -> np.ndarray:
        probs = np.zeros((len(boxes), NOT_DIGIT_INDEX + 1), np.float32)
        probs[:, NOT_DIGIT_INDEX] = 1.0  # every box "not a digit": every box may hide a 1
        return probs

    monkeypatch.setattr(recognise_service, "stem_cuts", counting)
    # the context stage's training rows are read with unions=False (training/context.py)
    read_segmented(seg, read, unions=False)
    assert asked == []
    read_segmented(seg, read, unions=True)
    assert set(asked) == set(seg.ink_boxes)
    (cand,) = plan_candidates(seg, boxes=[seg.ink_boxes[0]])
    assert cand.fallbacks == ()  # offered only for the boxes named in ``stems``
