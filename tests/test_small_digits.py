"""A small digit written beside big ones is read: "2026" at 250 px and a "5" at 40 px reads
"20265", where the speck rule dropped the "5" (under a fifth of the page's typical height) and,
let through, the context stage read it "not a digit" (it never met a digit that small beside
big ones). Pen strokes beside a big number that hang like a quote mark or a comma stay out:
the stage read a straight one hanging from the top of the line as a "1".
"""

from __future__ import annotations

import numpy as np
import pytest

import digitpad.recognise_service as recognise_service
from digitpad.context import FEATURES, SMALL_DIGIT_PX, hanging_marks, small_digits
from digitpad.recognise_service import Recogniser
from digitpad.segment import segment
from digitpad.training.data import synth_glyph
from digitpad.types import CLASSES, NOT_DIGIT_INDEX

F = {name: k for k, name in enumerate(FEATURES)}
# (big number, small number, height of the big digits): the small ones are a fifth as tall
LAYOUTS = [("2026", "5", 300), ("739", "18", 250), ("48", "6", 400), ("2026", "31", 200)]
SHARE = 0.2


def _row(pieces: list[tuple[np.ndarray, str]], height: int) -> np.ndarray:
    """Black on white: ``pieces`` (ink crop, where) left to right, bottoms on one baseline
    ("base"), hanging from the top of the big digits' band ("top"), or reaching an eighth of
    ``height`` below the baseline ("below")."""
    gap = height // 5
    ink = np.zeros((3 * height, sum(p.shape[1] for p, _ in pieces) + gap * len(pieces) + 160))
    x, base = 80, 2 * height
    for p, where in pieces:
        y = {"base": base, "top": base - height + p.shape[0], "below": base + height // 8}[where]
        y -= p.shape[0]
        region = ink[y : y + p.shape[0], x : x + p.shape[1]]
        np.maximum(region, p, out=region)
        x += p.shape[1] + gap
    return (255 * (1 - ink)).clip(0, 255).astype(np.uint8)


def _number_page(big: str, small: str, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pieces = [(synth_glyph(d, height, rng), "base") for d in big]
    pieces += [(synth_glyph(d, int(height * SHARE), rng), "base") for d in small]
    return _row(pieces, height)


def _reads(recogniser: Recogniser, seeds: range) -> int:
    return sum(
        recogniser.recognise(_number_page(big, small, h, seed)).text.replace("\n", "")
        == big + small
        for seed in seeds
        for big, small, h in LAYOUTS
    )


def test_small_digits_beside_big_ones_are_read(recogniser, monkeypatch) -> None:
    seeds = range(100, 108)  # the rule's levels were chosen on seeds 0-7
    read = _reads(recogniser, seeds)  # 26 of 32 with the shipped model
    assert read >= 22, f"{read} of 32 pages read exactly"
    # the stage's reading alone loses them: the rule is what reads them
    monkeypatch.setattr(
        recognise_service, "small_digits", lambda rows, staged: np.zeros(len(rows), bool)
    )
    assert _reads(recogniser, seeds) <= 14  # 9 with the shipped model


def _stroke_pages(where: str, seeds: range) -> list[np.ndarray]:
    """A handwritten "2026" at 250 px and a straight pen stroke a quarter as tall after it (the
    generator's "1", which the classifier reads a sure "1"), hanging from the top of the digits'
    band like a quote mark or an apostrophe ("top"), or reaching below their baseline like a
    comma ("below")."""
    pages = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        pieces = [(synth_glyph(d, 250, rng), "base") for d in "2026"]
        pages.append(_row([*pieces, (synth_glyph("1", 62, rng), where)], 250))
    return pages


@pytest.mark.parametrize("where", ["top", "below"])
def test_quote_marks_and_commas_beside_a_big_number_stay_out(recogniser, where: str) -> None:
    read = sum(recogniser.recognise(p).text == "2026" for p in _stroke_pages(where, range(10)))
    # with the shipped model: 10 and 9; without the rule for hanging marks, "top" reads 1; with
    # the small digits' rule blind to the baseline, "below" reads 1
    assert read >= 8, f"{read} of 10 pages read 2026"


def test_the_segmenter_keeps_a_small_digit_and_v1_crops_drop_it() -> None:
    rng = np.random.default_rng(3)
    five = synth_glyph("5", 48, rng)
    page = _row([*((synth_glyph(d, 300, rng), "base") for d in "2026"), (five, "base")], 300)
    rgb = np.repeat(page[:, :, None], 3, axis=2)
    assert len(segment(rgb).ink_boxes) == 5
    # training cuts its crops as the shipped weights saw them: the "5" was a speck then
    assert len(segment(rgb, v1_crops=True).ink_boxes) == 4


def _row_of(**features: float) -> tuple[np.ndarray, np.ndarray]:
    """One context row: the classifier reads a sure "5", the stage "not a digit"; the features
    say a small digit on its row's baseline, clear of its neighbours, unless ``features`` say
    otherwise."""
    probs = np.full(len(CLASSES), 0.002, np.float32)
    probs[5] = 1 - 0.002 * (len(CLASSES) - 1)
    values = {
        "log_height_px": np.log(SMALL_DIGIT_PX + 20),
        "log_height_vs_row": np.log(0.16),
        "neighbour_gap": 1.0,
        "bottom_vs_row": 0.0,
        "is_part": 0.0,
        **features,
    }
    f = np.zeros(len(FEATURES), np.float32)
    for name, v in values.items():
        f[F[name]] = v
    staged = np.full((1, len(CLASSES)), 0.01, np.float32)
    staged[0, NOT_DIGIT_INDEX] = 0.9
    return np.concatenate([probs, f])[None, :], staged


def test_a_small_sure_digit_on_the_baseline_keeps_the_classifier_reading() -> None:
    rows, staged = _row_of()
    assert small_digits(rows, staged).tolist() == [True]


@pytest.mark.parametrize(
    "features",
    [
        {"neighbour_gap": 0.1},  # a letter in a word: its neighbour is close
        {"bottom_vs_row": -0.6},  # hanging at the top: a quote mark, an apostrophe
        {"bottom_vs_row": 0.12},  # reaching below the line: a comma
        {"log_height_px": np.log(SMALL_DIGIT_PX - 4)},  # a speck's size
        {"log_height_vs_row": np.log(0.7)},  # as tall as its row: the stage knows those
        {"is_part": 1.0},  # a part of a cut
    ],
)
def test_other_small_boxes_keep_the_stage_reading(features: dict[str, float]) -> None:
    rows, staged = _row_of(**features)
    assert small_digits(rows, staged).tolist() == [False]


def test_an_unsure_classifier_or_a_digit_from_the_stage_is_left_alone() -> None:
    rows, staged = _row_of()
    unsure = rows.copy()
    unsure[0, 5], unsure[0, 3] = 0.6, 0.3
    assert small_digits(unsure, staged).tolist() == [False]
    agrees = staged.copy()
    agrees[0, NOT_DIGIT_INDEX], agrees[0, 5] = 0.1, 0.8
    assert small_digits(rows, agrees).tolist() == [False]


HANGING = {"bottom_vs_row": -0.7, "neighbour_height": 3.0, "neighbour_gap": 0.7}


def test_a_mark_hanging_from_the_top_of_its_row_is_no_digit() -> None:
    rows, _ = _row_of(**HANGING)
    staged = rows[:, : len(CLASSES)]  # the stage reads the sure "5" of the classifier
    assert hanging_marks(rows, staged).tolist() == [True]
    not_digit = np.zeros_like(staged)
    not_digit[0, NOT_DIGIT_INDEX] = 1.0
    assert hanging_marks(rows, not_digit).tolist() == [False]


@pytest.mark.parametrize(
    "features",
    [
        {"bottom_vs_row": -0.3},  # on the line, a little high
        {"log_height_vs_row": np.log(0.7)},  # as tall as its row
        {"is_part": 1.0},
        # a number of its own size beside it: smaller digits written higher than a bigger
        # number further along the page, which sets the row
        {"neighbour_height": 1.0},
        {"neighbour_gap": 2.0},  # nothing big close by
    ],
)
def test_other_high_boxes_are_not_hanging_marks(features: dict[str, float]) -> None:
    rows, _ = _row_of(**{**HANGING, **features})
    assert hanging_marks(rows, rows[:, : len(CLASSES)]).tolist() == [False]


def _two_numbers(seed: int) -> np.ndarray:
    """ "48" at 100 px, then far to its right "2026184" at 250 px with its baseline 140 px
    lower: the big number sets the row of the small one, which stands high in it."""
    rng = np.random.default_rng(seed)
    ink = np.zeros((800, 2400))
    x = 100
    for d in "48":
        g = synth_glyph(d, 100, rng)
        ink[400 - g.shape[0] : 400, x : x + g.shape[1]] = g
        x += g.shape[1] + 30
    x = 700
    for d in "2026184":
        g = synth_glyph(d, 250, rng)
        ink[540 - g.shape[0] : 540, x : x + g.shape[1]] = g
        x += g.shape[1] + 60
    return (255 * (1 - ink)).clip(0, 255).astype(np.uint8)


def test_a_smaller_number_written_higher_than_a_bigger_one_is_read(recogniser) -> None:
    # the rule without its neighbour test lost the "48" (or a digit of it) on 5 of 6 pages
    read = [recogniser.recognise(_two_numbers(seed)).text for seed in range(4, 10)]
    assert sum(t.replace(" ", "").replace("\n", "") == "482026184" for t in read) >= 5, read
