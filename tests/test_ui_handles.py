"""Which resize handle a press takes: a small box on the screen is still moved by a press on it
(helper-50 found a selected "1", 8 px wide at normal zoom, stretched by a drag from its middle)."""

from __future__ import annotations

import pytest

from digitpad.ui.handles import handle_at

REACH = 7


@pytest.mark.parametrize("width", [4, 8, 14, 20])
def test_a_press_in_the_middle_of_a_narrow_box_moves_it(width):
    box = (100, 100, 100 + width, 260)  # a "1": narrow and tall on the screen
    assert handle_at(box, 100 + width / 2, 180, REACH) is None


def test_a_tiny_box_is_moved_from_inside_and_resized_from_outside():
    box = (100, 100, 108, 108)
    assert handle_at(box, 104, 104, REACH) is None
    assert handle_at(box, 97, 97, REACH) == "nw"
    assert handle_at(box, 111, 111, REACH) == "se"
    assert handle_at(box, 111, 104, REACH) == "e"
    assert handle_at(box, 104, 96, REACH) == "n"


def test_a_big_box_takes_its_handles_from_either_side_of_the_edge():
    box = (100, 100, 300, 300)
    assert handle_at(box, 104, 104, REACH) == "nw"
    assert handle_at(box, 95, 95, REACH) == "nw"
    assert handle_at(box, 296, 200, REACH) == "e"
    assert handle_at(box, 200, 306, REACH) == "s"
    assert handle_at(box, 200, 200, REACH) is None
    assert handle_at(box, 108, 200, REACH) is None  # past the handle's reach inside
    assert handle_at(box, 92, 200, REACH) is None  # past it outside


def test_the_middle_handles_of_a_narrow_box_still_resize_its_height():
    box = (100, 100, 108, 260)
    assert handle_at(box, 104, 98, REACH) == "n"
    assert handle_at(box, 104, 104, REACH) == "n"  # a tall box keeps its grip inside the top
    assert handle_at(box, 104, 263, REACH) == "s"


def test_a_span_out_of_view_is_shifted_just_into_it():
    from digitpad.ui.canvas_view import shift_into_view

    assert shift_into_view(100, 200, 800, 24) == 0  # in view: stays
    assert shift_into_view(-300, -200, 800, 24) == 324  # left of it: to the margin
    assert shift_into_view(2000, 2100, 800, 24) == 800 - 24 - 2100
    assert shift_into_view(-500, 1500, 800, 24) == 400 - 500  # wider than the view: centred
