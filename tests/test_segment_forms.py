"""A form's printed boxes: the frame of a row of cells (or a box round a number) is taken out of
the ink, so that its walls read as no "1"s and a digit touching a line is read on its own."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitpad.segment import segment
from digitpad.segment.forms import frame_pixels, remove_form_frames

X0, Y0, CELL_W, CELL_H = 300, 500, 56, 64


def _form(
    digits: str,
    *,
    thick: int = 2,
    scale: float = 1.6,
    dy: int = 0,
    page=(1700, 1200),
    colour=(0, 0, 0),
):
    """A white page with ``digits`` written in a Hershey font, one per cell of a row of printed
    boxes (lines ``thick`` px of ``colour``); ``dy`` moves the digits down (into the bottom
    line)."""
    w, h = page
    img = np.full((h, w, 3), 255, np.uint8)
    n = len(digits)
    cv2.rectangle(img, (X0, Y0), (X0 + n * CELL_W, Y0 + CELL_H), colour, thick)
    for k in range(1, n):
        x = X0 + k * CELL_W
        cv2.line(img, (x, Y0), (x, Y0 + CELL_H), colour, thick)
    for k, d in enumerate(digits):
        (tw, th), _ = cv2.getTextSize(d, cv2.FONT_HERSHEY_SIMPLEX, scale, 4)
        x = X0 + k * CELL_W + (CELL_W - tw) // 2
        y = Y0 + (CELL_H + th) // 2 + dy
        cv2.putText(img, d, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 4)
    return img


def test_black_frame_round_a_row_of_digits_reads_as_the_digits_alone(recogniser) -> None:
    # before: every wall read as a "1" beside its digits ("12716162712121")
    img = _form("27662722")
    assert recogniser.recognise(img).text == "27662722"  # one number: no spaces


def test_digits_touching_the_bottom_line_are_read_apart_from_the_frame(recogniser) -> None:
    img = _form("40961673", dy=9)  # the digits' feet sit on the bottom line
    result = recogniser.recognise(img)
    assert result.text == "40961673"
    # each box holds its digit only: no box reaches across a wall
    assert all(d.box.width < CELL_W for d in result.digits)


def _frame_mask(cells: int = 4, cell: int = 40, height: int = 44) -> np.ndarray:
    """A bool mask of a bare frame of ``cells`` cells, lines 2 px, with a margin of 3 px."""
    m = np.zeros((height + 6, cells * cell + 6), bool)
    m[3:5, 3 : 3 + cells * cell] = m[height + 1 : height + 3, 3 : 3 + cells * cell] = True
    for k in range(cells + 1):
        m[3 : height + 3, 3 + k * cell - (k == cells) * 2 : 5 + k * cell - (k == cells) * 2] = True
    return m


def test_frame_pixels_of_a_bare_frame_are_all_of_it() -> None:
    m = _frame_mask()
    frame, along, walls = frame_pixels(m)
    assert len(walls) == 5  # four cells
    assert (frame == m).all()
    # within the cells only: clear of the walls
    assert not along[:, 2:7].any() and along[3:5, 20:30].all()


def test_a_stroke_drawn_on_a_pale_line_stays_out_of_the_frame() -> None:
    # the bar of a 7 written on the grey top line of a cell, no thicker than the line: only
    # its darkness tells it apart
    m = _frame_mask()
    ink = np.where(m, 100, 0).astype(np.uint8)
    ink[3:5, 55:75] = 255
    frame, _, _ = frame_pixels(m, ink)
    assert not frame[3:5, 56:74].any()
    assert frame[3:5, 20:30].all()  # the rest of the line is frame
    assert frame_pixels(m)[0][3:5, 56:74].all()  # without the ink map, one line


def test_frame_is_found_and_its_pixels_are_the_lines_and_walls() -> None:
    seg = segment(_form("5038"))
    # the frame's box, in page pixels, for the reading: its digits are one number
    assert len(seg.frames) == 1 and len(seg.frames[0]) == 4
    assert abs(seg.frames[0][0].x0 - X0) <= 6
    # the frame left no box of its own, and its walls no sticks
    assert len(seg.boxes) == 4
    assert all(b.height > 20 for b in seg.boxes)


def test_a_one_standing_in_a_cell_touching_both_lines_is_no_wall() -> None:
    # a straight "1" from the top line to the bottom one, off the grid of the walls
    img = _form("5 38", thick=1)
    x = X0 + CELL_W + CELL_W // 3
    cv2.line(img, (x, Y0), (x, Y0 + CELL_H), (0, 0, 0), 5)
    seg = segment(img)
    sticks = [b for b in seg.boxes if b.width < 12 and b.height > 40]
    assert len(sticks) == 1 and abs((sticks[0].x0 + sticks[0].x1) / 2 - x) <= 3


def test_digits_and_touching_numbers_hold_no_frame() -> None:
    mask = np.zeros((60, 200), bool)
    cv2.putText(mask.view(np.uint8), "7777", (5, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.8, 1, 6)
    assert frame_pixels(mask) is None
    # a table's edge: two lines and a wall at one end only is no closed frame
    edge = np.zeros((60, 200), bool)
    edge[2:4, :] = edge[56:58, :] = True
    edge[2:58, 0:2] = True
    assert frame_pixels(edge) is None


def test_remove_form_frames_keeps_the_mask_when_there_is_no_frame() -> None:
    mask = np.zeros((80, 300), bool)
    mask[10:70, 20:26] = True
    out, frames, cells = remove_form_frames(mask, [[20, 10, 26, 70, 360]])
    assert frames is None and out is mask and cells == []


def test_training_crops_are_cut_as_before_frames_were_taken_out() -> None:
    # make model's crops come from segment(v1_crops=True): the frame stays in its mask
    img = _form("5038")
    assert len(segment(img, v1_crops=True).boxes) != len(segment(img).boxes)


@pytest.mark.parametrize("degrees", [0.8, -1.5, 3.0, -3.5])
def test_frame_finder_sees_a_frame_off_level(degrees: float, recogniser) -> None:
    # a degree in grown rows; more, levelled by a shear first (a photographed form)
    img = _form("27662722")
    rot = cv2.getRotationMatrix2D((850, 532), degrees, 1.0)
    tilted = cv2.warpAffine(img, rot, (1700, 1200), borderValue=(255, 255, 255))
    seg = segment(tilted)
    assert [len(f) for f in seg.frames] == [8]
    assert len([b for b in seg.boxes if b.width < 8]) == 0  # no wall left standing
    assert recogniser.recognise(tilted).text == "27662722"


def test_a_stroke_meeting_one_line_only_is_no_wall() -> None:
    # a box round a number: the stem of a digit standing on the bottom line in the middle,
    # clear of the top one, lies where a two-cell frame's wall would
    m = _frame_mask(cells=1, cell=160)
    m[9:47, 82:84] = True
    frame, _, _ = frame_pixels(m)
    assert not frame[12:40, 82:84].any()
    m[5:9, 82:84] = True  # meeting both lines, thin and in the middle: a two-cell frame's wall
    assert frame_pixels(m)[0][12:40, 82:84].all()


def test_an_empty_mask_holds_no_frame() -> None:
    # frame_pixels promises None for a mask without a frame; OpenCV refuses an empty array
    for shape in ((0, 0), (0, 40), (40, 0)):
        assert frame_pixels(np.zeros(shape, bool)) is None


def test_a_long_row_of_cells_is_a_frame_not_rulings(recogniser) -> None:
    # 12 cells span 40 % of the page: lines long enough for the ruling finder, which took them
    # and left every wall standing as a "1" ("121718181 1 1 1 1 1 1 1 1")
    img = _form("276627224531")
    assert recogniser.recognise(img).text == "276627224531"


def test_a_photo_of_the_field_alone_reads_its_digits(recogniser) -> None:
    # the frame spans the whole image: its lines are rulings of this page
    field = _form("27662722")[460:604, 260:788].copy()
    assert recogniser.recognise(field).text == "27662722"


def test_squared_paper_is_no_frame() -> None:
    img = np.full((400, 700, 3), 255, np.uint8)
    for x in range(0, 700, 25):
        cv2.line(img, (x, 0), (x, 399), (200, 160, 120), 1)
    for y in range(0, 400, 25):
        cv2.line(img, (0, y), (699, y), (200, 160, 120), 1)
    cv2.putText(img, "54", (40, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 40, 40), 3)
    seg = segment(img)
    assert seg.frames == []


def test_a_one_thicker_than_the_box_in_its_middle_is_no_wall(recogniser) -> None:
    # a box round "7 1 7": the 1 stands where a two-cell frame's wall would, touching both
    # lines, but it is thicker than the printed sides
    img = np.full((1200, 1700, 3), 255, np.uint8)
    cv2.rectangle(img, (300, 500), (600, 564), (0, 0, 0), 2)
    cv2.putText(img, "7", (330, 552), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 4)
    cv2.line(img, (450, 500), (450, 564), (0, 0, 0), 4)
    cv2.putText(img, "7", (530, 552), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 4)
    assert recogniser.recognise(img).text.replace(" ", "") == "717"


def test_two_long_rows_of_cells_close_above_one_another_are_two_frames(recogniser) -> None:
    # two rows of 12 cells 8 px apart: their lines are rulings, and the window round one row's
    # lines held the other row's line, so it was taken for a table and every wall read as a 1
    # ('1217161612171212141513111' on both rows)
    img = _form("276627224531", page=(1600, 1200))
    below = _form("435109861257", page=(1600, 1200))
    img[Y0 + CELL_H + 8 :] = below[Y0 : 1200 - CELL_H - 8]
    assert [len(f) for f in segment(img).frames] == [12, 12]
    assert recogniser.recognise(img).text == "276627224531\n435109861257"


def test_a_frame_on_a_page_segmented_at_a_third_reads_as_one_number(recogniser) -> None:
    # 12 px walls on a 3400x2400 page are 4-6 px where it is segmented (at 1/3): its cells are
    # 15-18 px apart in the page's pixels, and those 18 apart read as two numbers ('27662 7 2 2')
    img = np.full((2400, 3400, 3), 255, np.uint8)
    x0, y0, cw, ch = 600, 1000, 168, 192
    cv2.rectangle(img, (x0, y0), (x0 + 8 * cw, y0 + ch), (0, 0, 0), 12)
    for k in range(1, 8):
        cv2.line(img, (x0 + k * cw, y0), (x0 + k * cw, y0 + ch), (0, 0, 0), 12)
    for k, d in enumerate("27662722"):
        (tw, th), _ = cv2.getTextSize(d, cv2.FONT_HERSHEY_SIMPLEX, 4.8, 12)
        org = (x0 + k * cw + (cw - tw) // 2, y0 + (ch + th) // 2)
        cv2.putText(img, d, org, cv2.FONT_HERSHEY_SIMPLEX, 4.8, (0, 0, 0), 12)
    assert recogniser.recognise(img).text == "27662722"


def test_two_frames_side_by_side_are_two_numbers(recogniser) -> None:
    # 8 px apart on one line: their cells were taken as neighbours by their gap ('27664531')
    img = _form("2766")
    off = X0 + 4 * CELL_W + 8
    img[:, off : off + 4 * CELL_W + 4] = _form("4531")[:, X0 : X0 + 4 * CELL_W + 4]
    assert recogniser.recognise(img).text == "2766 4531"
