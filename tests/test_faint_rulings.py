"""Faint rulings: runs of one that fades in stretches chain into a line (segment.runs._chains),
and a grid too pale to find is looked for again where boxes span the page (segment.segment)."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment import remove_lines, segment
from digitpad.segment.runs import _chains
from digitpad.training.drawn import draw_page


def _broken_lines(h: int, w: int, ys: list[int], piece: int, gap: int, slope: float = 0.0):
    """A mask of horizontal lines 2 px thick, each broken into ``piece`` px runs ``gap`` apart
    (staggered from line to line), rising ``slope`` px per px."""
    mask = np.zeros((h, w), np.uint8)
    for i, y in enumerate(ys):
        x = (i * 37) % (piece + gap)
        while x < w:
            x1 = min(w - 1, x + piece)
            cv2.line(mask, (x, round(y + slope * x)), (x1, round(y + slope * x1)), 1, 2)
            x += piece + gap
    return mask.astype(bool)


def test_a_ruling_broken_into_short_runs_is_still_a_line() -> None:
    # runs of 120 px on a 1000 px page: none spans the 20 % a ruling's run must
    lines = _broken_lines(700, 1000, list(range(40, 700, 40)), piece=120, gap=25)
    stroke = np.zeros_like(lines)
    stroke[100:180, 500:504] = True  # an upright stroke crossing two of them
    cleaned, removed = remove_lines(lines | stroke)
    assert removed is not None
    assert cleaned[lines & ~stroke].mean() < 0.05
    assert cleaned[stroke].mean() > 0.95
    # as when the shipped weights' training crops were cut, the pieces stay
    assert remove_lines(lines | stroke, v1=True)[1] is None


def test_a_tilted_broken_ruling_chains_but_neighbours_do_not_mix() -> None:
    # a page turned by 0.6 degrees: each run sits a pixel or two lower than the last
    ys = list(range(30, 650, 32))
    lines = _broken_lines(700, 1000, ys, piece=110, gap=30, slope=0.01)
    cleaned, removed = remove_lines(lines)
    assert removed is not None and cleaned[lines].mean() < 0.05
    # one chain per ruling, each of one ruling's runs only: the rulings are 32 px apart, the
    # runs of one 1-3 px off each other's line
    _, _, stats, _ = cv2.connectedComponentsWithStats(lines.view(np.uint8), connectivity=8)
    chains = _chains(stats, np.zeros(len(stats), bool), True, 1000)
    assert len(chains) == len(ys)
    for chain in chains:
        left = stats[chain, 1] - 0.01 * stats[chain, 0]  # each run's top, turned back level
        assert np.ptp(left) <= 2


def test_a_few_underlines_in_a_row_are_no_ruling() -> None:
    # three numbers underlined on one line of a plain page: they chain, but a page with fewer
    # than four lines keeps only lines a third of its width long
    lines = _broken_lines(700, 1000, [300], piece=150, gap=40)
    lines[:, 600:] = False
    _, _, stats, _ = cv2.connectedComponentsWithStats(lines.view(np.uint8), connectivity=8)
    assert len(_chains(stats, np.zeros(len(stats), bool), True, 1000)) == 1
    cleaned, removed = remove_lines(lines)
    assert removed is None and cleaned[lines].all()


def test_on_a_narrow_crop_a_chained_bar_is_no_line() -> None:
    # a crop 500 px wide: a bar 160 px long (a third of the width) and 8 px thick, and a dash
    # further along it, chain; with fewer than four lines a chain is no line, however long
    # its first run, which as a run alone is too thick for its length to be a ruling
    mask = np.zeros((120, 500), bool)
    mask[56:64, 100:260] = True
    mask[58:62, 290:350] = True
    cleaned, removed = remove_lines(mask)
    assert removed is None and cleaned[mask].all()


def test_digits_on_faint_squared_paper_are_boxed_alone() -> None:
    page = draw_page(5, width=1000, height=700, n_digits=14, digit_height=(30, 45))
    grid = np.full_like(page.image, 255)
    rng = np.random.default_rng(0)
    for y in range(17, 700, 37):
        cv2.line(grid, (0, y), (999, y), (168, 186, 222), 2)
    for x in range(11, 1000, 37):
        cv2.line(grid, (x, 0), (x, 699), (168, 186, 222), 2)
    # the grid fades out for 20-40 px every 100-140 px along each line, as pale print does
    fade = np.ones((700, 1000), bool)
    for y in range(17, 700, 37):
        x = int(rng.integers(0, 100))
        while x < 1000:
            fade[y - 2 : y + 3, x : x + int(rng.integers(20, 41))] = False
            x += int(rng.integers(100, 141))
    for x in range(11, 1000, 37):
        y = int(rng.integers(0, 100))
        while y < 700:
            fade[y : y + int(rng.integers(20, 41)), x - 2 : x + 3] = False
            y += int(rng.integers(100, 141))
    grid[~fade] = 255
    seg = segment(np.minimum(page.image, grid))
    truth = [a.box for a in page.digits]
    boxed = sum(any(b.iou(t) >= 0.5 for b in seg.boxes) for t in truth)
    assert boxed == len(truth)
    # and nothing is as big as two of the grid's squares
    assert all(b.width < 74 and b.height < 74 for b in seg.boxes)


def test_rulings_fainter_than_the_low_threshold_are_looked_for_again() -> None:
    from digitpad.segment import FAINT_U8, LOW_U8

    # a grid 40 px square whose ink sits between FAINT_U8 and LOW_U8 but where the lines
    # cross (darker there, as two lines of ink over each other), and an upright stroke
    ink = np.zeros((600, 800), np.uint8)
    level = (FAINT_U8 + LOW_U8) // 2
    ink[20::40, :] = level
    ink[:, 20::40] = level
    ink[20::40, 20::40] = LOW_U8 + 20
    ink[100:180, 305:309] = 220
    mask = ink > LOW_U8
    cleaned, removed = remove_lines(mask, ink=ink, faint=FAINT_U8)
    assert removed is not None and not (removed & ~mask).any()  # only the mask's ink goes
    assert not cleaned[20::40, 20::40].any()  # the crossings went with their lines
    assert cleaned[100:180, 305:309].all()
    # looked for at the low threshold only, the crossings are dots and no line is found
    assert remove_lines(mask, ink=ink)[1] is None
    # a page with no rulings is not changed by the second look
    plain = np.zeros_like(ink)
    plain[100:180, 305:309] = 220
    assert remove_lines(plain > LOW_U8, ink=plain, faint=FAINT_U8)[1] is None
    # nor is a strip under FAINT_MIN_SIDE, or a table's page
    strip = ink[:300]
    assert remove_lines(strip > LOW_U8, ink=strip, faint=FAINT_U8)[1] is None
    assert remove_lines(mask, ink=ink, faint=FAINT_U8, tables=True)[1] is None


def test_a_grid_too_pale_to_find_is_looked_for_again_where_boxes_span_the_page() -> None:
    from digitpad.synth.pages import generate_page, page_seed

    # pencil on a pale squared page (20.6 M page 181): at the mask's low level the grid is
    # found nowhere, and its darker stretches joined the digits into boxes as tall as the page
    page = generate_page(page_seed(20_600_000, 181))
    seg = segment(page.image)
    h, w = page.image.shape[:2]
    assert not [b for b in seg.boxes if b.height >= 0.6 * h or b.width >= 0.6 * w]
    truth = [a.box for a in page.digits]
    # 8 of the 32 before the second look
    assert sum(any(b.iou(t) >= 0.5 for b in seg.boxes) for t in truth) >= 24
    # on the chained page (9.9 M page 108) 7 of 21 were boxed before the chains, 20 now
    page = generate_page(page_seed(9_900_000, 108))
    seg = segment(page.image)
    truth = [a.box for a in page.digits]
    assert sum(any(b.iou(t) >= 0.5 for b in seg.boxes) for t in truth) >= 19


def test_only_a_page_with_a_box_across_it_is_segmented_again(monkeypatch) -> None:
    import digitpad.segment as segment_module
    from benchmarks.recognise_bench import drawn_row
    from digitpad.synth.pages import generate_page, page_seed

    looks: list[bool] = []
    work = segment_module._segment_work

    def counted(*args, faint: bool):
        looks.append(faint)
        return work(*args, faint=faint)

    monkeypatch.setattr(segment_module, "_segment_work", counted)
    # the page a second look on every page without rulings lost (21.5 M page 95), a plain
    # page of digits, a row cut tight round its digits (they span the strip) and one digit
    # as tall as most of a canvas (no line in its fainter ink) are segmented once; the pale
    # squares of 20.6 M page 181 twice
    big = draw_page(0, width=1000, height=700, n_digits=1, digit_height=(450, 600))
    assert max(b.height for b in segment(big.image).boxes) >= 0.6 * 700
    cases = (
        (generate_page(page_seed(21_500_000, 95)).image, [False]),
        (draw_page(3, n_digits=12).image, [False]),
        (drawn_row(0).image[30:130], [False]),
        (big.image, [False]),
        (generate_page(page_seed(20_600_000, 181)).image, [False, True]),
    )
    for image, want in cases:
        looks.clear()
        segment(image)
        assert looks == want
